"""Random well-typed models (fuzz/modelgen.py): each of CHECK_SEEDS checks, summarizes and
runs in NumPy; for EQUIV_SEEDS the generated Keras and torch modules compile, run, and agree
with NumPy on random weights, in inference and (dropout off) training mode; and the small
specs of the disagreements this fuzzer found stay fixed. fuzz/random_models.py runs many more."""

from __future__ import annotations

import functools
import re

import modelgen
import modelrun
import numpy as np
import pytest

import spec2net
from spec2net.registry import canonical, canonical_layers

# Keras's own convert_to_numpy (the generated save_weights uses it) warns under NumPy 2
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

CHECK_SEEDS = range(200)
# chosen so that together they use every layer type, a masked recurrent input, a shared recurrent
# layer, masks inside minimum and multiply, and a sequential model (a greedy cover over seeds
# 0-2499; a change to the generator or to the registry's activations redraws every model)
EQUIV_SEEDS = (2347, 1667, 2358, 1491, 283, 255, 472)
RECURRENT = ("SimpleRNN", "LSTM", "GRU")


@functools.cache
def load(seed: int) -> spec2net.Net:
    return spec2net.loads(modelgen.random_spec(seed), file=f"random_spec({seed})")


def features(seed: int) -> set:
    """What one random model exercises: its layer types, activations and language features."""
    m, text = load(seed).ir, modelgen.random_spec(seed)
    out = {layer.type for layer in m.layers}
    out |= {f"{m.kind} model", f"{len(m.inputs)} input(s)", f"{len(m.outputs)} output(s)"}
    out |= {f"input {t.type.dtype}" for t in m.inputs}
    out |= {f"activation {v.name}" for layer in m.layers for k, v in layer.args.items()
            if k.endswith("activation") and v is not None}
    flags = {"shared layer": any(len(layer.nodes) > 1 for layer in m.layers),
             "shared recurrent layer": any(len(layer.nodes) > 1 and layer.type in RECURRENT for layer in m.layers),
             "masked recurrent input": any(n.layer.type in RECURRENT and n.inputs[0].masked for n in m.nodes),
             "masked min/max/multiply input": any(n.layer.type in ("Minimum", "Maximum", "Multiply")
                                                  and any(t.masked for t in n.inputs) for n in m.nodes),
             "unknown dimension": any(None in t.type.shape for t in m.inputs)}
    return out | {k for k, v in flags.items() if v} | {w for w in ("def ", "let ", " -> ") if w in text}


def test_random_spec_is_deterministic():
    assert modelgen.random_spec(7) == modelgen.random_spec(7)
    assert modelgen.random_spec(7) != modelgen.random_spec(8)


@pytest.mark.parametrize("seed", CHECK_SEEDS)
def test_random_model_checks_and_runs_in_numpy(seed):
    net = load(seed)
    summary = net.summary()
    total = int(re.search(r"Total params: ([\d,]+)", summary).group(1).replace(",", ""))
    assert total == net.count_params()
    x, w = modelrun.random_inputs(net.ir, seed), modelrun.perturbed_weights(net.ir, seed)
    out = net.run(x, w)
    assert list(out) == net.output_names
    for o in net.ir.outputs:
        got, want = out[o.name].shape, (modelrun.BATCH, *o.tensor.type.shape)
        assert len(got) == len(want) and all(d is None or d == g for d, g in zip(want, got)), (o.name, got, want)
        assert np.isfinite(out[o.name]).all(), o.name


def test_the_checked_seeds_cover_the_language():
    seen = set().union(*map(features, CHECK_SEEDS))
    assert set(canonical_layers()) <= seen, set(canonical_layers()) - seen
    assert {f"activation {a}" for a in canonical("activation")} <= seen
    assert {"sequential model", "model model", "2 input(s)", "3 input(s)", "2 output(s)", "3 output(s)",
            "input int32", "input int64", "shared layer", "masked recurrent input", "unknown dimension",
            "masked min/max/multiply input", "input float16", "input uint8",
            "def ", "let ", " -> "} <= seen


def test_the_equiv_seeds_cover_every_layer_type():
    seen = set().union(*map(features, EQUIV_SEEDS))
    assert set(canonical_layers()) <= seen, set(canonical_layers()) - seen
    assert {"shared recurrent layer", "masked recurrent input", "masked min/max/multiply input", "sequential model",
            "2 input(s)", "2 output(s)"} <= seen


@pytest.mark.parametrize("seed", EQUIV_SEEDS)
def test_backends_agree_on_a_random_model(keras, torch, seed):
    report = modelrun.compare(load(seed), seed)
    assert report.diffs, "nothing was compared"
    off = {k: f"{v:.2e}" for k, v in report.diffs.items() if v > report.tol}
    assert not off, f"random_spec({seed}), tolerance {report.tol:g}: {off}"


# The smallest specs of what this fuzzer found, each fixed since: NumPy and torch did not
# apply Keras 3's masks inside maximum/minimum/multiply; Keras refused a model whose masked
# concatenate shared its name with the `concatenate` operation computing its mask; torch
# refused token ids other than int32/int64 and float inputs other than float32, and ran a
# BatchNormalization with trainable=false on batch statistics in training mode; NumPy's LSTM
# scaled its cell state by the output gate when its activation was linear; a LayerNormalization
# over axes written out of order ([2, -1, 1]) had its gamma in the written order, Keras's is sorted.
FOUND = {
    "masked maximum": """model m { input a: float32[3, 2]; input tok: int32[3]
        e = Embedding(5, 2, mask_zero=true)(tok); output y = maximum([e, a]) }""",
    "masked minimum of three": """model m { input a: float32[3, 2]; input tok: int32[3]
        e = Embedding(5, 2, mask_zero=true)(tok); f = Embedding(5, 2, mask_zero=true)(tok)
        output y = minimum([e, a, f]) }""",
    "masked multiply": """model m { input a: float32[4, 3]; input tok: int32[4]
        e = Embedding(6, 3, mask_zero=true)(tok); f = Embedding(6, 3, mask_zero=true)(tok)
        output y = multiply([e, a]); output z = multiply([e, f]) }""",
    "frozen BatchNormalization in training": """model m { input x: float32[4]
        output y = BatchNorm(trainable=false)(x) }""",
    "LSTM with a linear activation": """model m { input x: float32[4, 3]
        output y = LSTM(3, activation=linear)(x) }""",
    "masked concatenate into LSTM": """model m { input tok: int32[4]
        e = Embedding(6, 3, mask_zero=true)(tok); f = Embedding(6, 3, mask_zero=true)(tok)
        output y = LSTM(2)(concatenate([e, f])) }""",
    "uint8 and int16 token ids": """model m { input a: uint8[3]; input b: int16[3]
        output y = concatenate([Embedding(5, 2)(a), Embedding(5, 2)(b)]) }""",
    "LayerNormalization over axes out of order": """model m { input x: float32[4, 3, 2]
        output y = LayerNorm(axis=[2, -1, 1])(x); output z = LayerNorm(axis=[-1, 1], center=false)(x) }""",
    "float64 and float16 inputs": """model m { input a: float64[4]; input b: float16[4]
        h = BatchNorm()(Dense(4)(b)); output y = add([h, Dense(4)(a)]) }""",
}


@pytest.mark.parametrize("name", FOUND)
def test_what_the_fuzzer_found_stays_fixed(keras, torch, name):
    report = modelrun.compare(spec2net.loads(FOUND[name]), 0)
    off = {k: f"{v:.2e}" for k, v in report.diffs.items() if v > report.tol}
    assert report.diffs and not off, off
