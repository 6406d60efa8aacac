"""Language 0.2's losses, metrics and activations against real Keras: every registered activation
(values and gradients), every loss with its arguments (values and gradients, NumPy and the torch
runtime), every metric accumulated over two batches as Keras's metric objects accumulate them.
One line per case; the data kinds are built once."""

from __future__ import annotations

import numpy as np
import pytest
from numpy_keras_helpers import DiffTable
from spec2net.backends.numpy.activations import ACTIVATIONS, activation
from spec2net.backends.numpy.grads.activations import act_grad
from spec2net.backends.numpy.losses import LOSSES
from spec2net.backends.numpy.metrics import tracker

from spec2net.ir import Ref
from spec2net.registry import REGISTRIES, canonical

TOL = 1e-6
DIFFS = DiffTable()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    DIFFS.report(request.config, "losses, metrics, activations vs Keras, worst |diff|:")


def _filled(kind: str, name: str, **given) -> Ref:
    entry = REGISTRIES[kind][name]
    return Ref(kind, entry.name, tuple((a.name, given.get(a.name, a.default)) for a in entry.args))


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


def _data(kind: str):
    """(targets, predictions) of one kind, (6, 4) unless said: float32, seeded."""
    rng = np.random.default_rng(3)
    z = rng.normal(size=(6, 4)).astype(np.float32)
    real = rng.normal(size=(6, 4)).astype(np.float32)
    ids = rng.integers(0, 4, size=(6,))
    onehot = np.eye(4, dtype=np.float32)[ids]
    binary = (rng.random((6, 4)) > 0.5).astype(np.float32)
    return {
        "real": (real, z),
        "positive": (np.abs(real) * 2, np.log1p(np.exp(z))),  # poisson's counts and rates
        "logits-binary": (binary, z),
        "probs-binary": (binary, 1 / (1 + np.exp(-z))),
        "signed": (2 * binary - 1, z),  # -1/1 labels
        "mixed": (np.where(binary > 0, 1.0, -0.5).astype(np.float32), z),  # not 0/1: left unconverted
        "logits-onehot": (onehot, z),
        "probs-onehot": (onehot, _softmax(z)),
        "probs-dist": (_softmax(real), _softmax(z)),
        "ids": (ids[:, None].astype(np.int32), _softmax(z)),
        "ties": (onehot, np.round(z)),  # tied scores across the top-k boundary
        "seq-real": (rng.normal(size=(3, 5, 4)).astype(np.float32), rng.normal(size=(3, 5, 4)).astype(np.float32)),
    }[kind]


# -- activations -------------------------------------------------------------------------------
ACTS = sorted(canonical("activation"))


def _act_ref(name):
    return _filled("activation", name)


@pytest.mark.parametrize("name", ACTS)
def test_activation_matches_keras(keras, name):
    # the corners of the piecewise ones, zero, and values where exp saturates
    x = np.concatenate([np.linspace(-8, 8, 33), [-6, -3, -1, 0, 1, 3, 6, 40, -40]]).astype(np.float32).reshape(6, 7)
    want = np.asarray(keras.activations.get(REGISTRIES["activation"][name].keras_name)(x))
    got = activation(_act_ref(name))(x.copy())
    d = float(np.max(np.abs(got - want)))
    DIFFS.add(f"activation {name}", d)
    assert d <= TOL * max(1.0, float(np.max(np.abs(want))))


@pytest.mark.parametrize("name", ACTS)
def test_activation_gradient_matches_keras(keras, name):
    import tensorflow as tf

    z = (np.random.default_rng(5).normal(size=(5, 4)) * 3).astype(np.float32)  # no exact corner
    g = np.random.default_rng(6).normal(size=(5, 4)).astype(np.float32)
    zv = tf.Variable(z)
    with tf.GradientTape() as tape:
        y = keras.activations.get(REGISTRIES["activation"][name].keras_name)(zv)
        s = tf.reduce_sum(y * g)
    want = tape.gradient(s, zv).numpy()
    ref = _act_ref(name)
    got = act_grad(ref, z, ACTIVATIONS[name](z.copy(), **ref.kwargs), g)
    np.testing.assert_allclose(got, want, atol=TOL, rtol=1e-5)


# -- losses --------------------------------------------------------------------------------------
# (loss, arguments, data kind): every loss, its arguments off their defaults, hinge's label cases
LOSS_CASES = [
    ("binary_crossentropy", {"label_smoothing": 0.2}, "probs-binary"),
    ("binary_crossentropy", {"label_smoothing": 0.1, "from_logits": True}, "logits-binary"),
    ("categorical_crossentropy", {"label_smoothing": 0.1}, "probs-onehot"),
    ("categorical_crossentropy", {"label_smoothing": 0.3, "from_logits": True}, "logits-onehot"),
    ("huber", {}, "real"), ("huber", {"delta": 0.3}, "real"), ("huber", {"delta": 2.5}, "seq-real"),
    ("log_cosh", {}, "real"),
    ("kl_divergence", {}, "probs-dist"), ("kl_divergence", {}, "probs-onehot"),
    ("poisson", {}, "positive"),
    ("hinge", {}, "signed"), ("hinge", {}, "probs-binary"), ("hinge", {}, "mixed"),
    ("squared_hinge", {}, "signed"), ("squared_hinge", {}, "logits-binary"), ("squared_hinge", {}, "mixed"),
    ("categorical_hinge", {}, "logits-onehot"), ("categorical_hinge", {}, "probs-onehot"),
    ("cosine_similarity", {}, "real"), ("cosine_similarity", {}, "seq-real"),
    ("cosine_similarity", {"axis": 1}, "seq-real"), ("cosine_similarity", {"axis": -2}, "seq-real"),
    ("mean_absolute_percentage_error", {}, "real"),
    ("mean_squared_logarithmic_error", {}, "real"), ("mean_squared_logarithmic_error", {}, "positive"),
]
LOSS_IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in a.items())}-{d}" for n, a, d in LOSS_CASES]


def test_every_loss_has_a_case():
    assert {n for n, _, _ in LOSS_CASES} >= set(canonical("loss")) - {
        "mean_squared_error", "mean_absolute_error", "sparse_categorical_crossentropy"}  # 0.1's, elsewhere


def keras_loss(keras, name, args):
    return getattr(keras.losses, REGISTRIES["loss"][name].keras_name)(**args)


def keras_value_and_grad(keras, name, args, y, p):
    import tensorflow as tf

    pv = tf.Variable(p)
    with tf.GradientTape() as tape:
        value = keras_loss(keras, name, args)(y, pv)
    return float(value), tape.gradient(value, pv).numpy()


@pytest.mark.parametrize("name, args, kind", LOSS_CASES, ids=LOSS_IDS)
def test_numpy_loss_matches_keras(keras, name, args, kind):
    y, p = _data(kind)
    want, want_grad = keras_value_and_grad(keras, name, args, y, p)
    values, grad, _ = LOSSES[name](_filled("loss", name, **args).kwargs, y, p)
    got = float(np.mean(values))
    DIFFS.add(f"NumPy loss {name} {args} ({kind})", abs(got - want))
    assert abs(got - want) <= TOL * max(1.0, abs(want))
    np.testing.assert_allclose(grad, want_grad, atol=TOL, rtol=1e-4)


@pytest.mark.parametrize("name, args, kind", LOSS_CASES, ids=LOSS_IDS)
def test_torch_loss_matches_keras(keras, torch, name, args, kind):
    from spec2net.runtime import torch as rt

    y, p = _data(kind)
    want, want_grad = keras_value_and_grad(keras, name, args, y, p)
    pt = torch.tensor(p, requires_grad=True)
    value = getattr(rt, name)(torch.tensor(y), pt, **args)  # the generated module calls rt.<loss>
    value.backward()
    DIFFS.add(f"torch loss {name} {args} ({kind})", abs(float(value) - want))
    assert abs(float(value) - want) <= TOL * max(1.0, abs(want))
    np.testing.assert_allclose(pt.grad.numpy(), want_grad, atol=TOL, rtol=1e-4)


def test_hinge_converts_only_whole_binary_batches(keras):
    """One non-binary label in the batch, and Keras leaves the 0s as 0s: so do we."""
    y, p = _data("probs-binary")
    mixed = y.copy()
    mixed[0, 0] = 0.5
    ref = _filled("loss", "hinge").kwargs
    whole, part = (float(np.mean(LOSSES["hinge"](ref, t, p)[0])) for t in (y, mixed))
    assert abs(whole - float(keras.losses.Hinge()(y, p))) <= TOL
    assert abs(part - float(keras.losses.Hinge()(mixed, p))) <= TOL
    assert abs(whole - part) > 0.05  # the conversion made a difference


# -- metrics -------------------------------------------------------------------------------------
METRIC_CASES = [
    ("top_k_categorical_accuracy", {}, "probs-onehot"), ("top_k_categorical_accuracy", {"k": 2}, "probs-onehot"),
    ("top_k_categorical_accuracy", {"k": 1}, "ties"),
    ("sparse_top_k_categorical_accuracy", {"k": 2}, "ids"), ("sparse_top_k_categorical_accuracy", {"k": 1}, "ids"),
    ("root_mean_squared_error", {}, "real"), ("root_mean_squared_error", {}, "seq-real"),
    ("precision", {}, "probs-binary"), ("recall", {}, "probs-binary"), ("precision", {}, "logits-binary"),
    ("auc", {}, "probs-binary"), ("auc", {"num_thresholds": 7}, "probs-binary"), ("auc", {}, "logits-binary"),
]
METRIC_IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in a.items())}-{d}" for n, a, d in METRIC_CASES]


def test_every_metric_has_a_case():
    assert {n for n, _, _ in METRIC_CASES} >= set(canonical("metric")) - {
        "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "mean_squared_error",
        "mean_absolute_error"}  # 0.1's, tested with the trainer


def keras_metric(keras, name, args):
    """The metric object Keras's compile makes from the name, with the spec's arguments."""
    m = keras.metrics.get(REGISTRIES["metric"][name].keras_name)
    return type(m)(**args) if args else m


def keras_metric_result(keras, name, args, y, p):
    m = keras_metric(keras, name, args)
    for part in (slice(0, 4), slice(4, None)):  # two batches: the state accumulates
        m.update_state(y[part], p[part])
    return float(m.result())


@pytest.mark.parametrize("name, args, kind", METRIC_CASES, ids=METRIC_IDS)
def test_numpy_metric_matches_keras(keras, name, args, kind):
    y, p = _data(kind)
    want = keras_metric_result(keras, name, args, y, p)
    m = tracker(_filled("metric", name, **args))
    for part in (slice(0, 4), slice(4, None)):
        m.update(y[part], p[part])
    DIFFS.add(f"NumPy metric {name} {args} ({kind})", abs(m.result() - want))
    assert abs(m.result() - want) <= TOL, (m.result(), want)


@pytest.mark.parametrize("name, args, kind", METRIC_CASES, ids=METRIC_IDS)
def test_torch_metric_matches_keras(keras, torch, name, args, kind):
    from spec2net.runtime import torch as rt

    y, p = _data(kind)
    want = keras_metric_result(keras, name, args, y, p)
    metric = name if not args else (name, name, args)  # as the generated module lists it
    m = rt.tracker(metric, torch.tensor(y), torch.tensor(p))
    for part in (slice(0, 4), slice(4, None)):
        m.update(torch.tensor(y[part]), torch.tensor(p[part]))
    DIFFS.add(f"torch metric {name} {args} ({kind})", abs(m.result() - want))
    assert abs(m.result() - want) <= TOL, (m.result(), want)


# -- data checks ---------------------------------------------------------------------------------
def test_data_checks_know_every_loss_target():
    """spec2net.runtime.data imports no registry (the torch module inlines it): its tables of loss
    names must be the registry's target kinds."""
    from spec2net.runtime import data

    kinds = {name: entry.target for name, entry in canonical("loss").items()}
    assert set(data.SPARSE) == {n for n, k in kinds.items() if k == "class_ids"}
    assert set(data.ROWS) == {n for n, k in kinds.items() if k == "one_hot"}


@pytest.mark.parametrize("loss, message", [
    ("categorical_hinge", ("target 'y': categorical_hinge needs one-hot rows of width 4, got shape (6, 1) "
                          "(class ids? one-hot encode them)")),
    ("kl_divergence", ("target 'y': kl_divergence needs rows of probabilities of width 4, got shape (6, 1) "
                      "(class ids? one-hot encode them)")),
    ("huber", "target 'y': huber needs the output's shape (None, 4), got shape (6, 1)"),
])
def test_class_ids_for_a_row_loss_are_refused_with_a_hint(loss, message):
    import spec2net
    from spec2net.net import data_spec
    from spec2net.runtime.data import DataError, check_data

    net = spec2net.loads(f"""model m {{ input x: float32[3]
        output y = Dense(4, activation=softmax)(x)
        compile {{ optimizer = sgd; loss = {loss} }} }}""")
    with pytest.raises(DataError) as e:
        check_data(data_spec(net.ir), {"x": np.zeros((6, 3), np.float32), "y": np.arange(6)[:, None] % 4})
    assert str(e.value) == message


def test_keras_writes_a_metric_with_arguments_as_its_class(keras):
    """A metric whose arguments differ from Keras's defaults is written as Keras's class, which must
    be the class Keras makes from the name (so the history key is the same)."""
    from spec2net.backends.keras.values import METRIC_CLASSES

    with_args = [name for name, entry in canonical("metric").items() if entry.args]
    assert sorted(METRIC_CLASSES) == sorted(with_args)
    for name in with_args:
        assert type(keras.metrics.get(REGISTRIES["metric"][name].keras_name)).__name__ == METRIC_CLASSES[name]


def test_cosine_similarity_over_steps_trains_as_keras(keras, torch, tmp_path, capsys):
    """axis=1 on a sequence output: NumPy, Keras and torch agree after three Adam steps."""
    from spec2net.cli import main

    spec = tmp_path / "cos.net"
    spec.write_text("model cos {\n    input a: float32[5, 8]\n    output y = Dense(4)(a)\n"
                    "    compile { optimizer = adam; loss = cosine_similarity(axis=1) }\n}\n")
    rc = main(["equiv", str(spec), "--train", "3"])
    out = capsys.readouterr().out
    assert rc == 0 and "after 3 step(s): numpy vs keras" in out, out
