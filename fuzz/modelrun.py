"""One spec through NumPy, Keras and torch with one weights dict and one batch, compared:
what tests/test_random_models.py and fuzz/random_models.py share.

Each backend runs the module `spec2net build` writes for it (compiled and executed here, its
weights loaded through its own loader) in inference mode, then in training mode on a copy
with every dropout rate 0 (then only batch statistics change the result, which is
deterministic), and hands back the BatchNormalization moving statistics that training call
left, through its own saver. NumPy is the reference; differences are measured as the tests
of the backends do (absolute below 1, relative above) against the project's tolerance.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from modelgen import UNKNOWN
from spec2net.backends.numpy import run as numpy_run

import spec2net
from spec2net.equiv import perturbed_weights, tolerance, without_dropout
from spec2net.registry import LAYERS, deterministic

BATCH = 4  # BatchNormalization's batch statistics need more than one sample
MOVING = ("moving_mean", "moving_variance")


def vocabulary(model, tensor) -> int:
    """The smallest input_dim of the Embeddings an integer input reaches (through Flatten/Reshape)."""
    reach, dims = {tensor}, []
    for node in model.nodes:
        if any(t in reach for t in node.inputs):
            if node.layer.type == "Embedding":
                dims.append(node.layer.args["input_dim"])
            else:
                reach.update(node.outputs)
    return min(dims)


def random_inputs(model, seed: int, batch: int = BATCH) -> dict:
    """Normal floats; token ids with padding zeros (at the end of a row, scattered, a whole row),
    which a masked Embedding skips. A `?` dimension has UNKNOWN steps."""
    rng = np.random.default_rng(seed)
    out = {}
    for t in model.inputs:
        shape = (batch, *(UNKNOWN if d is None else d for d in t.type.shape))
        if t.type.is_float:
            out[t.input_name] = rng.standard_normal(shape).astype(t.type.dtype)
            continue
        ids = rng.integers(1, max(vocabulary(model, t), 2), shape).reshape(batch, -1)
        ids[0, rng.integers(1, ids.shape[1] + 1):] = 0
        ids[1, rng.random(ids.shape[1]) < 0.3] = 0
        ids[3, : ids.shape[1] if rng.random() < 0.3 else rng.integers(0, ids.shape[1])] = 0
        out[t.input_name] = ids.reshape(shape).astype(t.type.dtype)
    return out


def max_diff(a, b) -> float:
    """max |a - b|, relative where |b| > 1 (float32 cannot resolve 1e-5 on 400); inf if shapes differ."""
    if a is None:
        return float("inf")
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)), initial=0.0))


def _exec(net, backend) -> dict:
    ns = {"__name__": f"random_model_{backend}"}
    exec(compile(net.build(backend), f"<generated {backend} module>", "exec"), ns)  # noqa: S102
    return ns


def run_keras(model, x, weights, modes):
    """({training: {output: array}}, moving statistics after the last call) of the Keras module."""
    import keras

    # a fresh session, as in a new process: Keras's automatic names count up across models
    keras.backend.clear_session(free_memory=False)
    net = spec2net.Net(model)
    ns = _exec(net, "keras")
    keras_model = ns["build_model"]()
    args = [x[n] for n in net.input_names]
    with tempfile.TemporaryDirectory() as d:
        spec2net.save_weights(Path(d, "w.npz"), weights)
        ns["load_weights"](keras_model, Path(d, "w.npz"))
        results = {}
        for training in modes:
            y = keras_model(args[0] if len(args) == 1 else args, training=training)
            y = y if isinstance(y, dict) else dict(zip(net.output_names, y if isinstance(y, (list, tuple)) else [y]))
            results[training] = {k: v.numpy() for k, v in y.items()}  # TensorFlow tensors
        ns["save_weights"](keras_model, Path(d, "after.npz"))
        after = spec2net.load_weights(Path(d, "after.npz"))
    return results, {k: v for k, v in after.items() if k.endswith(MOVING)}


def run_torch(model, x, weights, modes):
    import torch

    net = spec2net.Net(model)
    ns = _exec(net, "torch")
    torch_model = ns["build_model"](0)
    ns["set_weights"](torch_model, weights)
    results = {}
    for training in modes:
        torch_model.train(training)
        with torch.no_grad():
            y = torch_model(*[torch.as_tensor(x[n]) for n in ns["INPUT_NAMES"]])
        y = y if isinstance(y, tuple) else (y,)
        results[training] = {n: v.numpy() for n, v in zip(ns["OUTPUT_NAMES"], y)}
    after = ns["get_weights"](torch_model)
    return results, {k: np.asarray(v) for k, v in after.items() if k.endswith(MOVING)}


def run_onnx(model, x, weights, modes):
    """The ONNX model `spec2net build --backend onnx` writes, in onnxruntime: inference only
    (an ONNX graph has no training mode), so no moving statistics come back."""
    import onnxruntime as ort
    from spec2net.backends.onnx import model_bytes

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    sess = ort.InferenceSession(model_bytes(model, weights), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return {False: dict(zip(names, sess.run(None, {t.input_name: x[t.input_name] for t in model.inputs})))}, {}


RUNNERS = {"keras": run_keras, "torch": run_torch, "onnx": run_onnx}
INFERENCE_ONLY = {"onnx"}  # compared on inference only


def has_dropout(model) -> bool:
    # the registry's rule, which also looks inside a wrapper's layers
    return not all(deterministic(LAYERS[layer.type], layer.args) for layer in model.layers)


NOISE = 10  # an ill-conditioned model agrees if off float64 by at most NOISE x NumPy float32's own error


@dataclass
class Report:
    """Each backend's max_diff from NumPy per output and mode (and moving statistic). Where one
    exceeds the tolerance, ``rounding`` holds (its max_diff from NumPy in float64, float32
    NumPy's own max_diff from float64): batch statistics of 4 samples, or a softmax of large
    values, can amplify float32 rounding past any fixed tolerance."""

    tol: float
    diffs: dict = field(default_factory=dict)  # "keras training y0" -> max_diff
    rounding: dict = field(default_factory=dict)

    @property
    def worst(self) -> tuple:
        return max(self.diffs.items(), key=lambda kv: kv[1], default=("-", 0.0))

    @property
    def strict(self) -> bool:
        """Every difference within the project's tolerance."""
        return all(d <= self.tol for d in self.diffs.values())

    def off(self) -> dict:
        """The comparisons off by more than the tolerance and than float32's own rounding allows."""
        return {k: d for k, d in self.diffs.items() if d > self.tol and not (
            k in self.rounding and self.rounding[k][0] <= max(self.tol, NOISE * self.rounding[k][1]))}

    @property
    def ok(self) -> bool:
        """Within the tolerance, or as close to the float64 result as float32 itself gets."""
        return not self.off()


def reference(model, x, w, dtype="float32"):
    """NumPy's {(training, name): array}: inference, then training without dropout (and its
    moving statistics, under the key (True, "LAYER/moving_mean"))."""
    inf = numpy_run(model, x, w, dtype=dtype)
    train = numpy_run(without_dropout(model), x, w, training=True, seed=0, dtype=dtype)
    out = {(False, k): v for k, v in inf.items()} | {(True, k): v for k, v in train.items() if k != "__state__"}
    # A shared BatchNormalization's calls update its statistics one after the other, and Keras
    # orders calls that do not depend on each other its own way (reported): not compared
    shared = {layer.name + "/" for layer in model.layers if len(layer.nodes) > 1}
    return out | {(True, k): v for k, v in train["__state__"].items() if not k.startswith(tuple(shared))}


def label(backend, key) -> str:
    training, name = key
    return f"{backend} {name} after training" if name.endswith(MOVING) else \
        f"{backend} {'training' if training else 'inference'} {name}"


def compare(net, seed: int, backends=("keras", "torch")) -> Report:
    """Every backend against NumPy, in both modes, on the same inputs and weights."""
    x, w = random_inputs(net.ir, seed), perturbed_weights(net.ir, seed)
    ref = reference(net.ir, x, w)
    report, got = Report(tolerance(net.ir)), {}
    for b in backends:
        if b in INFERENCE_ONLY:
            res, _ = RUNNERS[b](net.ir, x, w, (False,))
            got[b] = {(False, k): v for k, v in res[False].items()}
            for key, want in ref.items():
                if not key[0]:
                    report.diffs[label(b, key)] = max_diff(got[b].get(key), want)
            continue
        if has_dropout(net.ir):  # dropout at inference is the identity; training compares without it
            res, _ = RUNNERS[b](net.ir, x, w, (False,))
            train, after = RUNNERS[b](without_dropout(net.ir), x, w, (True,))
            res.update(train)
        else:
            res, after = RUNNERS[b](net.ir, x, w, (False, True))
        got[b] = {(t, k): v for t, outs in res.items() for k, v in outs.items()} | {(True, k): v for k, v in after.items()}
        for key, want in ref.items():
            report.diffs[label(b, key)] = max_diff(got[b].get(key), want)
    if not report.strict:
        ref64 = reference(net.ir, x, w, "float64")
        for b in backends:
            for key, want in ref64.items():
                if report.diffs.get(label(b, key), 0.0) > report.tol:
                    report.rounding[label(b, key)] = (max_diff(got[b].get(key), want),
                                                      max_diff(ref[key], want))
    return report
