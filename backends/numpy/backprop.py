"""One training step's loss and gradients: the forward with caches, the
compiled losses (weighted per output), the regularizer penalties, then every
node's gradient in reverse execution order."""

from __future__ import annotations

import numpy as np

from spec2net import ir
from spec2net.registry import LAYERS, REGISTRIES

from .base import KernelCall
from .grads import GRADS, PRE_ACTIVATION, Grads
from .interpreter import forward
from .losses import loss_and_grad
from .regularizers import penalty


def _logits(ref: ir.Ref, tensor: ir.Tensor, caches: dict):
    """The pre-activation behind a sigmoid/softmax output, which Keras's cross-entropies read."""
    node = tensor.producer
    wanted = REGISTRIES["loss"][ref.name].logits_of  # the registry's fact, "" for a loss that reads none
    if node is None or not wanted:  # Keras takes them even under from_logits=true (and warns)
        return None
    pre = PRE_ACTIVATION.get(node.layer.type)  # only layers ending in an activation have one
    if pre is None or LAYERS[node.layer.type].output_activation(node.layer.args) != wanted:
        return None
    return pre(caches[node])


def trainable_keys(model: ir.Model) -> list[str]:
    return [layer.name + "/" + p.name for layer in model.layers if layer.trainable
            for p in layer.params if p.trainable]


def compiled_loss(model: ir.Model, values, masks, caches, targets, w):
    """The loss Keras reports from a forward's values: the loss_weights-weighted outputs' losses,
    activity penalties (divided by the batch size, as Keras does) and weight penalties; with the
    gradients the first two send into tensors and logits."""
    comp = model.compile
    g_tensor: dict = {}
    g_logits: dict = {}
    total, per_output = 0.0, {}
    for out in model.outputs:
        ref, lw = comp.loss[out.name], comp.loss_weights[out.name]
        t = out.tensor
        value, gp, gl = loss_and_grad(ref, np.asarray(targets[out.name]), values[t], _logits(ref, t, caches),
                                      masks.get(t))
        per_output[out.name] = value
        total += lw * value
        if gp is not None:
            g_tensor[t] = g_tensor.get(t, 0) + lw * gp
        if gl is not None:
            g_logits[t.producer] = g_logits.get(t.producer, 0) + lw * gl
    for node in model.nodes:
        # absent, not defaulted: only the layers with weights have an activity_regularizer argument
        ref = node.layer.args.get("activity_regularizer")
        for t in node.outputs if ref is not None else ():
            value, g = penalty(ref, values[t])
            batch = values[t].shape[0]
            total += value / batch
            g_tensor[t] = g_tensor.get(t, 0) + g / batch
    for layer in model.layers:  # weight penalties, on the weights this step started from
        for p in layer.params:
            total += penalty(p.regularizer, w[layer.name + "/" + p.name])[0]
    return total, per_output, g_tensor, g_logits


def loss_and_grads(model: ir.Model, weights: dict, inputs: dict, targets: dict, seed=None,
                   dtype=np.float32, training=True, output_masks: dict | None = None):
    """``(loss, {output: loss}, grads, state, predictions)`` for one batch.

    ``loss`` is what Keras's fit minimizes and reports: the loss_weights-weighted
    sum of each output's loss plus every regularization penalty; ``grads`` are
    d loss / d weight for the trainable weights; ``state`` holds updated
    batch-norm moving statistics. ``output_masks``, where given, receives each output's Keras
    mask (None where it has none), which Keras's metrics weight their values by.
    """
    values, masks, caches, state = forward(model, inputs, weights, training, seed, dtype, keep=True)
    if output_masks is not None:
        output_masks.update({o.name: masks.get(o.tensor) for o in model.outputs})
    w = {k: np.asarray(v, dtype) for k, v in weights.items()}
    total, per_output, g_tensor, g_logits = compiled_loss(model, values, masks, caches, targets, w)
    grads: dict = {}
    for node in reversed(model.nodes):
        gys = Grads(g_tensor.get(t) for t in node.outputs)
        gys.logits = g_logits.get(node)
        if gys.logits is None and all(g is None for g in gys):
            continue
        layer = node.layer
        lw_ = {p.name: w[layer.name + "/" + p.name] for p in layer.params}
        c = KernelCall(layer, lw_, [masks[t] for t in node.inputs], training, np.dtype(dtype), None, True)
        gxs, gw = GRADS[layer.type](c, [values[t] for t in node.inputs], [values[t] for t in node.outputs],
                                       caches[node], gys)
        for t, g in zip(node.inputs, gxs):
            if g is not None:
                g_tensor[t] = g_tensor.get(t, 0) + g
        for name, g in gw.items():
            key = layer.name + "/" + name
            grads[key] = grads.get(key, 0) + g
    for layer in model.layers:  # weight regularizers' gradients (their values are in the loss)
        for p in layer.params:
            key = layer.name + "/" + p.name
            g = penalty(p.regularizer, w[key])[1]
            if g is not None and key in grads:
                grads[key] = grads[key] + g
    keys = trainable_keys(model)
    grads = {k: grads[k].astype(dtype, copy=False) if k in grads else np.zeros_like(w[k]) for k in keys}
    preds = {o.name: values[o.tensor] for o in model.outputs}
    return total, per_output, grads, state, preds
