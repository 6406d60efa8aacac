"""Convolution and pooling beyond what the registry samples test everywhere (NumPy, Keras and torch
forward, shapes, names, parameter counts, finite-difference gradients): the generated torch
module in training mode, masks into the 1D layers, located errors, and two epochs of fit of a
Conv1D + GlobalMaxPooling1D text model and a Conv2D + MaxPooling2D image model (NumPy train and
the torch fit against Keras's fit, within 1e-4)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy_keras_helpers import EMB, TOKENS, chain_spec
from registry_samples import layer_samples
from spec2net.backends.numpy import init_weights
from spec2net.backends.numpy.backprop import loss_and_grads
from spec2net.backends.numpy.train import fit
from test_bounds import _data as _budget_data
from test_bounds import _peak
from test_numpy_training import _data, keras_fit, torch_fit
from test_torch_backend import _compare_chain

import spec2net
from spec2net import budget
from spec2net.diagnostics import SpecError

CONV = {"Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
        "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D"}


@pytest.mark.parametrize("layer, args, inputs", layer_samples(types=CONV, deterministic_only=True))
def test_torch_training_forward(keras, torch, layer, args, inputs):
    """train() mode of the generated module == Keras's training=True == NumPy's (within 1e-5)."""
    _compare_chain(keras, inputs, [(layer, args)], layer + " (training)", training=True)


ROWS = {"x0": TOKENS[:3]}  # the fourth row is all padding: a masked mean of nothing is NaN, in Keras too
MASKED = {
    # Keras 3.15: the average takes only the unmasked steps, the max ignores the mask
    "average": [EMB, ("GlobalAveragePooling1D", {})],
    "average-keepdims": [EMB, ("GlobalAveragePooling1D", {"keepdims": True})],
    "max": [EMB, ("GlobalMaxPooling1D", {})],
    # the convolution and the pools drop the mask: the LSTM after them runs over every step
    "conv-drops": [EMB, ("Conv1D", {"filters": 3, "kernel_size": 2, "padding": "causal"}), ("LSTM", {"units": 2})],
    "pool-drops": [EMB, ("MaxPooling1D", {"pool_size": 2, "strides": 1}), ("LSTM", {"units": 2})],
}


@pytest.mark.parametrize("name", sorted(MASKED))
def test_masked_sequences(keras, torch, name):
    got = _compare_chain(keras, [("int32", (6,))], MASKED[name], "masked " + name, x=ROWS)
    if name == "average":  # padding changes nothing: the mean of the real steps only
        assert not np.allclose(got["o0"], 0)


def test_masked_average_gradient_by_finite_differences():
    """The masked mean's gradient reaches only the unmasked steps, by finite differences in float64."""
    # the Embedding's padding makes the mask; Dense passes it on to the pooling
    text = chain_spec([("int32", (6,))], [EMB, ("Dense", {"units": 3}), ("GlobalAveragePooling1D", {})])
    net = spec2net.loads(text.removesuffix("}") + "    compile { optimizer = sgd; loss = mse }\n}")
    w = {k: v.astype(np.float64) for k, v in init_weights(net.ir, seed=1).items()}
    y = {"o0": np.random.default_rng(0).normal(size=(3, 3))}
    _, _, grads, _, _ = loss_and_grads(net.ir, w, ROWS, y, dtype=np.float64)
    key, eps = "dense/kernel", 1e-6
    for index in [(0, 0), (2, 1), (3, 2)]:
        plus, minus = dict(w), dict(w)
        plus[key] = w[key].copy()
        plus[key][index] += eps
        minus[key] = w[key].copy()
        minus[key][index] -= eps
        fd = (loss_and_grads(net.ir, plus, ROWS, y, dtype=np.float64)[0]
              - loss_and_grads(net.ir, minus, ROWS, y, dtype=np.float64)[0]) / (2 * eps)
        assert abs(fd - grads[key][index]) < 1e-7, index


@pytest.mark.parametrize("line, message", [
    ("Conv1D(4, 3, groups=2)(x)", "the input's 3 channels do not divide into groups=2"),
    ("Conv1D(3, 2, groups=2)(x)", "filters=3 do not divide into groups=2"),
    ("Conv1D(2, 9)(x)", "does not fit the input (None, 5, 3)"),
    ("Conv1D(2, 2, strides=2, dilation_rate=2)(x)", "strides > 1 together with dilation_rate > 1"),
    ("Conv2D(2, 2)(x)", "Conv2D needs a rank-3 input per sample (height, width, channels)"),
    ("Conv2D(2, 2, padding=causal)(x)", 'expected "valid" or "same". Received: padding=causal'),
    ("Conv1D(2, (2, 2))(x)", "expected a positive integer. Received: kernel_size=(2, 2)"),
    ("MaxPooling1D(0)(x)", "expected a positive integer. Received: pool_size=0"),
    ("AveragePooling1D()(x)", "AveragePooling1D needs the argument 'pool_size'"),
    ("Conv1D(2, 2, data_format=channels_first)(x)", 'expected "channels_last". Received: data_format=channels_first'),
])
def test_bad_arguments_are_located_errors(line, message):
    text = f"model m {{\n    input x: float32[5, 3]\n    output y = {line}\n}}\n"
    with pytest.raises(SpecError) as e:
        spec2net.loads(text, file="m.net")
    shown = str(e.value)
    assert message in shown, shown
    assert "m.net:3:" in shown and "^" in shown  # file:line:col and a caret under the culprit


@pytest.mark.parametrize("layer", ["Conv1D(2, 5)", "MaxPooling1D(4)"])
def test_a_run_shorter_than_a_valid_window_is_an_input_error(layer):
    """A `?` length is known only at run time: too short for the window, it is refused with one line."""
    from spec2net.backends.numpy import InputError, run

    net = spec2net.loads(f"model m {{\n    input x: float32[?, 3]\n    output y = {layer}(x)\n}}\n")
    with pytest.raises(InputError, match=r"its \"valid\" window \(\d,\) does not fit the input's size \(3,\)"):
        run(net.ir, {"x": np.zeros((2, 3, 3), np.float32)}, init_weights(net.ir))


TEXT = """model text {
    input t: int32[12]
    e = Embedding(20, 6)(t)
    h = Conv1D(5, 3, activation=relu, padding=same)(e)
    h = Conv1D(4, 3, strides=2, padding=causal, groups=1)(h)
    h = GlobalMaxPooling1D()(h)
    output y = Dense(1, activation=sigmoid)(h)
    compile { optimizer = adam(learning_rate=0.01); loss = binary_crossentropy }
}"""
IMAGE = """model image {
    input x: float32[8, 8, 2]
    h = Conv2D(4, 3, activation=relu, padding=same)(x)
    h = MaxPooling2D()(h)
    h = Conv2D(4, (2, 2), groups=2, dilation_rate=(1, 2))(h)
    h = AveragePooling2D(2, strides=1, padding=same)(h)
    h = Flatten()(h)
    output y = Dense(3, activation=softmax)(h)
    compile { optimizer = sgd(learning_rate=0.1, momentum=0.9); loss = categorical_crossentropy }
}"""


# a softmax convolution as the output: Keras's cross-entropy reads its logits, as after a Dense (large
# weights saturate the softmax, where the clipped probabilities would give other gradients)
LOGITS = """model tagger {
    input x: float32[6, 3]
    output y = Conv1D(4, 3, padding=same, activation=softmax, kernel_initializer=random_normal(stddev=8.0))(x)
    compile { optimizer = rmsprop(learning_rate=0.01); loss = categorical_crossentropy }
}"""


@pytest.fixture(scope="module", params=["text", "image", "logits"])
def trained(request, tmp_path_factory):
    """The case's start weights, data and NumPy's weights after 2 epochs (batch 8, no shuffle)."""
    net = spec2net.loads({"text": TEXT, "image": IMAGE, "logits": LOGITS}[request.param])
    start = init_weights(net.ir, seed=5)
    rng = np.random.default_rng(7)
    data = _data(net.ir, rng)
    if request.param == "logits":  # one class per step
        data["y"] = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(32, 6))]
    ours, history = fit(net.ir, data, start, epochs=2, batch_size=8, shuffle=False)
    return request.param, net, start, data, ours, history, tmp_path_factory.mktemp(request.param)


def _worst(ours, theirs) -> float:
    assert set(ours) == set(theirs)
    return max(float(np.max(np.abs(ours[k] - theirs[k]))) for k in ours)


def test_two_epochs_match_keras_fit(keras, trained):
    case, net, start, data, ours, history, tmp = trained
    theirs, khist = keras_fit(keras, net, start, data, tmp)
    worst = _worst(ours, theirs)
    print(f"{case}: max |numpy - keras| weight diff {worst:.2e}; losses {history['loss']} vs {khist['loss']}")
    assert _worst(ours, start) > 1e-3  # the weights moved
    assert worst <= 1e-4
    np.testing.assert_allclose(history["loss"], khist["loss"], atol=1e-5, rtol=0)


def test_two_epochs_match_the_torch_fit(torch, trained):
    case, net, start, data, ours, _, tmp = trained
    worst = _worst(ours, torch_fit(torch, net, start, data, tmp))
    print(f"{case}: max |numpy - torch| weight diff {worst:.2e}")
    assert worst <= 1e-4


BUDGET = {  # the im2col matrices are the big temporaries: LayerDef.step_elements counts them
    "image": "input x: [28, 28, 3]\n h = Conv2D(32, 5, padding=same, activation=relu)(x) -> MaxPooling2D()"
             " -> Conv2D(16, 3, groups=2) -> AveragePooling2D(2, padding=same) -> GlobalAveragePooling2D()\n"
             " output y = Dense(10, activation=softmax)(h)\n"
             " compile { loss = categorical_crossentropy; optimizer = adam }",
    "text": "input t: int32[?]\n h = Embedding(1000, 32)(t) -> Conv1D(64, 7, padding=causal, activation=relu)"
            " -> MaxPooling1D(3) -> Conv1D(32, 5, strides=2) -> GlobalMaxPooling1D()\n"
            " output y = Dense(1, activation=sigmoid)(h)\n compile { loss = binary_crossentropy; optimizer = rmsprop }",
}


@pytest.mark.parametrize("name", BUDGET)
def test_the_memory_estimate_bounds_the_measured_peak(name):
    """As tests/test_bounds.py for the other layers: at least the peak tracemalloc measures, at most 8x
    (measured: 1.5x for the image model, 2.9x for the text one)."""
    net = spec2net.loads(f"model m {{\n {BUDGET[name]}\n}}")
    n, batch = 96, 32
    data = _budget_data(net, n, 60, np.random.default_rng(0))
    inputs = {k: data[k] for k in net.input_names}
    weights = net.init_weights(max_memory=0)
    fill = budget.longest_unknown(net.ir, data)
    for task, fn, rows in (("run", lambda: net.run(inputs, None, max_memory=0), n),
                           ("train", lambda: net.train(data, weights, epochs=1, batch_size=batch, max_memory=0),
                            batch)):
        peak = _peak(fn)
        estimate = sum(budget.estimate(net.ir, task, rows, fill))
        assert peak <= estimate <= 8 * peak, (task, peak, estimate)
