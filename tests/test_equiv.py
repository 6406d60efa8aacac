"""`spec2net equiv`: every example agrees across numpy, keras and torch (and after training
steps); a deliberately broken backend is caught and the diverging layer named."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT

from spec2net import equiv
from spec2net.cli import main


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_agrees(keras, torch, path, capsys):
    rc = main(["equiv", str(path)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "numpy vs keras" in out and "numpy vs torch" in out and "agree" in out


@pytest.mark.parametrize("stem", ["multi_output", "normalized", "shared", "gru", "blocks"])
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
    line = next(i for i, text in enumerate((ROOT / "examples" / f"{stem}.net").read_text().splitlines(), 1)
                if ("LSTM(12)" in text if layer == "lstm_1" else False)) if layer == "lstm_1" else None
    if line:
        assert f"multi_output.net:{line}" in out


def test_missing_backend_exits_2(monkeypatch, capsys):
    class Missing(equiv.NumpyAdapter):
        name = "missing"

        def available(self):
            return False, "not installed here"

    monkeypatch.setitem(equiv.ADAPTERS, "missing", Missing())
    assert main(["equiv", str(ROOT / "examples" / "mlp.net"), "--backends", "numpy,missing"]) == 2
    assert "not installed here" in capsys.readouterr().out


def test_random_inputs_respect_embedding_range():
    import spec2net

    net = spec2net.load(ROOT / "examples" / "spam.net")
    x = equiv.random_inputs(net.ir, batch=64)["text"]
    assert x.dtype == np.int32 and x.min() >= 0 and x.max() < 10000 and x.max() > 100
