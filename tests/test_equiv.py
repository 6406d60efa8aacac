"""`spec2net equiv`: every example agrees across numpy, keras and torch (and after training
steps); a deliberately broken backend is caught and the diverging layer named."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT

import spec2net
from spec2net import equiv
from spec2net.cli import main


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_agrees(keras, torch, path, capsys):
    rc = main(["equiv", str(path)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "numpy vs keras" in out and "numpy vs torch" in out and "agree" in out


# spam: a fit block with validation_split, which equiv's training steps leave out (every backend
# trains on every sample)
@pytest.mark.parametrize("stem", ["multi_output", "normalized", "shared", "gru", "blocks", "spam"])
def test_examples_agree_after_training_steps(keras, torch, stem, capsys):
    rc = main(["equiv", str(ROOT / "examples" / f"{stem}.net"), "--train", "3"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "after 3 step(s): numpy vs keras: weights max abs" in out


class Broken(equiv.NumpyAdapter):
    """A test double: the NumPy interpreter with one layer's kernel perturbed."""

    name = "broken"

    def __init__(self, layer):
        self.layer = layer

    def run(self, net, inputs, weights):
        bad = dict(weights)
        bad[f"{self.layer}/kernel"] = weights[f"{self.layer}/kernel"] + 0.01
        return super().run(net, inputs, bad)


@pytest.mark.parametrize("stem,layer", [("ffnn", "dense_1"), ("multi_output", "lstm_1"), ("two_inputs", "dense")])
def test_a_broken_backend_is_caught_and_its_layer_named(monkeypatch, capsys, stem, layer):
    monkeypatch.setitem(equiv.ADAPTERS, "broken", Broken(layer))
    rc = main(["equiv", str(ROOT / "examples" / f"{stem}.net"), "--backends", "numpy,broken"])
    out = capsys.readouterr().out
    assert rc == 1, out
    assert "DISAGREE" in out
    assert f"first diverging layer: '{layer}'" in out
    # the line of the layer's call in the spec: found by its text, not by the IR equiv reads
    call = {"dense_1": "h = x -> Dense(", "lstm_1": "LSTM(12)", "dense": "x = Dense(16"}[layer]
    text = (ROOT / "examples" / f"{stem}.net").read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if call in t)
    assert f"{stem}.net:{line} " in out, out


def test_missing_backend_exits_2(monkeypatch, capsys):
    class Missing(equiv.NumpyAdapter):
        name = "missing"

        def available(self):
            return False, "not installed here"

    monkeypatch.setitem(equiv.ADAPTERS, "missing", Missing())
    assert main(["equiv", str(ROOT / "examples" / "mlp.net"), "--backends", "numpy,missing"]) == 2
    assert "not installed here" in capsys.readouterr().out


def test_random_inputs_respect_embedding_range():
    net = spec2net.load(ROOT / "examples" / "spam.net")
    x = equiv.random_inputs(net.ir, batch=64)["text"]
    assert x.dtype == np.int32 and x.min() >= 0 and x.max() < 10000 and x.max() > 100


# -- a shared layer: each call compared with its own counterpart -----------------------------------
TWICE = """model twice {
    input left: float32[6]
    input right: float32[6]
    shared = Dense(4, activation=tanh)
    a = shared(left)
    b = shared(right)
    output y = Dense(1)(concatenate([a, b]))
}
"""


class PerturbedCall:
    """A test double: a generated module (Keras or torch) with one layer call's line changed to add
    0.01, the line found through the module's own line -> node map."""

    trains = True

    def __init__(self, backend, layer, call):
        self.inner, self.layer, self.call = equiv.ADAPTERS[backend], layer, call

    def available(self):
        return self.inner.available()

    def run(self, net, inputs, weights):
        module = net.generate(self.inner.name)
        target = next(n for n in net.ir.nodes if n.layer.name == self.layer and n.call_index == self.call)
        [line] = [k for k, n in module.line_nodes.items() if n is target]
        lines = module.source.split("\n")
        assert lines[line - 1].strip().endswith(")"), lines[line - 1]
        lines[line - 1] += " + 0.01"
        return self.inner.run(net, inputs, weights, dataclasses.replace(module, source="\n".join(lines)))


@pytest.mark.parametrize("backend", ["keras", "torch"])
def test_a_shared_layers_second_call_is_named_with_its_line(keras, torch, monkeypatch, capsys, tmp_path, backend):
    spec = tmp_path / "twice.net"
    spec.write_text(TWICE)
    monkeypatch.setitem(equiv.ADAPTERS, "broken", PerturbedCall(backend, "dense", 1))
    rc = main(["equiv", str(spec), "--backends", "numpy,broken"])
    out = capsys.readouterr().out
    assert rc == 1, out
    assert "first diverging layer: 'dense' (Dense, call 2 of 2) at " in out and "twice.net:6 " in out, out

    net = spec2net.load(spec)
    x, w = equiv.random_inputs(net.ir), equiv.perturbed_weights(net.ir)
    _, ref = equiv.NumpyAdapter().run(net, x, w)
    _, got = PerturbedCall(backend, "dense", 1).run(net, x, w)
    first, second = net.ir.layers[0].nodes
    assert set(got) == set(ref) == {t for n in net.ir.nodes for t in n.outputs}
    assert equiv.diff(got[first.outputs[0]], ref[first.outputs[0]])[0] <= 1e-6  # no bogus difference
    assert abs(equiv.diff(got[second.outputs[0]], ref[second.outputs[0]])[0] - 0.01) <= 1e-6


@pytest.mark.parametrize("backend", ["keras", "torch"])
@pytest.mark.parametrize("stem", ["shared", "multi_output", "twice"])
def test_every_layer_call_agrees_with_numpy(keras, torch, stem, backend):
    # twice: the shared layer is `dense`, the next one `dense_1`, a name a guess would give its second call
    net = spec2net.loads(TWICE) if stem == "twice" else spec2net.load(ROOT / "examples" / f"{stem}.net")
    x, w = equiv.random_inputs(net.ir), equiv.perturbed_weights(net.ir)
    _, ref = equiv.NumpyAdapter().run(net, x, w)
    _, got = equiv.ADAPTERS[backend].run(net, x, w)
    tensors = [t for n in net.ir.nodes for t in n.outputs]
    assert set(got) == set(ref) == set(tensors)  # seq, h and c of one LSTM call included
    worst = max(equiv.diff(got[t], ref[t])[0] for t in tensors)
    assert worst <= equiv.tolerance(net.ir), worst
