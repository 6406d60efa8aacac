"""The NumPy initializers against Keras's formulas (keras/src/initializers): bounds, means
and standard deviations over large draws, truncation at two standard deviations,
orthogonality, and the seeding rules (same spec and seed, same bytes)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from spec2net.backends import numpy as nb
from spec2net.backends.numpy.initializers import TRUNC_STD, compute_fans, initialize

import spec2net
from spec2net.ir import Ref
from spec2net.registry import REGISTRIES

SHAPE = (400, 300)  # 120,000 draws: the sample std is within ~0.5% of the true one


def draw(name, shape=SHAPE, seed=0, **kw):
    """Our draw of ``name`` with the registry's defaults filled, as the checker fills them."""
    args = {a.name: kw.get(a.name, a.default) for a in REGISTRIES["initializer"][name].args}
    return initialize(Ref("initializer", name, tuple(args.items())), shape, np.random.default_rng(seed))


@pytest.mark.parametrize("name, scale, fan", [
    ("glorot_uniform", 1.0, (400 + 300) / 2), ("he_uniform", 2.0, 400), ("lecun_uniform", 1.0, 400)])
def test_variance_scaling_uniform(name, scale, fan):
    w = draw(name)
    limit = math.sqrt(3.0 * scale / fan)  # glorot: sqrt(6 / (fan_in + fan_out)); he: sqrt(6 / fan_in)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.999 * limit
    assert abs(w.mean()) < 0.01 * limit
    assert w.std() == pytest.approx(limit / math.sqrt(3.0), rel=0.01)


@pytest.mark.parametrize("name, scale, fan", [
    ("glorot_normal", 1.0, (400 + 300) / 2), ("he_normal", 2.0, 400), ("lecun_normal", 1.0, 400)])
def test_variance_scaling_truncated_normal(name, scale, fan):
    w = draw(name)
    target = math.sqrt(scale / fan)  # Keras divides by 0.8796... so that the truncated std is this
    bound = 2.0 * target / TRUNC_STD
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(target, rel=0.01)
    assert abs(w.mean()) < 0.01 * target


def test_truncated_and_plain_normal():
    t = draw("truncated_normal", mean=1.0, stddev=0.5)
    assert t.min() >= 0.0 and t.max() <= 2.0  # two standard deviations around the mean
    assert t.mean() == pytest.approx(1.0, abs=0.005)
    assert t.std() == pytest.approx(0.5 * TRUNC_STD, rel=0.01)  # a truncated normal is narrower
    n = draw("random_normal", mean=-2.0, stddev=0.3)
    assert n.mean() == pytest.approx(-2.0, abs=0.005) and n.std() == pytest.approx(0.3, rel=0.01)
    assert np.abs(n + 2.0).max() > 4 * 0.3  # not truncated


def test_random_uniform():
    u = draw("random_uniform", minval=-0.05, maxval=0.05)
    assert u.min() >= -0.05 and u.max() < 0.05
    assert u.mean() == pytest.approx(0.0, abs=5e-4) and u.std() == pytest.approx(0.1 / math.sqrt(12), rel=0.01)


@pytest.mark.parametrize("shape", [(50, 30), (30, 50), (4, 5, 20), (16, 16)])
def test_orthogonal(shape):
    q = draw("orthogonal", shape, gain=2.0).reshape(-1, shape[-1])
    rows, cols = q.shape
    gram = q.T @ q if rows >= cols else q @ q.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-12)


def test_constants_and_identity():
    assert np.array_equal(draw("zeros", (3,)), np.zeros(3)) and np.array_equal(draw("ones", (2, 2)), np.ones((2, 2)))
    assert np.array_equal(draw("constant", (2,), value=0.7), [0.7, 0.7])
    np.testing.assert_array_equal(draw("identity", (2, 3), gain=3.0), [[3, 0, 0], [0, 3, 0]])
    with pytest.raises(ValueError, match="2-D"):
        draw("identity", (2, 2, 2), gain=1.0)


def test_fans_match_keras(keras):
    from keras.src.initializers.random_initializers import compute_fans as keras_fans

    for shape in [(5,), (7, 3), (3, 3, 4, 8), (2, 2, 2)]:
        assert compute_fans(shape) == keras_fans(shape)


@pytest.mark.parametrize("name", ["glorot_uniform", "he_normal", "lecun_normal", "orthogonal", "truncated_normal"])
def test_same_distribution_as_keras(keras, name):
    """Keras's own draw of the same initializer and shape: the same spread and range."""
    ours = draw(name, (200, 150), **({"mean": 0.0, "stddev": 0.05} if name == "truncated_normal" else {}))
    theirs = np.asarray(keras.initializers.get({"class_name": name, "config": {"seed": 1}})((200, 150)))
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.05)


SPEC = """
model m {
    input x: float32[6, 3]
    h = LSTM(4, return_sequences=true)(x)
    a = Dense(5, kernel_initializer=he_normal(seed=11), bias_initializer=random_normal(stddev=1.0))(h)
    b = Dense(5, kernel_initializer=he_normal(seed=11))(h)
    output y = add([a, b])
}
"""


def test_seeding_is_deterministic_and_per_weight():
    net = spec2net.loads(SPEC)
    w0, again, w1 = nb.init_weights(net.ir, 0), nb.init_weights(net.ir, 0), nb.init_weights(net.ir, 1)
    assert all(w0[k].tobytes() == again[k].tobytes() for k in w0)
    assert not np.array_equal(w0["lstm/kernel"], w1["lstm/kernel"])
    assert not np.array_equal(w0["dense/bias"], w1["dense/bias"])
    # an initializer's own seed fixes its draw, whatever the global seed, as in Keras
    assert np.array_equal(w0["dense/kernel"], w0["dense_1/kernel"])
    assert np.array_equal(w0["dense/kernel"], w1["dense/kernel"])
    # LSTM: unit_forget_bias starts the forget gate's bias at one, the others at zero
    np.testing.assert_array_equal(w0["lstm/bias"], np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    # the recurrent kernel is orthogonal
    np.testing.assert_allclose(w0["lstm/recurrent_kernel"] @ w0["lstm/recurrent_kernel"].T, np.eye(4), atol=1e-6)


def test_bn_moving_statistics_are_initialized():
    net = spec2net.load(spec2net.__file__.rsplit("spec2net", 1)[0] + "examples/normalized.net")
    w = nb.init_weights(net.ir)
    np.testing.assert_array_equal(w["batch_normalization/moving_mean"], np.zeros(32))
    np.testing.assert_array_equal(w["batch_normalization/moving_variance"], np.ones(32))


@pytest.mark.parametrize("forget", [True, False])
def test_lstm_bias_initializer_as_keras_builds_it(keras, forget):
    """LSTMCell.build: with unit_forget_bias the forget gate's quarter is ones, the rest from
    bias_initializer; our bias parameter's initializer (from the registry) draws the same."""
    spec = ("model m {\n    input x: float32[2, 3]\n"
            f"    output y = LSTM(4, bias_initializer=constant(0.5), unit_forget_bias={str(forget).lower()})(x)\n}}\n")
    model = spec2net.loads(spec).ir
    assert model.layers[0].params[2].initializer.name == ("unit_forget_bias" if forget else "constant")
    ours = nb.init_weights(model)["lstm/bias"]
    layer = keras.layers.LSTM(4, bias_initializer=keras.initializers.Constant(0.5), unit_forget_bias=forget)
    layer.build((None, 2, 3))
    np.testing.assert_array_equal(ours, np.asarray(layer.cell.bias))
