"""Two epochs of fit (32 samples, batch 8, no shuffle) with language 0.2's losses and metrics: the
NumPy trainer and the generated torch module against real Keras (the generated Keras module, whose
compile arguments are checked to be the spec's), every weight within 1e-4 and every history
entry, the stateful metrics' epoch values (precision, recall, auc, root_mean_squared_error)
included. One case per loss."""

from __future__ import annotations

import numpy as np
import pytest
from numpy_keras_helpers import DiffTable, max_diff
from spec2net.backends import numpy as nb
from test_torch_backend import load_module

import spec2net
from spec2net.registry import REGISTRIES

TOL = 1e-4
N, BATCH, EPOCHS = 32, 8, 2
DIFFS = DiffTable()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    DIFFS.report(request.config, "fit with 0.2's losses and metrics vs Keras (2 epochs), worst |diff|:")


SPEC = """model m {{
    input x: float32[5]
    h = Dense(6, activation={hidden})(x)
    output y = Dense({units}, activation={act})(h)
    compile {{ optimizer = {opt}; loss = {loss}; metrics = [{metrics}] }}
}}"""
# case -> (output units, output activation, loss, metrics, optimizer); hidden activations are 0.2's
CASES = {
    "bce-smoothing": (2, "sigmoid", "binary_crossentropy(label_smoothing=0.1)", "precision, recall, auc",
                      "sgd(learning_rate=0.5)", "mish"),
    "cce-smoothing": (4, "softmax", "categorical_crossentropy(label_smoothing=0.2)",
                      "top_k_categorical_accuracy(k=2), auc(num_thresholds=50)", "adam(learning_rate=0.02)", "celu"),
    "huber": (3, "linear", "huber(delta=0.5)", "root_mean_squared_error, mae", "sgd(learning_rate=0.2)", "relu6"),
    "log_cosh": (3, "linear", "log_cosh", "root_mean_squared_error", "rmsprop(learning_rate=0.01)", "hard_silu"),
    "kl_divergence": (4, "softmax", "kl_divergence", "top_k_categorical_accuracy", "adam(learning_rate=0.02)",
                      "log_sigmoid"),
    "poisson": (2, "softplus", "poisson", "root_mean_squared_error", "sgd(learning_rate=0.1)", "hard_tanh"),
    "hinge": (2, "tanh", "hinge", "precision, recall", "sgd(learning_rate=0.2)", "swish"),
    "squared_hinge": (2, "linear", "squared_hinge", "auc", "adam(learning_rate=0.02)", "tanh"),
    "categorical_hinge": (4, "linear", "categorical_hinge", "top_k_categorical_accuracy(k=1)",
                          "sgd(learning_rate=0.1)", "relu6"),
    "cosine_similarity": (3, "linear", "cosine_similarity", "mae", "sgd(learning_rate=0.5)", "celu"),
    "mape": (2, "linear", "mean_absolute_percentage_error", "root_mean_squared_error", "sgd(learning_rate=0.01)",
             "mish"),
    "msle": (2, "softplus", "mean_squared_logarithmic_error", "mse", "adam(learning_rate=0.02)", "tanh"),
    # the history keys keep the spec's spelling, as Keras's do
    "spelled-metrics": (1, "sigmoid", "binary_crossentropy", "acc, mae, mse, mean_absolute_error", "sgd(learning_rate=0.5)", "relu"),
    "sparse-top-k": (4, "log_softmax", "sparse_categorical_crossentropy(from_logits=true)",
                     "sparse_top_k_categorical_accuracy(k=2)", "adam(learning_rate=0.02)", "relu"),
}


# a masked sequence output: the MeanMetricWrapper metrics leave masked steps out, the stateful ones
# (precision, root_mean_squared_error) count them, as Keras's do
MASKED = """model m {{
    input x: int32[6]
    h = SimpleRNN(4, return_sequences=true)(Embedding(9, 3, mask_zero=true)(x))
    output y = Dense({units}, activation={act})(h)
    compile {{ optimizer = {opt}; loss = {loss}; metrics = [{metrics}] }}
}}"""
CASES["masked-sequence"] = (3, "sigmoid", "binary_crossentropy", "precision, root_mean_squared_error, binary_accuracy",
                            "sgd(learning_rate=0.5)", "")


def spec(case: str) -> str:
    units, act, loss, metrics, opt, hidden = CASES[case]
    return (MASKED if case.startswith("masked") else SPEC).format(units=units, act=act, loss=loss, metrics=metrics,
                                                                  opt=opt, hidden=hidden)


def data(net, case: str):
    """Inputs and targets of the kind the case's loss reads; hinge gets 0/1, squared_hinge -1/1."""
    rng = np.random.default_rng(0)
    x = {"x": rng.standard_normal((N, 5)).astype(np.float32)}
    units, shape = CASES[case][0], tuple(net.ir.outputs[0].tensor.type.shape)
    if case.startswith("masked"):
        tokens = rng.integers(1, 9, (N, 6))
        tokens[::2, -2:] = 0  # padding at the end of every other sample
        x = {"x": tokens.astype(np.int32)}
    entry = REGISTRIES["loss"][net.ir.compile.loss["y"].name]
    ids = rng.integers(0, units, N)
    y = {"binary": (rng.random((N, *shape)) > 0.5).astype(np.float32),
         "one_hot": np.eye(units, dtype=np.float32)[ids],
         "class_ids": ids.astype(np.int32)}.get(entry.target, rng.standard_normal((N, units)).astype(np.float32))
    if entry.target == "signed":
        y = (rng.random((N, units)) > 0.5).astype(np.float32)
        y = y if case == "hinge" else 2 * y - 1
    if entry.name == "kl_divergence":
        e = np.exp(rng.standard_normal((N, units)))
        y = (e / e.sum(-1, keepdims=True)).astype(np.float32)
    if entry.positive or case == "msle":
        y = np.abs(y) * 2
    return x, {"y": y}


def keras_fit(keras, net, case, start):
    from keras_twins import get_weights, set_weights

    kmod = load_module(net.build("keras"))
    model = kmod["compile_model"](kmod["build_model"]())
    loss = net.ir.compile.loss["y"]  # the spec's loss arguments reached Keras
    kwargs = model.loss["y"]._fn_kwargs  # keyed by output name; LossFunctionWrapper's arguments
    assert all(kwargs[k] == v for k, v in loss.args), (kwargs, loss)
    set_weights(model, start)
    x, y = data(net, case)
    history = model.fit(x["x"], y["y"], epochs=EPOCHS, batch_size=BATCH, shuffle=False, verbose=0).history
    return get_weights(model), history


@pytest.fixture(scope="module")
def keras_runs(keras):
    """Each case's Keras fit, run once for the NumPy and the torch test."""
    cache = {}

    def run(case):
        if case not in cache:
            net = spec2net.loads(spec(case))
            start = nb.init_weights(net.ir, 0)
            cache[case] = (net, start, *keras_fit(keras, net, case, start))
        return cache[case]

    return run


def compare(label, got, history, want, want_history, start):
    moved = max(max_diff(want[k], start[k]) for k in want)
    assert moved > 10 * TOL, "training left the weights where they were: the case tests nothing"
    assert sorted(got) == sorted(want)
    worst = max(max_diff(got[k], want[k]) for k in want)
    DIFFS.add(label, worst)
    assert worst <= TOL, f"{label}: weights differ from Keras's by {worst:.3g}"
    assert sorted(history) == sorted(want_history)
    d = max(max_diff(np.asarray(history[k]), np.asarray(want_history[k])) for k in want_history)
    DIFFS.add(label + " (history)", d)
    assert d <= TOL, f"{label}: history {history} vs Keras {want_history}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_numpy_fit_matches_keras(keras_runs, case):
    net, start, want, want_history = keras_runs(case)
    x, y = data(net, case)
    got, history = net.train({**x, **y}, start, epochs=EPOCHS, batch_size=BATCH, shuffle=False)
    compare(f"NumPy {case}", got, history, want, want_history, start)


@pytest.mark.parametrize("case", sorted(CASES))
def test_torch_fit_matches_keras(keras_runs, torch, case):
    net, start, want, want_history = keras_runs(case)
    x, y = data(net, case)
    mod = load_module(net.build("torch"))
    model = mod["build_model"]()
    mod["set_weights"](model, start)
    history = mod["fit"](model, x, y, epochs=EPOCHS, batch_size=BATCH, shuffle=False)
    compare(f"torch {case}", mod["get_weights"](model), history, want, want_history, start)
