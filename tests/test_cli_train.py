"""`spec2net train`: trained weights, history JSON, flags over the fit block, clean errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import ROOT

import spec2net
from spec2net.cli import main

MLP = str(ROOT / "examples" / "mlp.net")


def _data(path, n=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    np.savez(path, input=x, output=(x.sum(1, keepdims=True) > 0).astype(np.float32))


def test_train_writes_weights_and_history(tmp_path, capsys):
    _data(tmp_path / "d.npz")
    out, hist = tmp_path / "w.npz", tmp_path / "h.json"
    rc = main(["train", MLP, "--data", str(tmp_path / "d.npz"), "--epochs", "4", "--batch-size", "8",
               "--validation-split", "0.25", "--no-shuffle", "-o", str(out), "--history", str(hist)])
    assert rc == 0
    history = json.loads(hist.read_text())
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history["loss"]) == 4 and history["loss"][-1] < history["loss"][0]
    trained = spec2net.load_weights(out)
    start = spec2net.load(MLP).init_weights(seed=0)
    assert set(trained) == set(start)
    assert any(not np.allclose(trained[k], start[k]) for k in start)
    # the same run through the Python API gives the same weights
    net = spec2net.load(MLP)
    with np.load(tmp_path / "d.npz") as f:
        data = {k: f[k] for k in f.files}
    w, _ = net.train(data, start, epochs=4, batch_size=8, shuffle=False, validation_split=0.25)
    assert all(np.array_equal(w[k], trained[k]) for k in w)


def test_train_errors_are_clean_and_write_nothing(tmp_path, capsys):
    _data(tmp_path / "d.npz")
    out = tmp_path / "w.npz"
    spam = str(ROOT / "examples" / "spam.net")
    assert main(["train", spam, "--data", str(tmp_path / "d.npz"), "-o", str(out)]) == 2
    assert "d.npz: no array for 'text', 'y' (the model takes inputs 'text' and targets 'y')" in capsys.readouterr().err
    assert main(["train", MLP, "--data", str(tmp_path / "d.npz"), "--epochs", "0", "-o", str(out)]) == 2
    assert main(["train", MLP, "--data", str(tmp_path / "missing.npz"), "-o", str(out)]) == 2
    nocompile = tmp_path / "n.net"
    nocompile.write_text("sequential s { input float32[4]; Dense(1) }\n")
    assert main(["train", str(nocompile), "--data", str(tmp_path / "d.npz"), "-o", str(out)]) == 2
    assert "no `compile` block" in capsys.readouterr().err
    assert not out.exists()


def test_progress_bar_draws_on_a_terminal_only():
    import io

    from spec2net.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    net = spec2net.load(MLP)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 4)).astype(np.float32)
    data = {"input": x, "output": (x[:, :1] > 0).astype(np.float32)}
    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        net.train(data, net.init_weights(0), epochs=2, batch_size=8, validation_split=0.2,
                  callback=Progress(2, stream=stream))
    text = tty.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "2/2 [==============================]" in text and "loss: " in text and "val_loss: " in text
    assert pipe.getvalue() == ""


DIVERGES = "sequential s { input float32[4]; Dense(1); compile { optimizer = sgd(learning_rate=100.0); loss = mse } }"


def _diverging(tmp_path):
    spec = tmp_path / "diverges.net"
    spec.write_text(DIVERGES + "\n")
    x = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    np.savez(tmp_path / "d.npz", input=x, output=x.sum(1, keepdims=True))
    return [str(spec), "--data", str(tmp_path / "d.npz"), "--epochs", "5", "--batch-size", "8", "--no-shuffle"]


def test_divergence_exits_1_naming_epoch_and_batch_and_writes_nothing(tmp_path, capsys):
    out, hist = tmp_path / "w.npz", tmp_path / "h.json"
    assert main(["train", *_diverging(tmp_path), "-o", str(out), "--history", str(hist)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("spec2net train: error: training diverged at epoch 2, batch 4: loss inf; ")
    assert "--keep-going" in err and "Traceback" not in err
    assert not out.exists() and not hist.exists()


def test_keep_going_trains_on_as_keras_and_writes_strict_json(tmp_path):
    out, hist = tmp_path / "w.npz", tmp_path / "h.json"
    assert main(["train", *_diverging(tmp_path), "--keep-going", "-o", str(out), "--history", str(hist)]) == 0

    def refuse(name):
        raise AssertionError(f"history holds a bare {name}: not JSON")

    history = json.loads(hist.read_text(), parse_constant=refuse)
    assert history["loss"][0] > 1e10 and history["loss"][1:] == [None] * 4  # inf, then NaN: written null
    assert out.exists()


def test_net_train_raises_non_finite_error_at_the_first_bad_weight():
    net = spec2net.load(MLP)
    x = np.random.default_rng(1).normal(size=(16, 4)).astype(np.float32)
    data = {"input": x, "output": (x[:, :1] > 0).astype(np.float32)}
    w = net.init_weights(0)
    w["dense_1/kernel"][0, 0] = np.nan
    with pytest.raises(spec2net.NonFiniteError) as e:
        net.train(data, w, epochs=2, batch_size=8)
    assert (e.value.epoch, e.value.batch) == (1, 1) and isinstance(e.value, spec2net.TrainError)
    assert "training diverged at epoch 1, batch 1: loss nan; first non-finite: weight 'dense_1/kernel'" in str(e.value)
    _, history = net.train(data, w, epochs=2, batch_size=8, keep_going=True)  # Keras's way: on to the end
    assert len(history["loss"]) == 2 and np.isnan(history["loss"]).all()
