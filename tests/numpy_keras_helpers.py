"""Helpers shared by the NumPy interpreter's tests against real Keras: spec text from
registry-style (layer, args) descriptions, the same model in Keras, random weights
and inputs, and a table of the worst differences printed at the end of a module."""

from __future__ import annotations

import numpy as np

from spec2net.registry import LAYERS
from spec2net.registry.wrappers import Inner


def spec_value(v) -> str:
    """A Python argument value in .net syntax: ``spec_value((2, 6)) == "(2, 6)"``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, tuple):
        return "(" + ", ".join(map(spec_value, v)) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(map(spec_value, v)) + "]"
    return str(v) if isinstance(v, str) else repr(v)


def chain_spec(inputs, chain) -> str:
    """A model applying ``chain`` ([(type, args), ...]) to ``inputs`` ([(dtype, shape)]);
    the last layer's outputs are the model's outputs o0, o1, ..."""
    lines = ["model t {"]
    for i, (dtype, shape) in enumerate(inputs):
        dims = ", ".join("?" if d is None else str(d) for d in shape)
        lines.append(f"    input x{i}: {dtype}[{dims}]")
    prev = [f"x{i}" for i in range(len(inputs))]
    for j, (layer_type, args) in enumerate(chain):
        defn = LAYERS[layer_type]
        n_out = defn.n_outputs(_filled(defn, args))
        outs = [f"h{j}_{k}" for k in range(n_out)]
        kw = ", ".join(f"{k}={spec_value(v)}" for k, v in args.items())
        if defn.merge:
            expr = f"{defn.auto_name}([{', '.join(prev)}]{', ' + kw if kw else ''})"
        else:
            expr = f"{layer_type}({kw})({prev[0]})"
        lines.append(f"    {', '.join(outs)} = {expr}")
        prev = outs
    lines += [f"    output o{k} = {name}" for k, name in enumerate(prev)]
    return "\n".join(lines + ["}"])


def _filled(defn, args):
    return {**{a.name: a.default for a in defn.args}, **args}


def keras_chain(keras, inputs, chain):
    """The same model in Keras, layers built straight from the arguments (names reset first)."""
    keras.backend.clear_session(free_memory=False)
    ins = [keras.Input(shape=tuple(shape), dtype=dtype, name=f"x{i}") for i, (dtype, shape) in enumerate(inputs)]
    prev = ins
    for layer_type, args in chain:
        layer = keras_layer(keras, layer_type, args)
        out = layer(prev if LAYERS[layer_type].merge else prev[0])
        prev = list(out) if isinstance(out, (list, tuple)) else [out]
    return keras.Model(ins, prev)


def keras_layer(keras, layer_type, args):
    """The Keras layer of a registry sample; a wrapper's inner layer (a registry ``Inner``) built too."""
    args = {k: keras_layer(keras, v.type, dict(v.pairs)) if isinstance(v, Inner) else v for k, v in args.items()}
    return getattr(keras.layers, LAYERS[layer_type].name)(**args)


def random_weights(model, seed=0) -> dict:
    """Weights that exercise every term (no zero biases, variances away from 1)."""
    rng = np.random.default_rng(seed)
    out = {}
    for key, p in model.weight_keys():
        if p.name == "moving_variance":
            out[key] = rng.uniform(0.5, 1.5, p.shape).astype(np.float32)
        else:
            out[key] = (rng.standard_normal(p.shape) * 0.5).astype(np.float32)
    return out


def random_inputs(model, batch=3, seed=1, vocab=None, steps=5) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for t in model.inputs:
        shape = (batch, *(steps if d is None else d for d in t.type.shape))
        if t.type.is_float:
            out[t.input_name] = rng.standard_normal(shape).astype(np.float32)
        else:
            out[t.input_name] = rng.integers(0, vocab or 10, shape).astype(t.type.dtype)
    return out


def max_diff(a, b) -> float:
    """max |a - b|, relative where |b| > 1: float32 cannot resolve 1e-5 absolute on exp(6) = 403."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) if a.size else 0.0


class DiffTable:
    """The worst |diff| per group, printed when the test module ends."""

    def __init__(self):
        self.worst = {}

    def add(self, group: str, diff: float) -> None:
        self.worst[group] = max(diff, self.worst.get(group, 0.0))

    def report(self, config, title: str) -> None:
        tr = config.pluginmanager.get_plugin("terminalreporter")
        capture = config.pluginmanager.get_plugin("capturemanager")
        if tr is None or capture is None or not self.worst:
            return
        with capture.global_and_fixture_disabled():  # module teardown runs under output capture
            tr.write_line(f"\n{title}")
            for group, d in sorted(self.worst.items()):
                tr.write_line(f"  {group:<36} max|diff| = {d:.2e}")


# Embedding(mask_zero) into the recurrent layers: post-, pre- and mid-padded rows and a fully
# padded one; ids stay below the vocabulary of 12. Every backend's tests run these cases.
TOKENS = np.array([[5, 3, 7, 0, 0, 0], [0, 0, 4, 2, 9, 1], [3, 0, 0, 8, 0, 2], [0, 0, 0, 0, 0, 0]], np.int32)
EMB = ("Embedding", {"input_dim": 12, "output_dim": 4, "mask_zero": True})
MASKED = {
    "SimpleRNN": [EMB, ("SimpleRNN", {"units": 3})],
    "SimpleRNN-seq-back": [EMB, ("SimpleRNN", {"units": 3, "return_sequences": True, "go_backwards": True})],
    "LSTM-seq-state": [EMB, ("LSTM", {"units": 3, "return_sequences": True, "return_state": True})],
    "LSTM-back-state": [EMB, ("LSTM", {"units": 2, "go_backwards": True, "return_state": True})],
    "GRU-seq": [EMB, ("GRU", {"units": 3, "return_sequences": True})],
    "GRU-back-state": [EMB, ("GRU", {"units": 3, "go_backwards": True, "return_state": True})],
    "GRU-reset-before": [EMB, ("GRU", {"units": 3, "reset_after": False, "return_sequences": True})],
    "LSTM-stack": [EMB, ("LSTM", {"units": 4, "return_sequences": True}), ("GRU", {"units": 3})],
    "mask-through-Dense": [EMB, ("Dense", {"units": 5, "activation": "tanh"}), ("LSTM", {"units": 3})],
}


def example_inputs(net, batch=4, seed=1):
    """Random inputs for an example: floats N(0, 1), token ids below the smallest vocabulary with
    padding (id 0) at both ends of two rows, so masked examples see masks; ``?`` dimensions 5."""
    rng = np.random.default_rng(seed)
    vocab = min((layer.args["input_dim"] for layer in net.ir.layers if layer.type == "Embedding"), default=10)
    out = {}
    for t in net.ir.inputs:
        shape = (batch, *(5 if d is None else d for d in t.type.shape))
        if t.type.is_float:
            out[t.input_name] = rng.standard_normal(shape).astype(np.float32)
        else:
            ids = rng.integers(1, vocab, shape)
            ids[0, :3], ids[1, -4:] = 0, 0  # padding at both ends, for the masked examples
            out[t.input_name] = ids.astype(t.type.dtype)
    return out
