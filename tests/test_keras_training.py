"""The generated Keras module's compile_model and FIT: two epochs of fit equal the hand-written
twin's, optimizer arguments reach Keras, and loss weights and metrics line up with the outputs."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT
from keras_helpers import (
    by_name,
    example_inputs,
    example_targets,
    example_weights,
    load_module,
    positional,
    save_npz,
)
from numpy_keras_helpers import DiffTable, max_diff

import spec2net
from spec2net.registry import REGISTRIES, canonical

TABLE = DiffTable()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    TABLE.report(request.config, "Keras backend: fit vs the twins, worst max|diff|")


# -- compile and fit ----------------------------------------------------------------------------
COMPILED = [p.stem for p in EXAMPLES if spec2net.load(p).ir.compile is not None]


@pytest.mark.slow
@pytest.mark.parametrize("stem", COMPILED)
def test_compile_and_fit_equal_the_twin(keras, stem, tmp_path):
    from keras_twins import build_twin, compile_twin, get_weights, set_weights

    net = spec2net.load(ROOT / "examples" / f"{stem}.net")
    mod = load_module(net.build("keras"), tmp_path / f"{stem}_keras.py")
    weights = example_weights(net, seed=7)
    path = save_npz(tmp_path / "w.npz", weights)
    keras.utils.set_random_seed(0)  # the same dropout seeds in both models, built in one order
    keras.backend.clear_session(free_memory=False)
    model = mod.compile_model(mod.build_model())
    mod.load_weights(model, path)
    keras.utils.set_random_seed(0)
    twin = compile_twin(stem, build_twin(stem))
    set_weights(twin, weights)

    x = example_inputs(net, n=16, seed=4)
    x = positional(x, net.input_names)
    y = example_targets(net, by_name(model.predict(x, verbose=0), net))
    fit = dict(getattr(mod, "FIT", {"batch_size": 8}), epochs=2, shuffle=False)
    if net.ir.fit is not None:
        # FIT holds Keras's callback objects, where the spec has any (tests/test_callbacks.py)
        assert mod.FIT == {k: v for k, v in net.ir.fit.items() if k != "callbacks"}
    keras.utils.set_random_seed(1)
    history = model.fit(x, y, verbose=0, **fit)
    keras.utils.set_random_seed(1)
    twin.fit(x, positional(y, net.output_names), verbose=0, **fit)
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))
    trained, twin_trained = get_weights(model), get_weights(twin)
    assert any(not np.array_equal(trained[k], weights[k]) for k in weights), "fit changed nothing"
    for key, value in trained.items():
        diff = max_diff(value, twin_trained[key])
        TABLE.add(f"fit {stem} vs twin", diff)
        assert diff <= 1e-5, f"{stem}: {key} differs from the twin after fit by {diff:.2e}"


@pytest.mark.parametrize("opt", list(canonical("optimizer")))
@pytest.mark.parametrize("clip", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_optimizer_arguments_reach_keras(keras, opt, clip, tmp_path):
    spec = (f"sequential s {{ input float32[3]; Dense(2); Dense(1)\n"
            f"  compile {{ optimizer = {opt}(lr=0.125, {clip}=0.5); loss = mse; metrics = [mae] }} }}")
    net = spec2net.loads(spec)
    model = load_module(net.build("keras"), tmp_path / "opt.py").compile_model(
        load_module(net.build("keras"), tmp_path / "opt2.py").build_model())
    config = model.optimizer.get_config()
    assert type(model.optimizer).__name__ == REGISTRIES["optimizer"][opt].keras_name
    assert config["learning_rate"] == pytest.approx(0.125) and config[clip] == pytest.approx(0.5)
    for name, value in net.ir.compile.optimizer.args:
        if value is not None and name in config:
            assert config[name] == pytest.approx(value), name


def test_loss_weights_and_metrics_line_up_with_output_names(keras, tmp_path):
    net = spec2net.load(ROOT / "examples" / "multi_output.net")
    mod = load_module(net.build("keras"), tmp_path / "mo.py")
    model = mod.compile_model(mod.build_model())
    x = example_inputs(net, n=8)["tokens"]
    y = example_targets(net, by_name(model.predict(x, verbose=0), net))
    history = model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0).history
    assert {"topic_loss", "score_loss", "topic_accuracy", "score_accuracy"} <= set(history)
    # one batch: the total is the weighted sum the spec's loss_weights ask for
    result = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(1.0 * result["topic_loss"] + 0.5 * result["score_loss"], rel=1e-5)
