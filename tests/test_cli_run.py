"""spec2net init and spec2net run from the command line: files, seeds, training mode, errors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT

import spec2net
from spec2net.cli import main

SPAM = str(ROOT / "examples" / "spam.net")
NEWS = str(ROOT / "examples" / "news.net")


@pytest.fixture
def tokens(tmp_path):
    path = tmp_path / "in.npz"
    np.savez(path, text=np.random.default_rng(0).integers(1, 10000, size=(3, 100), dtype=np.int32))
    return path


def test_init_is_deterministic(tmp_path):
    a, b, c = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "c.npz"
    assert main(["init", SPAM, "--seed", "4", "-o", str(a)]) == 0
    assert main(["init", SPAM, "--seed", "4", "-o", str(b)]) == 0
    assert main(["init", SPAM, "--seed", "5", "-o", str(c)]) == 0
    wa, wb, wc = map(spec2net.load_weights, (a, b, c))
    assert sorted(wa) == ["dense/bias", "dense/kernel", "embedding/embeddings", "simple_rnn/bias",
                          "simple_rnn/kernel", "simple_rnn/recurrent_kernel"]
    assert all(wa[k].tobytes() == wb[k].tobytes() for k in wa)
    assert not np.array_equal(wa["simple_rnn/kernel"], wc["simple_rnn/kernel"])


def test_run_writes_the_interpreters_outputs(tmp_path, tokens):
    w, out = tmp_path / "w.npz", tmp_path / "out.npz"
    assert main(["init", SPAM, "--seed", "1", "-o", str(w)]) == 0
    assert main(["run", SPAM, "--inputs", str(tokens), "--weights", str(w), "-o", str(out)]) == 0
    net = spec2net.load(SPAM)
    with np.load(out) as f, np.load(tokens) as x:
        assert f.files == ["y"]
        want = net.run({"text": x["text"]}, spec2net.load_weights(w))["y"]
        np.testing.assert_array_equal(f["y"], want)
        assert f["y"].shape == (3, 1) and np.all((f["y"] > 0) & (f["y"] < 1))


def test_run_without_weights_uses_init_seed(tmp_path, tokens, capsys):
    w = tmp_path / "w.npz"
    assert main(["init", SPAM, "--seed", "9", "-o", str(w)]) == 0
    assert main(["run", SPAM, "--inputs", str(tokens), "--seed", "9"]) == 0
    printed = capsys.readouterr().out
    assert main(["run", SPAM, "--inputs", str(tokens), "--weights", str(w)]) == 0
    assert capsys.readouterr().out == printed and printed.startswith("y: shape (3, 1), float32")


def test_run_training_turns_dropout_on(tmp_path):
    x = tmp_path / "x.npz"
    np.savez(x, input=np.random.default_rng(0).random((4, 10000), dtype=np.float32))
    outs = {}
    for mode in ([], ["--training"]):
        out = tmp_path / f"o{len(mode)}.npz"
        assert main(["run", NEWS, "--inputs", str(x), "-D", "max_words=10000", *mode, "-o", str(out)]) == 0
        outs[bool(mode)] = np.load(out)["output"]
    assert not np.allclose(outs[False], outs[True])
    np.testing.assert_allclose(outs[True].sum(axis=1), 1.0, rtol=1e-5)  # still a softmax


@pytest.mark.parametrize("args, message", [
    (["--inputs", "{bad_name}"], "bad.npz: no array for 'text' (the model's inputs are 'text')"),
    (["--inputs", "{tokens}", "--weights", "{absent}"], "cannot read"),
    (["--inputs", "{absent}"], "cannot read"),
])
def test_run_errors_exit_2(tmp_path, tokens, capsys, args, message):
    bad = tmp_path / "bad.npz"
    np.savez(bad, tokens=np.zeros((1, 100), np.int32))
    paths = {"bad_name": bad, "tokens": tokens, "absent": tmp_path / "absent.npz"}
    assert main(["run", SPAM, *(a.format(**paths) for a in args)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spec2net run: error:") and message in err and "Traceback" not in err


def test_run_with_foreign_weights_names_the_keys(tmp_path, tokens, capsys):
    w = tmp_path / "mlp.npz"
    assert main(["init", str(ROOT / "examples" / "mlp.net"), "-o", str(w)]) == 0
    assert main(["run", SPAM, "--inputs", str(tokens), "--weights", str(w)]) == 2
    err = capsys.readouterr().err
    assert "missing embedding/embeddings (shape (10000, 32))" in err and "unexpected dense_1/kernel" in err


@pytest.mark.parametrize("bad, message", [
    (10000, "in.npz: input 'text': token ids (Embedding input_dim=10000) must lie in [0, 10000), got 10000 at index (1, 7)"),
    (-1, "in.npz: input 'text': token ids (Embedding input_dim=10000) must lie in [0, 10000), got -1 at index (1, 7)"),
])
def test_run_refuses_token_ids_outside_the_vocabulary(tmp_path, bad, message, capsys):
    """TensorFlow refuses them too; NumPy used to fail with an internal IndexError or wrap around."""
    ids = np.random.default_rng(0).integers(1, 10000, size=(3, 100), dtype=np.int32)
    ids[1, 7] = bad
    np.savez(tmp_path / "in.npz", text=ids)
    for command in (["run"], ["predict", "-o", str(tmp_path / "out.npz"), "--weights", str(tmp_path / "w.npz")]):
        assert main(["init", SPAM, "-o", str(tmp_path / "w.npz")]) == 0
        assert main([*command, SPAM, "--inputs", str(tmp_path / "in.npz")]) == 2
        err = capsys.readouterr().err
        assert err.endswith(f"{message} (1 out of range)\n") and "internal error" not in err
    assert not (tmp_path / "out.npz").exists()
