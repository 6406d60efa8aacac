"""Convolution speed on the CPU: the NumPy interpreter against torch eager, and the generated torch
module against the same convnet written by hand.

- NumPy Conv2D forward (32 filters 3x3 on 28x28x1, batch 128) vs torch's F.conv2d: target <= 3x.
- NumPy Conv1D forward (64 filters of 7 on 200x64, batch 128) vs torch's F.conv1d: target <= 2x.
- The generated module of examples/mnist_convnet.net vs a hand-written torch twin, forward (eval,
  no grad) and one training step (forward, loss, backward, Adam): target <= 1.05x.

Each ratio is the median of interleaved rounds, each round the best of a few repeats, so the load
of a shared machine weighs on both sides alike. Exit status 1 when a target is missed.

    python bench/conv.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from spec2net.backends import numpy as nb
from torch import nn

import spec2net

ROOT = Path(__file__).resolve().parent.parent
BATCH = 128


def _best(fn, repeats=3, inner=3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - t) / inner)
    return best


def ratio(ours, theirs, rounds=5) -> tuple[float, float, float]:
    """(median ours / theirs, best ours, best theirs) in seconds over interleaved rounds."""
    ours(), theirs()  # warm up: first-call allocations and torch's kernel choice
    pairs = [(_best(ours), _best(theirs)) for _ in range(rounds)]
    return statistics.median(a / b for a, b in pairs), min(a for a, _ in pairs), min(b for _, b in pairs)


def numpy_vs_torch(layer: str, shape: tuple, conv) -> tuple[float, float, float]:
    """One conv layer's forward: the NumPy interpreter on the spec vs ``conv`` (torch eager, channels first)."""
    dims = ", ".join(map(str, shape))
    net = spec2net.loads(f"sequential b {{\n    input float32[{dims}]\n    {layer}\n}}")
    weights = nb.init_weights(net.ir, seed=0)
    x = np.random.default_rng(0).standard_normal((BATCH, *shape)).astype(np.float32)
    kernel = torch.from_numpy(weights[f"{net.ir.layers[0].name}/kernel"])
    bias = torch.from_numpy(weights[f"{net.ir.layers[0].name}/bias"])
    rank = len(shape) - 1
    w = kernel.permute(2, 1, 0) if rank == 1 else kernel.permute(3, 2, 0, 1)  # torch's (out, in, *window)
    xt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1)))  # torch's usual channels-first input
    with torch.no_grad():
        return ratio(lambda: nb.run(net.ir, {"input": x}, weights), lambda: conv(xt, w, bias))


class HandConvnet(nn.Module):
    """keras.io's MNIST convnet as a torch user writes it: channels first, one permute at each end."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)
        self.dense = nn.Linear(1600, 10)

    def forward(self, x):
        h = x.permute(0, 3, 1, 2)  # Keras's NHWC input
        h = F.max_pool2d(torch.relu(self.conv1(h)), 2)
        h = F.max_pool2d(torch.relu(self.conv2(h)), 2)
        h = h.permute(0, 2, 3, 1).flatten(1)  # Keras's Flatten order
        return torch.softmax(self.dense(F.dropout(h, 0.5, self.training)), dim=-1)


def generated_vs_hand() -> list[tuple[str, tuple]]:
    mod: dict = {}
    source = spec2net.load(ROOT / "examples" / "mnist_convnet.net").build("torch")
    exec(compile(source, "<mnist_convnet>", "exec"), mod)  # noqa: S102  (our own output)
    gen, hand = mod["build_model"](0), HandConvnet()
    x = torch.randn(BATCH, 28, 28, 1)
    y = torch.eye(10)[torch.randint(0, 10, (BATCH,))]
    out = []
    with torch.no_grad():
        gen.eval(), hand.eval()
        out.append(("forward", ratio(lambda: gen(x), lambda: hand(x))))

    def stepper(model):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

        def step():
            model.train()
            loss = -(y * torch.log(model(x).clamp(1e-7, 1 - 1e-7))).sum(-1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

        return step

    out.append(("training step", ratio(stepper(gen), stepper(hand))))
    return out


def main() -> int:
    ok = True
    print(f"CPU threads: torch {torch.get_num_threads()}; batch {BATCH}")
    cases = [("Conv2D(32, 3) on 28x28x1", "Conv2D(32, 3)", (28, 28, 1), F.conv2d, 3.0),
             ("Conv1D(64, 7) on 200x64", "Conv1D(64, 7)", (200, 64), F.conv1d, 2.0)]
    for label, layer, shape, conv, target in cases:
        r, ours, theirs = numpy_vs_torch(layer, shape, conv)
        print(f"NumPy {label}: {ours * 1e3:7.2f} ms, torch eager {theirs * 1e3:7.2f} ms, "
              f"ratio {r:5.2f}  (target <= {target})")
        ok &= r <= target
    for what, (r, ours, theirs) in generated_vs_hand():
        print(f"mnist_convnet {what}: generated {ours * 1e3:7.2f} ms, hand-written {theirs * 1e3:7.2f} ms, "
              f"ratio {r:5.3f}  (target <= 1.05)")
        ok &= r <= 1.05
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
