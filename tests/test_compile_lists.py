"""compile's lists and per-output metrics (LANGUAGE.md, compile): examples/multi_output.net with its
losses and loss weights written as lists in output order, its metrics as a list or as a dict per
output, trained by real Keras (the generated module), the NumPy trainer and the torch module:
the same history keys, histories within 1e-5, weights within 1e-4. The outputs are declared
``topic, score``, not in sorted order, so a list Keras applied in sorted-name order would pair
each loss with the other output and fail here."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT
from fit_parity import history_diff, keras_fit, numpy_fit, torch_fit, weights_diff
from numpy_keras_helpers import DiffTable
from spec2net.backends import numpy as nb
from test_torch_backend import load_module

import spec2net

EXAMPLE = (ROOT / "examples" / "multi_output.net").read_text(encoding="utf-8")
DICT_FORM = """        loss = {topic: categorical_crossentropy, score: mse}
        loss_weights = {topic: 1.0, score: 0.5}
        metrics = [accuracy]
"""
LIST_FORM = """        loss = [categorical_crossentropy, mse]
        loss_weights = [1.0, 0.5]
        metrics = %s
"""
VARIANTS = {
    "lists": "[accuracy]",
    "metric dict": "{topic: [accuracy, categorical_accuracy], score: [mean_absolute_error]}",
}
ONE_OUTPUT = "{score: [mean_squared_error]}"
# "lists" means the example's dicts (test_lists_mean_the_dicts_in_output_order), which
# tests/test_torch_training.py trains against Keras already: trained here, the lists with a metric dict
TRAINED = ["metric dict"]

FIT = {"epochs": 2, "batch_size": 8, "shuffle": False, "validation_split": 0.25}
DIFFS = DiffTable()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    DIFFS.report(request.config, "multi_output with compile lists, worst |diff| vs Keras fit:")


def _net(variant: str):
    assert DICT_FORM in EXAMPLE, "examples/multi_output.net changed: update DICT_FORM"
    return spec2net.loads(EXAMPLE.replace(DICT_FORM, LIST_FORM % VARIANTS.get(variant, variant)))


def test_lists_mean_the_dicts_in_output_order():
    ir = _net("lists").ir.compile
    want = spec2net.loads(EXAMPLE).ir.compile
    assert ir.loss == want.loss and ir.loss_weights == want.loss_weights and ir.metrics == want.metrics
    metrics = _net("metric dict").ir.compile.metrics
    assert {k: [m.name for m in v] for k, v in metrics.items()} == {
        "topic": ["accuracy", "categorical_accuracy"], "score": ["mean_absolute_error"]}
    assert _net(ONE_OUTPUT).ir.compile.metrics["topic"] == ()


@pytest.fixture(scope="module")
def trained(keras, torch):
    """Each variant trained three ways, once for the module."""
    from test_torch_training import _data

    out = {}
    for variant in TRAINED:
        net = _net(variant)
        start = nb.init_weights(net.ir, 0)
        x, y = _data(net)
        out[variant] = {how: fit(net, start, x, y, **FIT) for how, fit in
                        (("keras", keras_fit), ("numpy", numpy_fit), ("torch", torch_fit))}
    return out


@pytest.mark.parametrize("how", ["numpy", "torch"])
@pytest.mark.parametrize("variant", TRAINED)
def test_history_and_weights_match_keras(trained, variant, how):
    (want_w, want_h), (got_w, got_h) = trained[variant]["keras"], trained[variant][how]
    per_output = {"topic_accuracy", "topic_categorical_accuracy", "score_mean_absolute_error"}
    assert per_output | {f"val_{k}" for k in per_output} <= set(want_h)  # Keras's own keys, first
    d = history_diff(got_h, want_h)
    DIFFS.add(f"{variant}, {how} history", d)
    assert d <= 1e-5
    d = weights_diff(got_w, want_w)
    DIFFS.add(f"{variant}, {how} weights", d)
    assert d <= 1e-4


def test_keras_module_passes_lists_in_output_order(keras):
    source = _net("metric dict").build("keras")
    assert "loss=[keras.losses.CategoricalCrossentropy(), keras.losses.MeanSquaredError()]" in source
    assert "loss_weights=[1.0, 0.5]" in source
    assert "metrics=[" in source and '["mean_absolute_error"]' in source
    # an output without metrics: Keras takes an empty list for it and logs nothing for it
    mod = load_module(_net(ONE_OUTPUT).build("keras"))
    model = mod["compile_model"](mod["build_model"]())
    x = {"tokens": np.ones((4, 20), np.int32)}
    y = {"topic": np.eye(5, dtype=np.float32)[[0, 1, 2, 3]], "score": np.zeros((4, 1), np.float32)}
    history = model.fit(x["tokens"], y, epochs=1, verbose=0).history
    assert sorted(history) == ["loss", "score_loss", "score_mean_squared_error", "topic_loss"]
