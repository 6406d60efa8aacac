"""The weights file: .npz and .safetensors round trips, atomic writes, no pickles, and
check_weights naming every missing, unexpected and mis-shaped key with both shapes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT

import spec2net
from spec2net.weights import WeightsError, check_weights, load_weights, save_weights


@pytest.fixture(scope="module")
def net():
    return spec2net.load(ROOT / "examples" / "multi_output.net")


@pytest.mark.parametrize("ext", [".npz", ".safetensors"])
def test_round_trip_is_exact(tmp_path, net, ext):
    if ext == ".safetensors":
        pytest.importorskip("safetensors", reason="needs safetensors: pip install 'spec2net[safetensors]'")
    w = net.init_weights(seed=2)
    path = tmp_path / f"w{ext}"
    spec2net.save_weights(path, w)
    back = spec2net.load_weights(path)
    assert list(back) == list(w) if ext == ".npz" else sorted(back) == sorted(w)
    for key, value in w.items():
        assert back[key].dtype == np.float32 and back[key].shape == value.shape
        assert back[key].tobytes() == value.tobytes(), key
    assert [p.name for p in tmp_path.iterdir()] == [f"w{ext}"]  # no temporary left behind


def test_npz_keys_are_layer_slash_param(tmp_path, net):
    save_weights(tmp_path / "w.npz", net.init_weights())
    with np.load(tmp_path / "w.npz", allow_pickle=False) as f:
        assert "lstm/recurrent_kernel" in f.files and "embedding/embeddings" in f.files


def test_pickles_are_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"dense/kernel": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(WeightsError, match="not a readable .npz"):
        load_weights(path)


def test_failed_write_keeps_the_old_file(tmp_path, net):
    path = tmp_path / "w.npz"
    save_weights(path, {"a/b": np.ones(2)})
    before = path.read_bytes()
    with pytest.raises(WeightsError, match="real number"):
        save_weights(path, {"a/b": np.array(["text"])})
    assert path.read_bytes() == before


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(WeightsError, match=".npz or .safetensors"):
        save_weights(tmp_path / "w.h5", {})
    with pytest.raises(WeightsError, match="cannot read"):
        load_weights(tmp_path / "absent.npz")


def test_check_weights_names_every_problem(net):
    w = net.init_weights()
    del w["lstm/bias"]
    w["lstm_9/kernel"] = np.zeros((2, 2), np.float32)
    w["dense/kernel"] = np.zeros((3, 5), np.float32)
    with pytest.raises(WeightsError) as e:
        check_weights(net.ir, w)
    msg = str(e.value)
    assert "missing lstm/bias (shape (96,))" in msg
    assert "unexpected lstm_9/kernel (shape (2, 2)" in msg
    assert "dense/kernel: the model expects shape (60, 5), the weights have (3, 5)" in msg


def test_check_weights_accepts_the_models_own(net):
    check_weights(net.ir, net.init_weights())
