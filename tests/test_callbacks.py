"""fit's callbacks against real Keras, on a scripted validation curve: a linear model learns
``y = x . a`` while its last quarter (the validation split) wants ``0.5 x . a``, from a start on
the far side (``-0.6 a``), so val_loss falls for three epochs and then rises. Keras (the generated
module's FIT), the NumPy trainer and the torch module must run the same epochs, log the same
history (learning_rate included, within 1e-5) and end on the same (restored) weights (1e-4)."""

from __future__ import annotations

import numpy as np
import pytest
from fit_parity import history_diff, keras_fit, numpy_fit, torch_fit, weights_diff
from numpy_keras_helpers import DiffTable

import spec2net
from spec2net.registry import canonical

SPEC = """model curve {
    input x: float32[3]
    output y = Dense(1)(x)
    compile { optimizer = sgd(learning_rate=%s); loss = mse; metrics = [mean_absolute_error] }
    fit { epochs = 12; batch_size = 8; shuffle = false; validation_split = 0.25; callbacks = %s }
}"""
CASES = {
    "early stop, best restored": "[early_stopping(monitor=val_loss, patience=2, restore_best_weights=true)]",
    "no early stop, best restored at the end": "[early_stopping(patience=20, restore_best_weights=true)]",
    "min_delta, baseline, start_from_epoch": "[early_stopping(min_delta=0.05, patience=1, baseline=3.0, "
                                             "start_from_epoch=1)]",
    "a metric monitored (auto finds min)": "[early_stopping(monitor=val_mean_absolute_error, patience=1)]",
    "mode=max on a falling loss": "[early_stopping(monitor=loss, mode=max, patience=1)]",
    "reduce_lr cooldown, min_lr": "[reduce_lr_on_plateau(factor=0.5, patience=1, cooldown=1, min_lr=0.02)]",
    "reduce_lr then early stop": "[reduce_lr_on_plateau(factor=0.2, patience=1), "
                                 "early_stopping(patience=3, restore_best_weights=true)]",
    "restore over use_ema's averages": "[early_stopping(patience=2, restore_best_weights=true)]",
}
# the optimizer's arguments where a case needs more than its learning rate
OPTIMIZER = {"restore over use_ema's averages": "0.1, use_ema=true, ema_momentum=0.5"}
DIFFS = DiffTable()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    DIFFS.report(request.config, "callbacks vs Keras fit, worst |diff|:")


def _data():
    rng = np.random.default_rng(0)
    a = np.array([1.0, -2.0, 0.5], np.float32)
    x = rng.standard_normal((32, 3)).astype(np.float32)
    y = (x @ a)[:, None]
    y[24:] *= 0.5  # the validation split's own slope
    start = {"dense/kernel": (-0.6 * a)[:, None], "dense/bias": np.zeros(1, np.float32)}
    return {"x": x}, {"y": y}, start


def _three_ways(callbacks: str, lr="0.1"):
    net = spec2net.loads(SPEC % (lr, callbacks))
    x, y, start = _data()
    return {how: fit(net, start, x, y) for how, fit in
            (("keras", keras_fit), ("numpy", numpy_fit), ("torch", torch_fit))}


@pytest.fixture(scope="module")
def trained(keras, torch):
    return {case: _three_ways(callbacks, OPTIMIZER.get(case, "0.1")) for case, callbacks in CASES.items()}


def test_the_curve_falls_then_rises(trained):
    val = trained["no early stop, best restored at the end"]["keras"][1]["val_loss"]
    best = int(np.argmin(val))
    assert 0 < best < len(val) - 3 and val[-1] > 2 * val[best], val


@pytest.mark.parametrize("how", ["numpy", "torch"])
@pytest.mark.parametrize("case", list(CASES))
def test_same_epochs_history_and_weights_as_keras(trained, case, how):
    (want_w, want_h), (got_w, got_h) = trained[case]["keras"], trained[case][how]
    assert len(got_h["loss"]) == len(want_h["loss"]), "a different epoch stopped"
    d = history_diff(got_h, want_h)
    DIFFS.add(f"{how} history", d)
    assert d <= 1e-5, (got_h, want_h)
    d = weights_diff(got_w, want_w)
    DIFFS.add(f"{how} weights", d)
    assert d <= 1e-4


def test_the_cases_exercise_what_they_name(trained):
    """Keras's own runs: an early stop, a restore, rates that fall; else the cases test nothing."""
    epochs = {case: len(r["keras"][1]["loss"]) for case, r in trained.items()}
    assert epochs["early stop, best restored"] < 12 and epochs["no early stop, best restored at the end"] == 12
    assert epochs["mode=max on a falling loss"] == 2
    rates = trained["reduce_lr cooldown, min_lr"]["keras"][1]["learning_rate"]
    assert rates[0] == pytest.approx(0.1) and min(rates) == pytest.approx(0.02) and len(set(rates)) >= 3
    restored = trained["no early stop, best restored at the end"]["keras"][0]["dense/kernel"]
    last = trained["reduce_lr cooldown, min_lr"]["keras"][0]["dense/kernel"]
    assert np.abs(restored - last).max() > 0.1  # the restore moved the weights


def test_terminate_on_nan_stops_after_the_batch(keras, torch):
    """sgd(learning_rate=3) on this data diverges: Keras stops after the batch whose running loss is
    not finite; the epoch still ends (validation, history), as in Keras."""
    runs = _three_ways("[terminate_on_nan]", lr="3.0")
    want = runs["keras"][1]
    assert len(want["loss"]) < 12 and not np.isfinite(want["loss"][-1])
    for how in ("numpy", "torch"):
        got = runs[how][1]
        assert sorted(got) == sorted(want) and len(got["loss"]) == len(want["loss"])
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-4, equal_nan=True, err_msg=f"{how} {k}")


def test_keras_module_passes_the_callbacks_to_fit():
    source = spec2net.loads(SPEC % ("0.1", CASES["reduce_lr then early stop"])).build("keras")
    assert '"callbacks": [' in source and "keras.callbacks.ReduceLROnPlateau(factor=0.2, patience=1)" in source
    assert "keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)" in source


def test_every_callback_exists_in_keras_and_the_runtime(keras):
    from spec2net.runtime.callbacks import CALLBACKS

    for name, entry in canonical("callback").items():
        assert hasattr(keras.callbacks, entry.keras_name) and name in CALLBACKS
