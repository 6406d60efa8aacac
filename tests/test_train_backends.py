"""``train``, ``evaluate`` and ``predict --backend torch|keras``: the generated modules run
in-process by real PyTorch and real Keras give the NumPy trainer's weights within 1e-4 after 2
epochs (the same start weights and shuffled batches, an uneven last batch, validation), the same
history keys, evaluate's logs and predict's outputs; no file is left behind; --device and a
diverging run answer as CONTRACT.md says. Every CLI call runs in this process (one import of
each framework)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from conftest import ROOT
from test_torch_training import CASES

import spec2net
from spec2net import cli

pytest.importorskip("torch")
pytest.importorskip("keras")

TOL = 1e-4
N = 27  # batches of 8, 8, 8, 3 (with validation_split 0.2: 21 samples, 8, 8, 5)
# a fixed subset (bench/engines_parity.py runs every example and parity case): two outputs with
# loss weights and metrics, and Embedding rows under RMSprop with clipnorm
SPECS = {"multi_output": ROOT / "examples" / "multi_output.net", "rows": CASES["rmsprop-clipnorm+Embedding-rows"]}


def _data(net, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for t in net.ir.inputs:
        shape = (N, *t.type.shape)
        if t.type.is_float:
            out[t.input_name] = rng.standard_normal(shape).astype(np.float32)
        else:
            ids = rng.integers(1, 10, shape)
            ids[::3, :2] = 0
            out[t.input_name] = ids.astype(t.type.dtype)
    for o in net.ir.outputs:
        shape, loss = (N, *o.tensor.type.shape), net.ir.compile.loss[o.name].name
        if loss == "categorical_crossentropy":
            out[o.name] = np.eye(shape[-1], dtype=np.float32)[rng.integers(0, shape[-1], shape[:-1])]
        elif loss == "binary_crossentropy":
            out[o.name] = rng.integers(0, 2, shape).astype(np.float32)
        elif loss == "sparse_categorical_crossentropy":
            out[o.name] = rng.integers(0, shape[-1], shape[:-1]).astype(np.int32)
        else:
            out[o.name] = rng.standard_normal(shape).astype(np.float32)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every spec trained by every backend through the CLI: {(spec, backend): (weights, history)}."""
    root = tmp_path_factory.mktemp("backends")
    out = {}
    for name, spec in SPECS.items():
        path = spec if not isinstance(spec, str) else root / f"{name}.net"
        if isinstance(spec, str):
            path.write_text(spec)
        net = spec2net.load(path)
        np.savez(root / f"{name}.npz", **_data(net))
        before = set(os.listdir(root))
        for backend in ("numpy", "torch", "keras"):
            w, h = root / f"{name}-{backend}.npz", root / f"{name}-{backend}.json"
            code = cli.main(["train", str(path), "--data", str(root / f"{name}.npz"), "--backend", backend,
                             "--epochs", "2", "--batch-size", "8", "--validation-split", "0.2", "--seed", "3",
                             "-o", str(w), "--history", str(h)])
            assert code == 0, (name, backend)
            with np.load(w) as f:
                out[name, backend] = ({k: f[k] for k in f.files}, json.loads(h.read_text()))
        made = set(os.listdir(root)) - before
        assert made == {f"{name}-{b}.{e}" for b in ("numpy", "torch", "keras") for e in ("npz", "json")}, made
    return root, out


@pytest.mark.parametrize("backend", ["torch", "keras"])
@pytest.mark.parametrize("name", sorted(SPECS))
def test_train_matches_numpy(runs, name, backend):
    _, out = runs
    (want, history), (got, mine) = out[name, "numpy"], out[name, backend]
    start = spec2net.load(SPECS[name]) if not isinstance(SPECS[name], str) else spec2net.loads(SPECS[name])
    start = start.init_weights(3)
    assert max(float(np.abs(want[k] - start[k]).max()) for k in want) > 10 * TOL, "training moved nothing"
    assert sorted(got) == sorted(want)
    diff = max(float(np.abs(got[k] - want[k]).max()) for k in want)
    assert diff <= TOL, f"{name}: --backend {backend} vs numpy, max |diff| {diff:.3g}"
    assert sorted(mine) == sorted(history) and any(k.startswith("val_") for k in history)
    d = max(abs(a - b) for k in history for a, b in zip(mine[k], history[k]))
    assert d <= TOL, f"{name}: history {mine} vs {history}"


def test_evaluate_and_predict_match_numpy(runs, capsys):
    root, _ = runs
    spec, data, weights = ROOT / "examples" / "multi_output.net", root / "multi_output.npz", root / "multi_output-numpy.npz"
    logs = {}
    for b in ("numpy", "torch", "keras"):
        assert cli.main(["evaluate", str(spec), "--data", str(data), "--weights", str(weights), "--json",
                         "--batch-size", "5", "--backend", b]) == 0
        logs[b] = json.loads(capsys.readouterr().out)
        assert cli.main(["predict", str(spec), "--inputs", str(data), "--weights", str(weights), "--batch-size", "5",
                         "--backend", b, "-o", str(root / f"pred-{b}.npz")]) == 0
    for b in ("torch", "keras"):
        assert sorted(logs[b]) == sorted(logs["numpy"])
        assert max(abs(logs[b][k] - logs["numpy"][k]) for k in logs["numpy"]) <= TOL, (b, logs)
        with np.load(root / "pred-numpy.npz") as want, np.load(root / f"pred-{b}.npz") as got:
            assert sorted(got.files) == sorted(want.files)
            assert max(float(np.abs(got[k] - want[k]).max()) for k in want.files) <= TOL


def test_memory_mapped_data_is_read_per_batch(runs):
    from spec2net.engines import engine

    root, out = runs
    net = spec2net.loads(SPECS["rows"])
    with np.load(root / "rows.npz") as f:
        arrays = {k: f[k] for k in f.files}
    maps = {}
    for k, v in arrays.items():
        np.save(root / f"map-{k}.npy", v)
        maps[k] = np.load(root / f"map-{k}.npy", mmap_mode="r")
    for backend in ("torch", "keras"):
        got, _ = engine(backend).train(net, maps, None, epochs=2, batch_size=8, validation_split=0.2, seed=3)
        want = out["rows", backend][0]
        assert max(float(np.abs(got[k] - want[k]).max()) for k in want) <= 1e-6


def test_diverging_run_exits_1_and_writes_nothing(tmp_path, capsys):
    spec = tmp_path / "big.net"
    spec.write_text("""model big {
        input x: float32[4]
        output y = Dense(1)(x)
        compile { optimizer = sgd(learning_rate=1e30); loss = mse }
    }""")
    np.savez(tmp_path / "d.npz", x=np.full((16, 4), 1e3, np.float32), y=np.ones((16, 1), np.float32))
    where = {}
    for b in ("numpy", "torch", "keras"):
        code = cli.main(["train", str(spec), "--data", str(tmp_path / "d.npz"), "--backend", b, "--epochs", "3",
                         "-o", str(tmp_path / "w.npz")])
        err = capsys.readouterr().err
        assert code == 1 and err.startswith("spec2net train: error: training diverged at ") and "--keep-going" in err
        where[b] = err.split(":")[2]  # " training diverged at epoch E, batch B"
        assert not (tmp_path / "w.npz").exists()
    assert where["torch"] == where["keras"] == where["numpy"], where


@pytest.mark.parametrize("backend, device, says", [
    ("numpy", "cuda", "the NumPy backend runs on the CPU"),
    ("torch", "tpu", "expected cpu, cuda, cuda:N or mps"),
    ("keras", "mps", "the Keras engine takes cpu, cuda or cuda:N"),
])
def test_bad_device_is_a_usage_error(tmp_path, backend, device, says, capsys):
    np.savez(tmp_path / "d.npz", input=np.zeros((4, 4), np.float32), output=np.zeros((4, 1), np.float32))
    code = cli.main(["train", str(ROOT / "examples" / "mlp.net"), "--data", str(tmp_path / "d.npz"),
                     "--backend", backend, "--device", device, "-o", str(tmp_path / "w.npz")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and says in err[0], err
    assert not (tmp_path / "w.npz").exists()


def test_cuda_without_a_gpu_is_a_usage_error(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: bench/gpu_check.py covers it")
    np.savez(tmp_path / "d.npz", input=np.zeros((4, 4), np.float32), output=np.zeros((4, 1), np.float32))
    code = cli.main(["train", str(ROOT / "examples" / "mlp.net"), "--data", str(tmp_path / "d.npz"),
                     "--backend", "torch", "--device", "cuda", "-o", str(tmp_path / "w.npz")])
    assert code == 2 and "PyTorch sees no CUDA device" in capsys.readouterr().err
