"""``train --backend torch`` under a process group of 2 CPU processes (gloo), as torchrun starts
it: the weights and history equal one process's with the same global batch -- the NumPy
trainer's, which the other tests hold to Keras's fit -- within 1e-5 after 2 epochs, on a dense
model with metrics and validation, a recurrent one with Embedding rows under Adagrad, and a
BatchNormalization one (global moments); an uneven last batch each time. Only rank 0 writes; a
failure on one rank stops both with a one-line message. One spawn of 2 processes runs them all."""

from __future__ import annotations

import json
import os
import socket
import sys

import numpy as np
import pytest

import spec2net

pytest.importorskip("torch")

SPECS = {
    "dense": """model dense {
        input x: float32[6]
        h = Dense(8, activation=tanh, kernel_regularizer=l2(0.01))(x)
        output y = Dense(3, activation=softmax)(h)
        compile { optimizer = adam(learning_rate=0.01); loss = categorical_crossentropy; metrics = [accuracy] }
        fit { validation_split = 0.2 }
    }""",
    "recurrent": """model recurrent {
        input t: int32[6]
        e = Embedding(20, 4, mask_zero=true)(t)
        h = GRU(5)(e)
        output y = Dense(1)(h)
        compile { optimizer = adagrad(learning_rate=0.1); loss = mse; metrics = [mae] }
    }""",
    "bn": """model bn {
        input x: float32[6]
        h = Dense(8, use_bias=false)(x)
        h = BatchNorm(momentum=0.8)(h)
        output y = Dense(1, activation=sigmoid)(h)
        compile { optimizer = rmsprop(learning_rate=0.01); loss = binary_crossentropy }
    }""",
}
N, BATCH = 29, 8  # batches of 8, 8, 8 and 5 (3 + 2 over the ranks); 23 + 6 with validation_split


def _data(name: str, rng) -> dict:
    if name == "recurrent":
        ids = rng.integers(1, 20, (N, 6))
        ids[::3, :2] = 0  # padding: masked steps
        return {"t": ids.astype(np.int32), "y": rng.standard_normal((N, 1)).astype(np.float32)}
    x = rng.standard_normal((N, 6)).astype(np.float32)
    y = (np.eye(3, dtype=np.float32)[rng.integers(0, 3, N)] if name == "dense"
         else rng.integers(0, 2, (N, 1)).astype(np.float32))
    return {"x": x, "y": y}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _failing_third(step):
    calls = []

    def failing(self, *args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("rank-local failure")
        return step(self, *args)

    return failing


def _worker(rank: int, world: int, ports: list, root: str) -> None:
    """One rank: the environment torchrun would give it, then the CLI in-process per model, and
    last a run in which rank 1 alone fails in its third step."""
    from spec2net import cli
    from spec2net.runtime import torch_ddp

    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1")
    sys.stderr = open(os.path.join(root, f"err{rank}.txt"), "w")  # noqa: SIM115 -- the process's own stderr
    codes = {}
    for name, port in zip([*SPECS, "fail"], ports):
        if name == "fail" and rank == 1:
            torch_ddp.Replica.step = _failing_third(torch_ddp.Replica.step)
        if name == "fail":
            sys.stderr.flush()
            sys.stderr = open(os.path.join(root, f"fail_err{rank}.txt"), "w")  # noqa: SIM115
        os.environ["MASTER_PORT"] = str(port)
        spec = "bn" if name == "fail" else name
        codes[name] = cli.main(["train", os.path.join(root, f"{spec}.net"), "--data", os.path.join(root, f"{spec}.npz"),
                                "--backend", "torch", "--epochs", "2", "--batch-size", str(BATCH),
                                "-o", os.path.join(root, f"w_{name}_{rank}.npz"),
                                "--history", os.path.join(root, f"h_{name}_{rank}.json")])
        with open(os.path.join(root, f"codes{rank}.json"), "w") as f:
            json.dump(codes, f)
    sys.stderr.flush()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    rng = np.random.default_rng(0)
    for name, text in SPECS.items():
        (root / f"{name}.net").write_text(text)
        np.savez(root / f"{name}.npz", **_data(name, rng))
    import torch.multiprocessing as mp

    mp.spawn(_worker, args=(2, [_free_port() for _ in range(len(SPECS) + 1)], str(root)), nprocs=2, join=True)
    return root


@pytest.mark.parametrize("name", sorted(SPECS))
def test_two_processes_train_as_one(trained, name):
    codes = [json.loads((trained / f"codes{r}.json").read_text())[name] for r in (0, 1)]
    assert codes == [0, 0], [(trained / f"err{r}.txt").read_text() for r in (0, 1)]
    assert not (trained / f"w_{name}_1.npz").exists(), "only rank 0 writes"
    net = spec2net.load(trained / f"{name}.net")
    with np.load(trained / f"{name}.npz") as f:
        data = {k: f[k] for k in f.files}
    want, history = net.train(data, None, epochs=2, batch_size=BATCH)  # one process, the NumPy trainer
    with np.load(trained / f"w_{name}_0.npz") as f:
        got = {k: f[k] for k in f.files}
    start = net.init_weights(0)
    assert max(float(np.abs(want[k] - start[k]).max()) for k in want) > 1e-3, "training moved nothing"
    diff = max(float(np.abs(got[k] - want[k]).max()) for k in want)
    assert diff <= 1e-5, f"{name}: 2 processes vs one, max |diff| {diff:.3g}"
    mine = json.loads((trained / f"h_{name}_0.json").read_text())
    assert sorted(mine) == sorted(history)
    d = max(abs(a - b) for k in history for a, b in zip(mine[k], history[k]))
    assert d <= 1e-5, f"{name}: history {mine} vs {history}"


def test_one_failing_rank_stops_both(trained):
    codes = [json.loads((trained / f"codes{r}.json").read_text())["fail"] for r in (0, 1)]
    errors = [(trained / f"fail_err{r}.txt").read_text() for r in (0, 1)]
    assert codes == [1, 1], errors
    assert errors[1].strip().splitlines()[-1] == "spec2net train: error: rank 1 of 2: RuntimeError: rank-local failure"
    assert errors[0].strip() == ("spec2net train: error: rank 0 of 2: stopped: rank 1 failed: "
                                 "RuntimeError: rank-local failure"), errors[0]
    assert "Traceback" not in errors[0] + errors[1]
    assert not (trained / "w_fail_0.npz").exists(), "nothing written"
