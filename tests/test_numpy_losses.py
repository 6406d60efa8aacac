"""The NumPy losses and their gradients against real Keras (values and tf.GradientTape),
one case per registered loss (and from logits where it takes them)."""

from __future__ import annotations

import numpy as np
import pytest
from spec2net.backends.numpy.losses import LOSSES

from spec2net.registry import REGISTRIES, canonical

CASES = [(name, logits) for name, entry in canonical("loss").items()
         for logits in (False, True) if not logits or any(a.name == "from_logits" for a in entry.args)]


def _data(name, rng, from_logits):
    """(targets of the loss's kind, predictions: probabilities, or logits with ``from_logits``)."""
    target = REGISTRIES["loss"][name].target
    z = rng.normal(size=(6, 4)).astype(np.float32)
    if target in ("real", "signed"):
        if REGISTRIES["loss"][name].positive:  # poisson: the log of its predictions
            z = np.log1p(np.exp(z))
        return rng.normal(size=(6, 4)).astype(np.float32), z
    if target == "binary":
        p = z if from_logits else 1 / (1 + np.exp(-z))
        return (rng.random((6, 4)) > 0.5).astype(np.float32), p.astype(np.float32)
    p = z if from_logits else np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    labels = rng.integers(0, 4, size=(6,))
    if target == "class_ids":
        return labels[:, None].astype(np.int32), p.astype(np.float32)
    return np.eye(4, dtype=np.float32)[labels], p.astype(np.float32)


@pytest.mark.parametrize("name,from_logits", CASES)
def test_loss_and_gradient_match_keras(keras, name, from_logits):
    import tensorflow as tf

    rng = np.random.default_rng(1)
    y, p = _data(name, rng, from_logits)
    args = {a.name: from_logits if a.name == "from_logits" else a.default for a in REGISTRIES["loss"][name].args}
    kloss = getattr(keras.losses, REGISTRIES["loss"][name].keras_name)(**args)
    pv = tf.Variable(p)
    with tf.GradientTape() as tape:
        ref = kloss(y, pv)
    ref_grad = tape.gradient(ref, pv).numpy()
    values, grad, _ = LOSSES[name](args, y, p)
    value = float(np.mean(values))
    assert abs(value - float(ref)) <= 1e-6 * max(1, abs(float(ref)))
    np.testing.assert_allclose(grad, ref_grad, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name,act", [(n, e.logits_of) for n, e in canonical("loss").items() if e.logits_of])
def test_logits_behind_probabilities_match_keras_graph_mode(keras, name, act):
    """Inside tf.function Keras reads the logits behind a sigmoid/softmax output; so do we."""
    import tensorflow as tf

    rng = np.random.default_rng(2)
    y, _ = _data(name, rng, True)
    z = (rng.normal(size=(6, 4)) * 30).astype(np.float32)  # saturated: clipping would differ
    zv = tf.Variable(z)
    kloss = getattr(keras.losses, REGISTRIES["loss"][name].keras_name)()
    activation = getattr(keras.activations, act)

    @tf.function
    def f():
        with tf.GradientTape() as tape:
            loss = kloss(y, activation(zv))
        return loss, tape.gradient(loss, zv)

    ref, ref_grad = f()
    probs = np.asarray(activation(z))
    defaults = {a.name: a.default for a in REGISTRIES["loss"][name].args}
    values, _, dlogits = LOSSES[name](defaults, y, probs, logits=z)
    value = float(np.mean(values))
    assert abs(value - float(ref)) <= 1e-5 * max(1, abs(float(ref)))
    np.testing.assert_allclose(dlogits, ref_grad.numpy(), atol=1e-6, rtol=1e-4)


def test_from_logits_on_a_sigmoid_output_still_reads_the_logits_as_keras_does(keras):
    """Keras warns, then uses the logits under the sigmoid anyway; the trainer follows it."""
    import tensorflow as tf

    rng = np.random.default_rng(4)
    z = rng.normal(size=(5, 3)).astype(np.float32)
    y = (rng.random((5, 3)) > 0.5).astype(np.float32)
    kloss = keras.losses.BinaryCrossentropy(from_logits=True)
    ref = float(tf.function(lambda: kloss(y, keras.activations.sigmoid(tf.constant(z))))())
    probs = 1 / (1 + np.exp(-z))
    values, gp, gl = LOSSES["binary_crossentropy"]({"from_logits": True, "label_smoothing": 0.0}, y, probs, logits=z)
    assert gp is None and gl is not None
    assert abs(float(np.mean(values)) - ref) <= 1e-6
