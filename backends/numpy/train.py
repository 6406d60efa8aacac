"""Keras ``fit()`` semantics in NumPy: epochs, batches in order (the last one
partial), a seeded shuffle per epoch, ``validation_split`` taken from the end
of the data before any shuffle, and a history of the epoch means of the loss
and metrics (each batch's loss weighted by its size, as Keras's loss tracker)."""

from __future__ import annotations

import math

import numpy as np

from spec2net import ir

from .backprop import compiled_loss, loss_and_grads
from .initializers import derive_seed
from .interpreter import forward
from .metrics import Mean, resolve
from .optimizers import Optimizer


class TrainError(ValueError):
    """Data or settings that cannot train this model."""


def split_data(model: ir.Model, data: dict) -> tuple[dict, dict, int]:
    """Inputs (by input name) and targets (by output name) from one dict, and the sample count."""
    ins = [t.input_name for t in model.inputs]
    outs = [o.name for o in model.outputs]
    missing = [n for n in ins + outs if n not in data]
    if missing:
        raise TrainError(f"the data has no array for {', '.join(missing)} (inputs: {', '.join(ins)}; "
                         f"targets: {', '.join(outs)})")
    sizes = {n: len(data[n]) for n in ins + outs}
    if len(set(sizes.values())) != 1:
        raise TrainError(f"inputs and targets hold different numbers of samples: {sizes}")
    return {n: np.asarray(data[n]) for n in ins}, {n: np.asarray(data[n]) for n in outs}, sizes[ins[0]]


def _take(arrays: dict, idx) -> dict:
    return {k: v[idx] for k, v in arrays.items()}


class _Epoch:
    """The running means of one epoch: loss, per-output losses, metrics."""

    def __init__(self, model: ir.Model):
        self.model = model
        self.loss = Mean()
        self.parts = {o.name: Mean() for o in model.outputs}
        self.metrics = {}

    def update(self, loss, per_output, preds, targets, batch):
        self.loss.update(loss, weight=batch)
        multi = len(self.model.outputs) > 1
        for name, value in per_output.items():
            self.parts[name].update(value, weight=batch)
        for out in self.model.outputs:
            for ref in self.model.compile.metrics:
                key = f"{out.name}_{ref.name}" if multi else ref.name
                fn = resolve(ref.name, targets[out.name], preds[out.name])
                self.metrics.setdefault(key, Mean()).update(fn(targets[out.name], preds[out.name]))

    def logs(self, prefix="") -> dict:
        out = {prefix + "loss": self.loss.result()}
        if len(self.parts) > 1:
            out.update({f"{prefix}{k}_loss": m.result() for k, m in self.parts.items()})
        out.update({prefix + k: m.result() for k, m in self.metrics.items()})
        return out


def fit(model: ir.Model, data: dict, weights: dict, epochs: int = 1, batch_size: int = 32, shuffle: bool = True,
        validation_split: float = 0.0, seed: int = 0, callback=None):
    """Train ``model`` from ``weights``: ``new_weights, history = fit(net.ir, {"x": x, "y": y}, w, epochs=2)``.

    ``callback(epoch, step, steps, logs)`` is called after every batch (for a progress bar), and
    ``callback.epoch_end(logs)``, where it exists, after each epoch with the validation numbers.
    """
    if model.compile is None:
        raise TrainError(f"model '{model.name}' has no `compile` block: no loss or optimizer to train with")
    inputs, targets, n = split_data(model, data)
    n_train = n
    if validation_split:
        n_train = math.floor(n * (1.0 - validation_split))  # Keras: the last fraction validates
        if n_train in (0, n):
            raise TrainError(f"validation_split={validation_split} leaves no training or no validation "
                             f"samples out of {n}")
    opt = Optimizer(model.compile.optimizer)
    weights = {k: np.asarray(v, np.float32) for k, v in weights.items()}
    history: dict[str, list] = {}
    rng = np.random.default_rng(derive_seed("shuffle", seed))
    steps, step = math.ceil(n_train / batch_size), 0
    for epoch in range(epochs):
        order = rng.permutation(n_train) if shuffle else np.arange(n_train)
        tracker = _Epoch(model)
        for k, start in enumerate(range(0, n_train, batch_size)):
            idx = order[start:start + batch_size]
            bt = _take(targets, idx)
            loss, parts, grads, state, preds = loss_and_grads(model, weights, _take(inputs, idx), bt,
                                                              seed=derive_seed("step", seed, step))
            weights = opt.apply(weights, grads)
            weights.update({key: v.astype(np.float32) for key, v in state.items()})
            tracker.update(loss, parts, preds, bt, len(idx))
            step += 1
            if callback is not None:
                callback(epoch, k + 1, steps, tracker.logs())
        logs = tracker.logs()
        if n_train < n:
            logs.update(evaluate(model, _take(inputs, slice(n_train, n)), _take(targets, slice(n_train, n)),
                                 weights, batch_size).logs("val_"))
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        if hasattr(callback, "epoch_end"):
            callback.epoch_end(logs)
    return weights, history


def evaluate(model: ir.Model, inputs: dict, targets: dict, weights: dict, batch_size: int = 32) -> _Epoch:
    """Inference-mode loss and metrics over batches, as Keras's ``evaluate``."""
    tracker = _Epoch(model)
    w = {k: np.asarray(v, np.float32) for k, v in weights.items()}
    n = len(next(iter(inputs.values())))
    for start in range(0, n, batch_size):
        sl = slice(start, start + batch_size)
        bt = _take(targets, sl)
        values, masks, caches, _ = forward(model, _take(inputs, sl), w, keep=True)
        total, parts, _, _ = compiled_loss(model, values, masks, caches, bt, w)
        preds = {o.name: values[o.tensor] for o in model.outputs}
        tracker.update(total, parts, preds, bt, len(bt[model.outputs[0].name]))
    return tracker
