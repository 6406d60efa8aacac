"""The GPU checks, in one run of a few minutes: ``python bench/gpu_check.py``.

1. The generated torch module's forward and training step on CUDA against the same model written
   by hand in plain torch (nn.Linear, torch.optim.Adam, F.cross_entropy): time per batch (median
   of CUDA-event timings after a warm-up) and the ratio; the target is <= 1.05x.
2. ``spec2net train --backend torch --device cuda`` against ``--device cpu``: the largest weight
   difference after 2 epochs (target <= 1e-4).
3. ``torchrun --nproc-per-node 1 -m spec2net train --backend torch --device cuda``: DDP with nccl
   at world size 1 against the plain CUDA run (target <= 1e-5).

Without a GPU it says so, times (1) on the CPU instead and runs (2) and (3) on the CPU (gloo), so
the script itself is checked anywhere. It prints one table; docs/scale.md holds the figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import spec2net
from spec2net import cli
from spec2net.engines import torch_engine

ROOT = Path(__file__).resolve().parent.parent
MLP = """model mlp {
    input x: float32[784]
    h = Dense(1024, activation=relu)(x)
    h = Dense(1024, activation=relu)(h)
    output y = Dense(10, activation=softmax)(h)
    compile { optimizer = adam(learning_rate=0.001); loss = categorical_crossentropy }
}"""
BATCH = 512
ROWS: list = []


def row(check: str, figure: str, target: str, ok: bool | None) -> None:
    ROWS.append((check, figure, target, {True: "ok", False: "MISSED", None: "-"}[ok]))
    print(f"  {check}: {figure}", flush=True)


def timed(fn, device, repeats: int) -> float:
    """The median seconds of one call, after a warm-up."""
    for _ in range(5):
        fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) / 1000)
        else:
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    return float(np.median(times))


def hand_written(device):
    model = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                          nn.Linear(1024, 10)).to(device)
    return model, torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7)


def speed(device) -> None:
    net = spec2net.loads(MLP)
    mod = torch_engine.module(net)
    model = mod.build_model(0).to(device)
    optimizer = mod.make_optimizer(model)
    ref, ref_opt = hand_written(device)
    x = torch.randn(BATCH, 784, device=device)
    y = F.one_hot(torch.randint(0, 10, (BATCH,), device=device), 10).float()
    labels = y.argmax(-1)
    repeats = 50 if device.type == "cuda" else 5

    def ours_forward():
        with torch.no_grad():
            model.eval()(x)

    def ref_forward():
        with torch.no_grad():
            ref.eval()(x)

    def ours_step():
        mod.train_step(model, optimizer, [x], [y])

    def ref_step():
        ref.train()
        loss = F.cross_entropy(ref(x), labels)
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()

    for what, ours, theirs in (("forward", ours_forward, ref_forward), ("training step", ours_step, ref_step)):
        a, b = timed(ours, device, repeats), timed(theirs, device, repeats)
        row(f"{what} on {device.type}, MLP 784-1024-1024-10, batch {BATCH}: generated vs hand-written",
            f"{a * 1e3:.3f} ms vs {b * 1e3:.3f} ms = {a / b:.3f}x", "<= 1.05x",
            a / b <= 1.05 if device.type == "cuda" else None)


def _train(workdir: Path, name: str, device: str, launcher=None) -> dict:
    out = workdir / f"{name}.npz"
    argv = ["train", str(ROOT / "examples" / "normalized.net"), "--data", str(workdir / "data.npz"), "--backend",
            "torch", "--device", device, "--epochs", "2", "--batch-size", "32", "-o", str(out)]
    if launcher is None:
        assert cli.main(argv) == 0, f"train --device {device} failed"
    else:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([*launcher, "-m", "spec2net", *argv], env=env, capture_output=True, text=True, check=False,
                              timeout=240)
        assert done.returncode == 0, done.stderr[-2000:]
    with np.load(out) as f:
        return {k: f[k] for k in f.files}


def diff(a: dict, b: dict) -> float:
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


def agreement(cuda: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        rng = np.random.default_rng(0)
        np.savez(workdir / "data.npz", x=rng.standard_normal((1000, 20)).astype(np.float32),
                 y=np.eye(3, dtype=np.float32)[rng.integers(0, 3, 1000)])
        cpu = _train(workdir, "cpu", "cpu")
        device = "cuda" if cuda else "cpu"
        if cuda:
            gpu = _train(workdir, "cuda", "cuda")
            d = diff(gpu, cpu)
            row("train --backend torch --device cuda vs --device cpu (normalized.net, 2 epochs, 1000 samples)",
                f"max |diff| {d:.2e}", "<= 1e-4", d <= 1e-4)
        else:
            gpu = cpu
            print("  no CUDA device: train --device cuda vs cpu skipped", flush=True)
        launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "1", "--master-port", "29533"]
        ddp = _train(workdir, "ddp", device, launcher)
        d = diff(ddp, gpu)
        backend = "nccl" if cuda else "gloo (no CUDA device)"
        row(f"torchrun --nproc-per-node 1, {backend}, vs one process on {device}", f"max |diff| {d:.2e}", "<= 1e-5",
            d <= 1e-5)


def main() -> int:
    cuda = torch.cuda.is_available()
    print(f"torch {torch.__version__}; " + (f"CUDA device: {torch.cuda.get_device_name(0)}" if cuda else
                                           "no CUDA device: the GPU parts are skipped, the timings run on the CPU"))
    speed(torch.device("cuda" if cuda else "cpu"))
    agreement(cuda)
    width = max(len(r[0]) for r in ROWS)
    print(f"\n{'check':<{width}} | figure | target | result")
    for check, figure, target, result in ROWS:
        print(f"{check:<{width}} | {figure} | {target} | {result}")
    return 0 if all(r[3] != "MISSED" for r in ROWS) else 1


if __name__ == "__main__":
    sys.exit(main())
