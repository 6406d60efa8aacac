"""Keras's evaluate, predict, validation_data and target alignment, against real Keras: the NumPy
numbers from ``net.evaluate``/``net.train`` and ``spec2net evaluate`` equal ``model.evaluate`` and
``model.fit`` of the generated Keras module, from the same weights and data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import EXAMPLES

import spec2net
from spec2net.cli import main
from spec2net.net import data_spec

WORST: dict = {}


def data_for(net, n=20, seed=0, steps=6) -> dict:
    """Inputs and targets fitting ``net``: token ids within every Embedding's input_dim, targets as
    each output's loss wants them (class ids (n, 1) for sparse losses, one-hot rows for categorical)."""
    rng = np.random.default_rng(seed)
    spec, data = data_spec(net.ir), {}
    for s in spec.inputs:
        shape = (n, *(steps if d is None else d for d in s.shape))
        if s.dtype.startswith("float"):
            data[s.name] = rng.normal(size=shape).astype(np.float32)
        else:
            data[s.name] = rng.integers(0, min(s.input_dim or 10, 30), size=shape).astype(s.dtype)
    for s in spec.outputs:
        shape = (n, *(steps if d is None else d for d in s.shape))
        if s.loss == "sparse_categorical_crossentropy":
            data[s.name] = rng.integers(0, shape[-1], size=(*shape[:-1], 1)).astype(np.int32)
        elif s.loss == "categorical_crossentropy":
            data[s.name] = np.eye(shape[-1], dtype=np.float32)[rng.integers(0, shape[-1], size=shape[:-1])]
        elif s.loss == "binary_crossentropy":
            data[s.name] = (rng.random(shape) > 0.5).astype(np.float32)
        else:
            data[s.name] = rng.normal(size=shape).astype(np.float32)
    return data


def keras_model(keras, net, weights, tmp_path):
    """The generated Keras module's model, compiled, holding ``weights``."""
    ns: dict = {}
    exec(compile(net.build("keras"), "generated_keras.py", "exec"), ns)
    model = ns["build_model"]()
    spec2net.save_weights(tmp_path / "start.npz", weights)
    ns["load_weights"](model, tmp_path / "start.npz")
    ns["compile_model"](model)
    return model


def xy(net, data):
    x = [data[n] for n in net.input_names]
    return (x[0] if len(x) == 1 else x), {n: data[n] for n in net.output_names}


def assert_logs_equal(ours: dict, theirs: dict, atol: float, what: str) -> None:
    assert set(ours) == set(theirs), f"{what}: keys {sorted(ours)} vs Keras's {sorted(theirs)}"
    for key, want in theirs.items():
        diff = float(np.max(np.abs(np.asarray(ours[key], np.float64) - np.asarray(want, np.float64))))
        WORST[what] = max(WORST.get(what, 0.0), diff)
        assert diff <= atol, f"{what}: {key} = {ours[key]} vs Keras's {want} (|diff| {diff:.2e})"


def teardown_module(module):
    for what, diff in sorted(WORST.items()):
        print(f"  {what:<40} max|numpy - keras| = {diff:.2e}")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_evaluate_equals_keras_evaluate_on_every_example(keras, path, tmp_path):
    net = spec2net.load(path)
    weights = net.init_weights(seed=3)
    data = data_for(net)
    ours = net.evaluate(data, weights, batch_size=8)
    model = keras_model(keras, net, weights, tmp_path)
    theirs = model.evaluate(*xy(net, data), batch_size=8, verbose=0, return_dict=True)
    assert_logs_equal(ours, theirs, 1e-6, f"evaluate {path.stem}")


def test_the_evaluate_command_prints_the_same_numbers(tmp_path, capsys):
    path = next(p for p in EXAMPLES if p.stem == "multi_output")
    net = spec2net.load(path)
    weights = net.init_weights(seed=3)
    data = data_for(net)
    np.savez(tmp_path / "d.npz", **data)
    spec2net.save_weights(tmp_path / "w.npz", weights)
    args = ["evaluate", str(path), "--data", str(tmp_path / "d.npz"), "--weights", str(tmp_path / "w.npz"),
            "--batch-size", "8"]
    assert main([*args, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == pytest.approx(net.evaluate(data, weights, batch_size=8), abs=1e-12)
    assert set(printed) == {"loss", "topic_loss", "score_loss", "topic_accuracy", "score_accuracy"}
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("loss: ") and len(lines) == len(printed)


RANK = """model m {
    input x: float32[5]
    h = Dense(6, activation=tanh)(x)
    output p = Dense(1, activation=sigmoid)(h)
    output v = Dense(1)(h)
    compile { optimizer = sgd(learning_rate=0.1); loss = {p: binary_crossentropy, v: mse}; metrics = [accuracy] }
}"""


def test_rank_1_targets_give_kerass_numbers(keras, tmp_path):
    """(n,) targets for (n, 1) outputs: Keras's squeeze_or_expand_to_same_rank makes them (n, 1)
    (the NumPy trainer used to crash in a matmul; the torch fit trained on an (n, n) broadcast)."""
    net = spec2net.loads(RANK)
    start = net.init_weights(seed=1)
    data = data_for(net, n=20)  # a partial last batch: Keras's per-output losses weigh it as a full one
    flat = {k: (v[:, 0] if k in net.output_names else v) for k, v in data.items()}
    model = keras_model(keras, net, start, tmp_path)
    theirs = model.evaluate(*xy(net, flat), batch_size=8, verbose=0, return_dict=True)
    assert_logs_equal(net.evaluate(flat, start, batch_size=8), theirs, 1e-6, "evaluate (n,) targets")
    khist = model.fit(*xy(net, flat), epochs=2, batch_size=8, shuffle=False, verbose=0).history
    _, ours = net.train(flat, start, epochs=2, batch_size=8, shuffle=False)
    assert_logs_equal(ours, khist, 1e-6, "fit (n,) targets")
    _, column = net.train(data, start, epochs=2, batch_size=8, shuffle=False)
    assert column == ours  # (n,) and (n, 1) targets: the same training


def test_validation_data_history_equals_kerass(keras, tmp_path):
    path = next(p for p in EXAMPLES if p.stem == "two_inputs")
    net = spec2net.load(path)
    start = net.init_weights(seed=2)
    data, val = data_for(net, n=32, seed=1), data_for(net, n=12, seed=2)
    # validation_data takes precedence over validation_split, as in Keras
    _, ours = net.train(data, start, epochs=3, batch_size=8, shuffle=False, validation_split=0.5,
                        validation_data=val)
    model = keras_model(keras, net, start, tmp_path)
    khist = model.fit(*xy(net, data), epochs=3, batch_size=8, shuffle=False, verbose=0, validation_split=0.5,
                      validation_data=xy(net, val)).history
    assert {"val_loss", "val_accuracy"} <= set(khist)
    assert_logs_equal(ours, khist, 1e-5, "fit validation_data")


def test_the_train_command_takes_validation_data(tmp_path):
    path = next(p for p in EXAMPLES if p.stem == "two_inputs")
    net = spec2net.load(path)
    data, val = data_for(net, n=32, seed=1), data_for(net, n=12, seed=2)
    np.savez(tmp_path / "d.npz", **data)
    np.savez(tmp_path / "v.npz", **val)
    out, hist = tmp_path / "w.npz", tmp_path / "h.json"
    assert main(["train", str(path), "--data", str(tmp_path / "d.npz"), "--validation-data", str(tmp_path / "v.npz"),
                 "--epochs", "2", "--batch-size", "8", "--no-shuffle", "-o", str(out), "--history", str(hist)]) == 0
    _, want = net.train(data, net.init_weights(seed=0), epochs=2, batch_size=8, shuffle=False, validation_data=val)
    assert json.loads(hist.read_text()) == want


def test_predict_equals_run_in_batches(tmp_path):
    path = next(p for p in EXAMPLES if p.stem == "multi_output")
    net = spec2net.load(path)
    weights = net.init_weights(seed=4)
    data = data_for(net, n=23)
    whole = net.run({n: data[n] for n in net.input_names}, weights)
    batched = net.predict(data, weights, batch_size=5)  # targets in the dict are ignored, as Keras does
    for name in net.output_names:
        np.testing.assert_allclose(batched[name], whole[name], rtol=0, atol=1e-6)
    np.savez(tmp_path / "in.npz", **data)
    spec2net.save_weights(tmp_path / "w.npz", weights)
    out = tmp_path / "out.npz"
    assert main(["predict", str(path), "--inputs", str(tmp_path / "in.npz"), "--weights", str(tmp_path / "w.npz"),
                 "--batch-size", "5", "-o", str(out)]) == 0
    with np.load(out) as f:
        assert sorted(f.files) == sorted(net.output_names)
        for name in net.output_names:
            np.testing.assert_array_equal(f[name], batched[name])


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_batch_size_below_1_is_a_usage_error(command, tmp_path, capsys):
    path = next(p for p in EXAMPLES if p.stem == "mlp")
    flag = "--data" if command == "evaluate" else "--inputs"
    extra = ["-o", str(tmp_path / "o.npz")] if command == "predict" else []
    assert main([command, str(path), flag, "d.npz", "--weights", "w.npz", "--batch-size", "0", *extra]) == 2
    assert "--batch-size must be >= 1, got 0" in capsys.readouterr().err


MASKED = """model m {{ input t: int32[6]
    e = Embedding(20, 4, mask_zero=true)(t)
    output y = LSTM(3, return_sequences=true)(e) -> Dense(3, activation=softmax)
    compile {{ optimizer = sgd(learning_rate=0.5); loss = {loss}; metrics = [{metric}] }} }}"""


@pytest.mark.parametrize("loss, metric", [("sparse_categorical_crossentropy", "accuracy"),
                                          ("categorical_crossentropy", "accuracy"), ("mse", "mae")])
def test_metrics_of_a_masked_output_count_the_unmasked_steps_as_kerass(keras, loss, metric, tmp_path):
    """Keras's metrics weight their values by the output's mask (the NumPy metrics averaged every
    step, padding included: accuracy 0.35 where Keras gives 0.419)."""
    net = spec2net.loads(MASKED.format(loss=loss, metric=metric))
    start = net.init_weights(seed=3)
    data = data_for(net, n=20)
    data["t"][:, :2] = 0  # leading padding
    data["t"][::3, 4:] = 0  # and some in the middle and at the end
    model = keras_model(keras, net, start, tmp_path)
    theirs = model.evaluate(*xy(net, data), batch_size=8, verbose=0, return_dict=True)
    assert_logs_equal(net.evaluate(data, start, batch_size=8), theirs, 1e-6, "evaluate masked output")
    khist = model.fit(*xy(net, data), epochs=2, batch_size=8, shuffle=False, verbose=0).history
    _, ours = net.train(data, start, epochs=2, batch_size=8, shuffle=False)
    assert_logs_equal(ours, khist, 1e-5, "fit masked output")


def test_evaluate_names_the_data_file_of_a_bad_target(tmp_path, capsys):
    path = next(p for p in EXAMPLES if p.stem == "news")
    net = spec2net.load(path, defines={"max_words": 50})
    data = data_for(net, n=6)
    data["output"] = np.arange(6).reshape(6, 1)  # class ids for a categorical_crossentropy output
    np.savez(tmp_path / "d.npz", **data)
    spec2net.save_weights(tmp_path / "w.npz", net.init_weights(seed=0))
    assert main(["evaluate", str(path), "-D", "max_words=50", "--data", str(tmp_path / "d.npz"),
                 "--weights", str(tmp_path / "w.npz")]) == 2
    assert capsys.readouterr().err == (
        f"spec2net evaluate: error: {tmp_path / 'd.npz'}: target 'output': categorical_crossentropy needs one-hot "
        "rows of width 46, got shape (6, 1) (class ids? use sparse_categorical_crossentropy)\n")
