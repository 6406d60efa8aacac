"""spec2net import: real Keras models, saved by ``model.save``, read back into specs and weights.

Each example and one sample of every registered layer is made into a real Keras model (the
generated Keras module), given weights, saved, and imported: the spec checks, its layers, output
shapes and parameter counts are Keras's (what Keras's summary shows), the weights are Keras's to
the bit, `run` equals Keras's inference within 1e-5, and saving the imported spec's Keras model
and importing it again gives the same text (the fixed point). Every sample, both file formats:
``python fuzz/import_sweep.py``. What the language lacks is refused, one line naming the layer.
"""

from __future__ import annotations

import struct
import zipfile

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT
from import_helpers import (
    compare_run,
    keras_model,
    keras_outputs,
    keras_summary_facts,
    round_trip,
    save_keras,
    summary_facts,
)
from keras_helpers import example_inputs, example_weights, load_module
from numpy_keras_helpers import DiffTable, chain_spec, max_diff
from registry_samples import layer_samples

import spec2net
from spec2net.cli import main
from spec2net.importer import ModelFileError, import_model

TABLE = DiffTable()
# the examples at sizes that keep a 200-step bidirectional LSTM over 20,000 words quick; the
# structure, and so the import, is the same
SMALL = {"imdb_bilstm": {"maxlen": 12, "max_features": 60}, "imdb_conv1d": {"maxlen": 40, "max_features": 60},
         "news": {"max_words": 60}, "spam": {"max_features": 60}, "seq2seq": {"latent_dim": 16},
         "addition_rnn": {"digits": 1}}
# one sample per layer type (the first); fuzz/import_sweep.py runs them all
FIRST_SAMPLES = [p for p in layer_samples() if p.id.endswith("-0")]


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    TABLE.report(request.config, "spec2net import: run of the imported spec vs Keras, worst max|diff|")


def _check(keras, net, folder, suffix=".keras"):
    weights = example_weights(net, seed=3)
    first, model, second = round_trip(net, weights, folder, suffix)
    assert summary_facts(first.net) == keras_summary_facts(keras, model)
    assert sorted(first.weights) == sorted(weights)
    for key, value in weights.items():
        np.testing.assert_array_equal(first.weights[key], value, err_msg=key)
    diff = compare_run(first, model, example_inputs(first.net))
    TABLE.add(f"{suffix} {net.ir.name}", diff)
    assert diff <= 1e-5
    assert second == first.text  # the fixed point
    return first, model


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_imports_to_keras_numbers(keras, path, tmp_path):
    net = spec2net.load(path, defines=SMALL.get(path.stem))
    first, _ = _check(keras, net, tmp_path)
    assert first.text.startswith("# imported from a Keras model file")


@pytest.mark.parametrize(("layer_type", "args", "inputs"), FIRST_SAMPLES)
def test_layer_sample_imports_to_keras_numbers(keras, layer_type, args, inputs, tmp_path):
    _check(keras, spec2net.loads(chain_spec(inputs, [(layer_type, args)])), tmp_path)


@pytest.mark.parametrize("stem", ["multi_output", "imdb_bilstm"])
def test_legacy_h5_imports_as_the_keras_file(keras, stem, tmp_path):
    net = spec2net.load(ROOT / "examples" / f"{stem}.net", defines=SMALL.get(stem))
    h5, _ = _check(keras, net, tmp_path, ".h5")
    # a fresh model: a legacy save drops the optimizer from the model's compile config (Keras 3.15)
    save_keras(net, example_weights(net, seed=3), tmp_path / "same.keras")
    same = import_model(tmp_path / "same.keras")
    assert h5.text == same.text
    assert all(np.array_equal(h5.weights[k], v) for k, v in same.weights.items())


def test_chain_is_sequential_and_the_rest_functional(keras, tmp_path):
    texts = {}
    for stem in ("mlp", "shared", "multi_output", "seq2seq"):
        model = save_keras(spec2net.load(ROOT / "examples" / f"{stem}.net", defines=SMALL.get(stem)), None,
                           tmp_path / f"{stem}.keras")
        del model
        texts[stem] = import_model(tmp_path / f"{stem}.keras").text
    assert "sequential mlp {\n    input float32[4]\n    Dense(8, activation=relu)\n" in texts["mlp"]
    # a shared layer is declared once, named as the spec named it, and applied twice
    assert '    encoder = Dense(8, activation=tanh, name="encoder")\n' in texts["shared"]
    assert texts["shared"].count("encoder(") == 2
    # outputs, states, masks, compile with loss weights
    assert "mask_zero=true" in texts["multi_output"] and "loss_weights = {dense: 1.0, dense_1: 0.5}" in \
        texts["multi_output"] and "optimizer = adam(clipnorm=1.0)" in texts["multi_output"]
    assert "initial_state=[lstm_h, lstm_c]" in texts["seq2seq"]
    assert "let units = 16" in texts["seq2seq"]  # the LSTMs' shared size


def test_hand_written_keras_sequential(keras, tmp_path):
    keras.backend.clear_session(free_memory=False)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh", name="hidden"),
                              keras.layers.Dropout(0.2), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse", metrics=["mae"])
    model.save(tmp_path / "seq.keras")
    got = import_model(tmp_path / "seq.keras")
    assert got.text.splitlines()[1:6] == ["sequential sequential_model {", "    input float32[6]",
                                          '    Dense(5, activation=tanh, name="hidden")', "    Dropout(0.2)",
                                          "    Dense(2)"]
    assert "optimizer = sgd(learning_rate=0.1)" in got.text and "loss = mean_squared_error" in got.text
    x = {"input": np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)}
    assert max_diff(got.net.run(x, got.weights)["output"], np.asarray(model(x["input"]))) <= 1e-6


def test_cli_writes_spec_and_weights_and_torch_converts_them(keras, torch, tmp_path, capsys):
    net = spec2net.load(ROOT / "examples" / "imdb_bilstm.net", defines=SMALL["imdb_bilstm"])
    weights = example_weights(net, seed=5)
    model = save_keras(net, weights, tmp_path / "m.keras")
    assert main(["import", str(tmp_path / "m.keras"), "-o", str(tmp_path / "m.net")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("m.")) == ["m.keras", "m.net", "m.npz"]
    assert main(["build", str(tmp_path / "m.net"), "--backend", "torch", "-o", str(tmp_path / "m_torch.py")]) == 0
    mod = load_module((tmp_path / "m_torch.py").read_text(), tmp_path / "m_torch.py", "torch_mod")
    t_model = mod.build_model()
    mod.load_weights(t_model, str(tmp_path / "m.npz"))
    t_model.eval()
    x = example_inputs(net)
    with torch.no_grad():
        got = t_model(torch.from_numpy(x["review"]).long()).numpy()
    diff = max_diff(got, keras_outputs(model, net, x)["sentiment"])
    TABLE.add("torch module of the import", diff)
    assert diff <= 1e-5


# -- refusals: what the language lacks, and files that are not models --------------------------------
def _refused(keras, tmp_path, build, *needles):
    keras.backend.clear_session(free_memory=False)
    path = tmp_path / "bad.keras"
    build().save(path)
    with pytest.raises(ModelFileError) as e:
        import_model(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg
    for needle in needles:
        assert needle in msg, msg
    return msg


def _functional(keras, shape, *layers):
    x = keras.Input(shape, name="x")
    y = x
    for layer in layers:
        y = layer(y)
    return keras.Model(x, y)


def test_lambda_layer_is_refused_unrun(keras, tmp_path):
    L = keras.layers
    _refused(keras, tmp_path, lambda: _functional(keras, (3,), L.Dense(2), L.Lambda(lambda t: t * 2, name="twice")),
             "layer 'twice' (Lambda)", "never runs or unpickles")


@pytest.mark.parametrize(("make", "needles"), [
    (lambda L, k: L.Dense(2, kernel_constraint=k.constraints.NonNeg(), name="d"), ("layer 'd' (Dense)",
                                                                                   "kernel_constraint")),
    (lambda L, k: L.Conv1D(2, 2, data_format="channels_first", name="c"), ("layer 'c' (Conv1D)", "data_format")),
    (lambda L, k: L.GaussianNoise(0.1, name="noise"), ("layer 'noise' (GaussianNoise)", "no layer GaussianNoise")),
    (lambda L, k: L.Dense(2, kernel_initializer=k.initializers.VarianceScaling(3.0), name="v"),
     ("layer 'v' (Dense)", "VarianceScaling")),
    (lambda L, k: L.LayerNormalization(rms_scaling=True, name="ln"), ("layer 'ln' (LayerNormalization)",
                                                                      "rms_scaling=True")),
], ids=["constraint", "channels_first", "unknown-layer", "initializer", "argument-value"])
def test_what_the_language_lacks_is_one_line_naming_the_layer(keras, tmp_path, make, needles):
    _refused(keras, tmp_path, lambda: _functional(keras, (4, 3), make(keras.layers, keras)), *needles)


def test_an_operation_on_the_data_is_refused(keras, tmp_path):
    def build():
        x = keras.Input((3,), name="x")
        return keras.Model(x, keras.layers.Dense(2)(keras.ops.exp(x)))

    _refused(keras, tmp_path, build, "(Exp)", "feeding layer 'dense'")


def test_cli_refusal_exits_2_with_one_line(keras, tmp_path, capsys):
    keras.backend.clear_session(free_memory=False)
    _functional(keras, (3,), keras.layers.GaussianNoise(0.1, name="noise")).save(tmp_path / "bad.keras")
    assert main(["import", str(tmp_path / "bad.keras"), "-o", str(tmp_path / "bad.net")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "layer 'noise' (GaussianNoise)" in err and "bad.keras" in err
    assert not (tmp_path / "bad.net").exists() and not (tmp_path / "bad.npz").exists()


def test_missing_not_a_model_and_truncated_files(tmp_path, capsys):
    cases = {"missing.keras": None, "spec.keras": b"model m {}\n", "short.keras": b"PK\x03\x04" + b"\0" * 40}
    for name, data in cases.items():
        if data is not None:
            (tmp_path / name).write_bytes(data)
        assert main(["import", str(tmp_path / name), "-o", str(tmp_path / "out.net")]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"spec2net import: error: {tmp_path / name}: ") and err.count("\n") == 1, err
    assert not (tmp_path / "out.net").exists()


def test_zip_bomb_is_refused_before_decompressing(tmp_path):
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", b" " * 1000)
        zf.writestr("model.weights.h5", b"")
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")  # config.json's central directory entry: its uncompressed size
    data[central + 24:central + 28] = struct.pack("<I", 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="config.json would take 4.0 GiB once decompressed"):
        import_model(path)


def test_weights_that_do_not_fit_are_refused(keras, tmp_path):
    net = spec2net.load(ROOT / "examples" / "mlp.net")
    model = keras_model(net, tmp_path)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as src, zipfile.ZipFile(tmp_path / "cut.keras", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "model.weights.h5":
                data = data[: len(data) // 2]
            dst.writestr(info.filename, data)
    with pytest.raises(ModelFileError, match="model.weights.h5 is not a readable HDF5 file"):
        import_model(tmp_path / "cut.keras")


def test_outputs_are_checked_first(keras, tmp_path, capsys):
    net = spec2net.load(ROOT / "examples" / "mlp.net")
    save_keras(net, None, tmp_path / "m.keras")
    assert main(["import", str(tmp_path / "m.keras"), "-o", str(tmp_path / "m.keras")]) == 2
    assert main(["import", str(tmp_path / "m.keras"), "-o", "-", "--weights-out", str(tmp_path / "w.txt")]) == 2
    capsys.readouterr()
    assert main(["import", str(tmp_path / "m.keras"), "-o", "-", "--weights-out", str(tmp_path / "w.npz")]) == 0
    assert capsys.readouterr().out.startswith("# imported from a Keras model file")
    assert sorted(np.load(tmp_path / "w.npz")) == ["dense/bias", "dense/kernel", "dense_1/bias", "dense_1/kernel"]


def test_a_mask_made_by_hand_is_refused(keras, tmp_path):
    def build():
        x = keras.Input((5,), dtype="int32", name="x")
        e = keras.layers.Embedding(10, 3)(x)  # no mask_zero: the language makes no mask here
        return keras.Model(x, keras.layers.LSTM(2, name="rnn")(e, mask=keras.ops.not_equal(x, 0)))

    _refused(keras, tmp_path, build, "layer 'rnn' (LSTM)", "a mask that none of the language's layers makes")


def test_a_call_in_training_mode_is_refused(keras, tmp_path):
    def build():
        x = keras.Input((5,), name="x")
        return keras.Model(x, keras.layers.Dropout(0.5, name="mc")(x, training=True))

    _refused(keras, tmp_path, build, "layer 'mc' (Dropout)", "training=True")


def test_a_custom_layer_is_refused_unrun(keras, tmp_path):
    @keras.saving.register_keras_serializable(package="mine")
    class Dense(keras.layers.Layer):  # a custom class that borrows a Keras name
        def call(self, x):
            return x * 2

    _refused(keras, tmp_path, lambda: _functional(keras, (3,), Dense(name="twice")), "layer 'twice' (Dense)",
             "custom object", "mine>Dense")
