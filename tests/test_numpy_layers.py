"""The NumPy interpreter against real Keras, layer by layer: every registry sample, every
activation, and masked sequences through the recurrent layers. Same weights, same inputs;
inference (``model(x, training=False)``) and, where training mode is deterministic,
``model(x, training=True)`` with BatchNormalization's updated moving statistics."""

from __future__ import annotations

import numpy as np
import pytest
from numpy_keras_helpers import (
    EMB,
    MASKED,
    TOKENS,
    DiffTable,
    chain_spec,
    keras_chain,
    max_diff,
    random_inputs,
    random_weights,
)
from registry_samples import layer_samples
from spec2net.backends import numpy as nb

import spec2net
from spec2net.registry import canonical

TOL = 1e-5
DIFFS = DiffTable()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    DIFFS.report(request.config, "NumPy interpreter vs Keras, worst |diff| per layer:")


ACTIVATIONS = sorted(canonical("activation"))



def _compare(keras, inputs_spec, chain, group, x=None, training=False, tol=TOL):
    net = spec2net.loads(chain_spec(inputs_spec, chain))
    weights = random_weights(net.ir)
    if x is None:
        vocab = next((a["input_dim"] for t, a in chain if t == "Embedding"), None)
        x = random_inputs(net.ir, vocab=vocab)
    got = nb.run(net.ir, x, weights, training=training, seed=0)
    model = keras_chain(keras, inputs_spec, chain)
    from keras_twins import get_weights, set_weights

    set_weights(model, weights)
    want = model([x[f"x{i}"] for i in range(len(inputs_spec))], training=training)
    want = want if isinstance(want, (list, tuple)) else [want]
    assert len(want) == len(net.output_names)
    for name, w in zip(net.output_names, want):
        d = max_diff(got[name], w)
        DIFFS.add(group, d)
        assert d <= tol, f"{name}: max |diff| {d:.3g} > {tol}"
    if training:
        after = get_weights(model)  # Keras updated its moving statistics in place
        assert set(got["__state__"]) == {k for k in after if k.endswith(("moving_mean", "moving_variance"))}
        for key, value in got["__state__"].items():
            d = max_diff(value, after[key])
            DIFFS.add(group + " (moving stats)", d)
            assert d <= tol, f"{key}: max |diff| {d:.3g}"
    return got


@pytest.mark.parametrize("layer, args, inputs", layer_samples())
def test_layer_inference(keras, layer, args, inputs):
    _compare(keras, inputs, [(layer, args)], layer)


@pytest.mark.parametrize("layer, args, inputs", layer_samples(deterministic_only=True))
def test_layer_training(keras, layer, args, inputs):
    _compare(keras, inputs, [(layer, args)], layer + " (training)", training=True)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation(keras, name):
    x = {"x0": np.linspace(-6, 6, 2 * 3 * 8, dtype=np.float32).reshape(2, 3, 8)}
    _compare(keras, [("float32", (3, 8))], [("Activation", {"activation": name})], "activation " + name, x=x)
    _compare(keras, [("float32", (3, 8))], [("Dense", {"units": 4, "activation": name})], "Dense " + name)


@pytest.mark.parametrize("name", sorted(MASKED))
def test_masked_recurrent(keras, name):
    chain = MASKED[name]
    tol = 1e-4 if name.endswith("stack") else TOL
    got = _compare(keras, [("int32", (6,))], chain, "masked " + chain[-1][0], x={"x0": TOKENS}, tol=tol)
    # the fully padded row never updates its state: zeros throughout, as in Keras
    assert np.all(got["o0"][3] == 0)


@pytest.mark.parametrize("layer, args", [("Reshape", {"target_shape": (6, 4)}), ("Flatten", {})])
def test_reshaping_drops_the_mask(keras, layer, args):
    """Keras's Flatten and Reshape do not support masking: a recurrence after them runs every step,
    padding included (the registry's mask="drop")."""
    chain = [EMB, (layer, args)] + ([("Reshape", {"target_shape": (6, 4)})] if layer == "Flatten" else [])
    got = _compare(keras, [("int32", (6,))], chain + [("LSTM", {"units": 3})], "mask dropped by " + layer,
                   x={"x0": TOKENS})
    assert np.all(got["o0"][3] != 0)  # the fully padded row ran its steps


def test_masked_steps_hold_the_state():
    """Without Keras: a masked step repeats the previous output and state exactly."""
    net = spec2net.loads(chain_spec([("int32", (6,))], MASKED["LSTM-seq-state"]))
    got = nb.run(net.ir, {"x0": TOKENS}, random_weights(net.ir))
    seq = got["o0"]
    np.testing.assert_array_equal(seq[0, 3], seq[0, 2])  # post-padding: the last real output repeats
    np.testing.assert_array_equal(seq[0, 5], got["o1"][0])  # and it is the final state h
    assert np.all(seq[1, :2] == 0) and np.any(seq[1, 2] != 0)  # pre-padding: zeros until the first token


def test_float64_runs_in_float64():
    net = spec2net.loads(chain_spec([("float32", (5, 3))], [("LSTM", {"units": 2}), ("Dense", {"units": 1})]))
    w = random_weights(net.ir)
    x = random_inputs(net.ir)
    y64 = nb.run(net.ir, x, w, dtype=np.float64)["o0"]
    y32 = nb.run(net.ir, x, w)["o0"]
    assert y64.dtype == np.float64 and y32.dtype == np.float32
    assert 0 < max_diff(y64, y32) < 1e-5


def test_trace_has_every_node():
    net = spec2net.load(spec2net.__file__.rsplit("spec2net", 1)[0] + "examples/shared.net")
    w = nb.init_weights(net.ir, 0)
    x = random_inputs(net.ir)
    out = nb.run(net.ir, x, w, trace=True)
    assert list(out["__trace__"]) == ["encoder", "encoder#1", "subtract", "dense"]
    np.testing.assert_array_equal(out["__trace__"]["dense"][0], out["similar"])
    np.testing.assert_allclose(out["__trace__"]["subtract"][0],
                               out["__trace__"]["encoder"][0] - out["__trace__"]["encoder#1"][0])


def test_batchnorm_masked_training(keras):
    """BN after Embedding(mask_zero) in training: Keras's masked moments (padding weighs nothing)."""
    chain = [EMB, ("BatchNormalization", {"momentum": 0.8}), ("LSTM", {"units": 3})]
    _compare(keras, [("int32", (6,))], chain, "masked BatchNormalization (training)", x={"x0": TOKENS[:3]},
             training=True)


DROP = "model d { input x: float32[40, 50]; output y = Dropout(0.3)(x) }"


def test_dropout_keeps_the_fraction_and_scales():
    net = spec2net.loads(DROP)
    x = np.ones((20, 40, 50), np.float32)  # 40,000 values
    y = nb.run(net.ir, {"x": x}, {}, training=True, seed=3)["y"]
    kept = y != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.01)  # 3 sigma is 0.007
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)  # inverted scaling
    again = nb.run(net.ir, {"x": x}, {}, training=True, seed=3)["y"]
    other = nb.run(net.ir, {"x": x}, {}, training=True, seed=4)["y"]
    assert np.array_equal(y, again) and not np.array_equal(y, other)


def test_dropout_is_the_identity_at_inference():
    net = spec2net.loads(DROP)
    x = np.random.default_rng(0).standard_normal((3, 40, 50)).astype(np.float32)
    np.testing.assert_array_equal(nb.run(net.ir, {"x": x}, {}, seed=3)["y"], x)


def test_dropout_matches_keras_statistics(keras):
    """Keras's Dropout in training: the same kept fraction and the same scaled values."""
    x = np.ones((20, 40, 50), np.float32)
    theirs = np.asarray(keras.layers.Dropout(0.3, seed=1)(x, training=True))
    ours = nb.run(spec2net.loads(DROP).ir, {"x": x}, {}, training=True, seed=1)["y"]
    assert (ours != 0).mean() == pytest.approx((theirs != 0).mean(), abs=0.015)
    assert np.unique(ours).tolist() == pytest.approx(np.unique(theirs).tolist(), rel=1e-6)


def test_recurrent_dropout_in_training_only():
    net = spec2net.loads(chain_spec([("float32", (6, 3))], [("LSTM", {"units": 4, "dropout": 0.5,
                                                                      "recurrent_dropout": 0.5})]))
    w, x = random_weights(net.ir), random_inputs(net.ir)
    plain = spec2net.loads(chain_spec([("float32", (6, 3))], [("LSTM", {"units": 4})]))
    infer = nb.run(net.ir, x, w)["o0"]
    np.testing.assert_array_equal(infer, nb.run(plain.ir, x, w)["o0"])  # no dropout at inference
    t1, t2 = (nb.run(net.ir, x, w, training=True, seed=s)["o0"] for s in (1, 2))
    assert not np.allclose(t1, infer) and not np.allclose(t1, t2)
    np.testing.assert_array_equal(t1, nb.run(net.ir, x, w, training=True, seed=1)["o0"])


def test_errors_name_the_problem():
    net = spec2net.loads(chain_spec([("int32", (4,))], [("Embedding", {"input_dim": 5, "output_dim": 2})]))
    w = random_weights(net.ir)
    with pytest.raises(nb.InputError, match=r"input 'x0': expected shape \(None, 4\)"):
        nb.run(net.ir, {"x0": np.zeros((2, 3), np.int32)}, w)
    with pytest.raises(nb.InputError, match="missing \\['x0'\\], unexpected \\['x'\\]"):
        nb.run(net.ir, {"x": np.zeros((2, 4), np.int32)}, w)
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 5\)"):
        nb.run(net.ir, {"x0": np.full((2, 4), 5, np.int32)}, w)


def test_keeping_caches_changes_nothing():
    """forward(keep=True), the entry point of a later backward pass, computes the same values
    and records each node's cache (Dense's pre-activation, the LSTM's gates and cell states)."""
    chain = [("LSTM", {"units": 4, "return_sequences": True}), ("GRU", {"units": 3, "return_sequences": True}),
             ("BatchNormalization", {}), ("Dense", {"units": 2, "activation": "gelu"})]
    net = spec2net.loads(chain_spec([("float32", (5, 3))], chain))
    w, x = random_weights(net.ir), random_inputs(net.ir)
    plain = nb.run(net.ir, x, w, training=True)
    values, _, caches, state = nb.forward(net.ir, x, w, training=True, keep=True)
    np.testing.assert_array_equal(values[net.ir.outputs[0].tensor], plain["o0"])
    lstm, gru, _bn, dense = net.ir.nodes
    assert caches[lstm]["gates"].shape == (5, 3, 16) and caches[lstm]["cells"].shape == (5, 3, 4)
    assert caches[gru]["recurrent_h"].shape == (5, 3, 3)
    _x_in, z, y = caches[dense]
    np.testing.assert_array_equal(y, plain["o0"])
    assert not np.array_equal(z, y)  # the pre-activation survives the activation
    assert set(state) == {"batch_normalization/moving_mean", "batch_normalization/moving_variance"}
