"""Every example's summary against its hand-written Keras twin (tests/keras_twins.py).

The twins name no layer by hand (unless the spec does), so equal names here
prove spec2net numbers layers exactly as Keras does (LANGUAGE.md section 9).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import EXAMPLES

import spec2net

STEMS = [p.stem for p in EXAMPLES]


@pytest.fixture(scope="module")
def twins(keras):
    import keras_twins

    return keras_twins


def test_every_example_has_a_twin(twins):
    assert sorted(twins.TWINS) == sorted(STEMS)


def _count(variables) -> int:
    return int(sum(np.prod(v.shape) for v in variables))


def _summary_numbers(text: str) -> dict:
    found = dict(re.findall(r"^ (Total|Trainable|Non-trainable) params: ([\d,]+) ", text, re.MULTILINE))
    return {k: int(v.replace(",", "")) for k, v in found.items()}


@pytest.mark.parametrize("stem", STEMS)
def test_param_counts_equal_keras(twins, stem):
    net = spec2net.load(str(_path(stem)))
    model = twins.build_twin(stem)
    trainable, frozen = _count(model.trainable_weights), _count(model.non_trainable_weights)
    assert trainable + frozen == model.count_params()
    assert net.ir.count_params() == (trainable, frozen)
    assert _summary_numbers(net.summary()) == {"Total": model.count_params(), "Trainable": trainable,
                                               "Non-trainable": frozen}


@pytest.mark.parametrize("stem", STEMS)
def test_layers_names_and_shapes_equal_keras(twins, keras, stem):
    net = spec2net.load(str(_path(stem)))
    model = twins.build_twin(stem)
    k_layers = [lay for lay in model.layers if not isinstance(lay, keras.layers.InputLayer)]
    assert [lay.name for lay in k_layers] == [lay.name for lay in net.ir.layers]
    for ours, theirs in zip(net.ir.layers, k_layers):
        assert type(theirs).__name__ == ours.type
        # a shared layer's summary row shows its first call, as Keras's does
        k_shapes = [tuple(t.shape) for t in theirs._inbound_nodes[0].output_tensors]
        our_shapes = [(None, *t.type.shape) for t in ours.nodes[0].outputs]
        assert our_shapes == k_shapes, ours.name
        # a wrapper's parameters are named by their path below it (forward_lstm/kernel), as the keys
        assert [(f"{ours.name}/{p.name}", p.shape, p.trainable) for p in ours.params] == \
            [(twins.weight_key(theirs, v), tuple(v.shape), v.trainable) for v in theirs.weights], ours.name


@pytest.mark.parametrize("stem", STEMS)
def test_inputs_and_outputs_equal_keras(twins, stem):
    net = spec2net.load(str(_path(stem)))
    model = twins.build_twin(stem)
    assert [t.input_name for t in net.ir.inputs] == [t.name for t in model.inputs]
    assert [(None, *t.type.shape) for t in net.ir.inputs] == [tuple(t.shape) for t in model.inputs]
    assert [t.type.dtype for t in net.ir.inputs] == [t.dtype for t in model.inputs]
    assert [(None, *o.tensor.type.shape) for o in net.ir.outputs] == [tuple(t.shape) for t in model.outputs]


@pytest.mark.parametrize("stem", STEMS)
def test_weight_keys_round_trip_through_twin(twins, stem):
    net = spec2net.load(str(_path(stem)))
    model = twins.build_twin(stem)
    rng = np.random.default_rng(0)
    weights = {k: rng.standard_normal(p.shape).astype(np.float32) for k, p in net.ir.weight_keys()}
    twins.set_weights(model, weights)
    back = twins.get_weights(model)
    assert sorted(back) == sorted(weights)
    for key, value in weights.items():
        np.testing.assert_array_equal(back[key], value)


def test_set_weights_rejects_a_missing_key(twins):
    model = twins.build_twin("mlp")
    weights = twins.get_weights(model)
    del weights["dense_1/bias"]
    with pytest.raises(KeyError, match="dense_1/bias"):
        twins.set_weights(model, weights)


def test_summary_lists_inputs_then_layers_with_connections():
    text = spec2net.load(str(_path("shared"))).summary()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "Layer (type)" not in line]
    assert [r.split("|")[1].strip() for r in rows] == [
        "left (InputLayer)", "right (InputLayer)", "encoder (Dense)", "subtract (Subtract)", "dense (Dense)"]
    assert "encoder[0][0], encoder[1][0]" in rows[3]
    assert "left, right" in rows[2]


def _path(stem):
    return next(p for p in EXAMPLES if p.stem == stem)
