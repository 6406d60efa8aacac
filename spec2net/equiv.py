"""``spec2net equiv``: one spec through every installed backend with the same random
weights and inputs; the largest differences per output and backend pair, and, when
they disagree, the first layer call (in execution order) whose output diverges.

Each backend is an adapter with ``available()`` and ``run(net, inputs, weights) ->
(outputs, trace)``, where ``trace`` maps each ``ir.Tensor`` a layer call produced to its value;
a generated module's tensors are found by the names its ``codegen.GeneratedModule`` gives them,
so every call of a shared layer is compared with its own counterpart.
``train(net, data, weights, steps)`` runs full-batch training steps for ``--train``. NumPy is the
reference every other backend is compared with.
"""

from __future__ import annotations

import copy
import importlib.util
import sys

import numpy as np

from . import ir
from .registry import LAYER_INITIALIZERS, LAYERS, REGISTRIES, LayerDef


class NumpyAdapter:
    name = "numpy"
    trains = True  # --train can compare it

    def available(self):
        return True, ""

    def run(self, net, inputs, weights):
        from .backends.numpy import run

        out = run(net.ir, inputs, weights, trace=True)
        values = out.pop("__trace__")  # {"layer": outputs, "layer#k": the k-th call's outputs}
        trace = {}
        for node in net.ir.nodes:
            key = node.layer.name if node.call_index == 0 else f"{node.layer.name}#{node.call_index}"
            trace.update(zip(node.outputs, values[key]))
        return out, trace

    def train(self, net, data, weights, steps):
        from .backends.numpy.backprop import loss_and_grads
        from .backends.numpy.optimizers import Optimizer

        opt = Optimizer(net.ir.compile.optimizer)
        inputs = {n: data[n] for n in net.input_names}
        targets = {n: data[n] for n in net.output_names}
        w = {k: np.asarray(v, np.float32) for k, v in weights.items()}
        for _ in range(steps):
            _, _, grads, state, _ = loss_and_grads(net.ir, w, inputs, targets, seed=0)
            w = opt.apply(w, grads)
            w.update({k: v.astype(np.float32) for k, v in state.items()})
        return w


class _Generated:
    """A backend reached through the module ``spec2net build`` writes for it."""

    name = module = package = ""
    trains = True

    def available(self):
        ok = importlib.util.find_spec(self.module) is not None
        return ok, "" if ok else f"{self.module} is not installed (pip install 'spec2net[{self.package}]')"

    def load(self, net, weights, module=None):
        """(the module's namespace, its model with ``weights`` loaded through its load_weights);
        ``module``: the ``GeneratedModule`` to run, by default ``net.generate(self.name)``."""
        import tempfile

        from .weights import save_weights

        module = module or net.generate(self.name)
        ns: dict = {"__name__": f"spec2net_equiv_{self.name}"}
        exec(compile(module.source, self.filename, "exec"), ns)
        model = ns["build_model"]()
        with tempfile.TemporaryDirectory() as d:
            save_weights(f"{d}/w.npz", weights)
            ns["load_weights"](model, f"{d}/w.npz")
        return ns, model

    @property
    def filename(self) -> str:
        return f"<generated {self.name} module>"

    def locals_of(self, function: str, call):
        """``call()``'s result and the locals of the generated module's ``function`` when it
        returned (the last time): where the module keeps its intermediate tensors."""
        frames = {}

        def spy(frame, event, arg):
            code = frame.f_code
            if event == "return" and code.co_name == function and code.co_filename == self.filename:
                frames.clear()
                frames.update(frame.f_locals)

        old = sys.getprofile()
        sys.setprofile(spy)
        try:
            result = call()
        finally:
            sys.setprofile(old)
        return result, frames

    def train(self, net, data, weights, steps):
        import tempfile

        from .weights import load_weights

        ns, model = self.load(net, weights)
        self.fit(ns, model, net, data, steps, len(data[net.input_names[0]]))
        with tempfile.TemporaryDirectory() as d:
            ns["save_weights"](model, f"{d}/out.npz")
            return load_weights(f"{d}/out.npz")


class KerasAdapter(_Generated):
    name, module, package = "keras", "keras", "keras"

    def run(self, net, inputs, weights, module=None):
        """The outputs, and every layer call's outputs: the symbolic tensors ``build_model`` bound
        to the names in ``module.tensor_names``, run through one probe model."""
        import keras

        module = module or net.generate(self.name)
        (_, model), local = self.locals_of("build_model", lambda: self.load(net, weights, module))
        x = _ordered(inputs, net.input_names)
        outs = _as_dict(model.predict(x, verbose=0), net.output_names)
        tensors = [t for node in net.ir.nodes for t in node.outputs]
        probe = keras.Model(model.inputs, [local[module.name_of(t)] for t in tensors])
        values = probe.predict(x, verbose=0)
        values = values if isinstance(values, list) else [values]
        return outs, dict(zip(tensors, (np.asarray(v) for v in values)))

    def fit(self, ns, model, net, data, steps, batch):
        ns["compile_model"](model)
        y = {n: data[n] for n in net.output_names}
        model.fit(_ordered(data, net.input_names), y, epochs=steps, batch_size=batch, shuffle=False, verbose=0)


class TorchAdapter(_Generated):
    name, module, package = "torch", "torch", "torch"

    def run(self, net, inputs, weights, module=None):
        import torch

        module = module or net.generate(self.name)
        _, model = self.load(net, weights, module)
        model.eval()
        args = [torch.as_tensor(inputs[n]) for n in net.input_names]
        with torch.no_grad():
            result, local = self.locals_of("forward", lambda: model(*args))
        result = result if isinstance(result, tuple) else (result,)
        outs = {n: r.detach().numpy() for n, r in zip(net.output_names, result)}
        tensors = [t for node in net.ir.nodes for t in node.outputs]
        return outs, {t: local[module.name_of(t)].detach().numpy() for t in tensors}

    def fit(self, ns, model, net, data, steps, batch):
        import torch

        x = {n: torch.as_tensor(data[n]) for n in net.input_names}
        y = {n: torch.as_tensor(data[n]) for n in net.output_names}
        # every sample trains, as in the other backends: the fit block's validation_split is the
        # generated fit's default and would hold some back; and no fit callbacks (an early stop, a
        # reduced rate), as the other backends' steps run none
        ns["fit"](model, x, y, epochs=steps, batch_size=batch, shuffle=False, validation_split=0.0,
                  callbacks=())


class OnnxAdapter:
    """The ONNX model ``spec2net build --backend onnx`` writes, in onnxruntime, every layer call's
    output made a graph output (``backends.onnx.traced_model``). Inference only."""

    name = "onnx"
    trains = False  # an inference graph

    def available(self):
        ok = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))
        return ok, "" if ok else "onnx and onnxruntime are not installed (pip install 'spec2net[onnx]')"

    def run(self, net, inputs, weights):
        import onnxruntime as ort

        from .backends.onnx import traced_model

        proto, names = traced_model(net.ir, weights)
        sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
        got = dict(zip([o.name for o in sess.get_outputs()],
                       sess.run(None, {t.input_name: inputs[t.input_name] for t in net.ir.inputs})))
        return {n: got[n] for n in net.output_names}, {t: got[name] for t, name in names.items()}

    def train(self, net, data, weights, steps):
        from .cli import UsageError

        raise UsageError("--train: an ONNX model is an inference graph; compare onnx without --train")


ADAPTERS = {a.name: a for a in (NumpyAdapter(), KerasAdapter(), TorchAdapter(), OnnxAdapter())}
UNKNOWN_LENGTH = 7  # what a `?` dimension is in the random data (the memory budget counts it too)


def _ordered(arrays: dict, names: list):
    """Inputs as the generated Keras model takes them: one array, or a list in the spec's order."""
    return arrays[names[0]] if len(names) == 1 else [arrays[n] for n in names]


def _as_dict(result, names) -> dict:
    if isinstance(result, dict):
        return {n: np.asarray(result[n]) for n in names}
    if isinstance(result, (list, tuple)):
        return {n: np.asarray(r) for n, r in zip(names, result)}
    return {names[0]: np.asarray(result)}


def random_inputs(model: ir.Model, batch: int = 4, seed: int = 0) -> dict:
    """Normal floats, and integers in range of every layer with an ``input_dim`` (an Embedding)
    that an integer input feeds."""
    rng = np.random.default_rng(seed)
    out = {}
    for t in model.inputs:
        shape = (batch, *[d if d is not None else UNKNOWN_LENGTH for d in t.type.shape])
        if t.type.is_float:
            out[t.input_name] = rng.normal(size=shape).astype(t.type.dtype)
        else:
            dims = [n.layer.args["input_dim"] for n in model.nodes if t in n.inputs and "input_dim" in n.layer.args]
            out[t.input_name] = rng.integers(0, min(dims) if dims else 10, size=shape).astype(t.type.dtype)
    return out


def perturbed_weights(model: ir.Model, seed: int = 0) -> dict:
    """Initializer-scaled weights with every constant one (biases, BN statistics) perturbed, so a
    comparison sees them: long recurrences stay out of the chaotic regime, where float32
    rounding alone would decide the outputs (with N(0, 0.5) weights spam's SimpleRNN differs by
    0.1 between our own float32 and float64 runs)."""
    from .backends.numpy import init_weights

    rng = np.random.default_rng(seed)
    out = init_weights(model, seed)
    for key, p in model.weight_keys():
        if p.name == "moving_variance":
            out[key] = rng.uniform(0.5, 1.5, p.shape).astype(np.float32)
        elif not _random(p.initializer):
            out[key] = (out[key] + rng.standard_normal(p.shape) * 0.1).astype(np.float32)
    return out


def _random(init: ir.Ref) -> bool:
    """An initializer that draws random numbers (it takes a seed); the others (zeros, ones, constant,
    unit_forget_bias) give constants that a comparison would not see change."""
    entry = REGISTRIES["initializer"].get(init.name) or LAYER_INITIALIZERS[init.name]
    return any(a.name == "seed" for a in entry.args)


def random_targets(model: ir.Model, batch: int, seed: int = 0) -> dict:
    """Targets of the kind each output's loss reads (the registry's ``target``): class ids,
    one-hot rows, 0/1 or real values."""
    rng = np.random.default_rng(seed + 1)
    out = {}
    for o in model.outputs:
        shape = (batch, *[d if d is not None else UNKNOWN_LENGTH for d in o.tensor.type.shape])
        target = REGISTRIES["loss"][model.compile.loss[o.name].name].target
        if target == "class_ids":
            out[o.name] = rng.integers(0, shape[-1], size=(*shape[:-1], 1)).astype(np.int32)
        elif target == "one_hot":
            out[o.name] = np.eye(shape[-1], dtype=np.float32)[rng.integers(0, shape[-1], size=shape[:-1])]
        elif target == "binary":
            out[o.name] = (rng.random(shape) > 0.5).astype(np.float32)
        else:
            out[o.name] = rng.normal(size=shape).astype(np.float32)
    return out


def without_dropout(model: ir.Model) -> ir.Model:
    """A copy whose dropout rates are 0, so training steps are deterministic in every backend."""
    m = copy.deepcopy(model)
    for layer in m.layers:
        # a wrapper's layers (ir.Layers among its arguments) keep their own rates
        for x in [layer, *(v for v in layer.args.values() if isinstance(v, ir.Layer))]:
            for key in LAYERS[x.type].dropout_args:
                x.args[key] = 0.0
    return m


def diff(x, y) -> tuple[float, float]:
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape:
        return float("inf"), float("inf")
    d = np.abs(x - y)
    return float(d.max(initial=0.0)), float((d / np.maximum(np.abs(y), 1e-6)).max(initial=0.0))


def tolerance(model: ir.Model) -> float:
    """The widest of the model's layers' tolerances (the registry's; 1e-4 for a recurrence)."""
    return max((LAYERS[layer.type].tolerance for layer in model.layers), default=LayerDef.tolerance)


def first_divergence(model: ir.Model, ref: dict, other: dict, tol: float):
    """The first layer call (``ir.Node``), in execution order, one of whose outputs differs by more
    than ``tol`` between two traces, with that difference; ``(None, None)`` if none does."""
    for node in model.nodes:
        for t in node.outputs:
            if t in ref and t in other:
                a, _ = diff(other[t], ref[t])
                if a > tol:
                    return node, a
    return None, None
