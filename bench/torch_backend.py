"""Generated PyTorch module vs the same model written by hand, on the CPU.

For an MLP and an LSTM model: one forward pass (eval, no grad) and one training step
(forward, loss, backward, Adam update). Prints time(generated) / time(hand-written); the
target is <= 1.05. Each figure is the median of interleaved rounds, each round the best of
a few repeats, so background load on a shared machine affects both sides alike.

    python bench/torch_backend.py
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

import spec2net

MLP = """sequential mlp_bench {
    input float32[256]
    Dense(512, activation=relu)
    Dense(512, activation=relu)
    Dense(10, activation=softmax)
    compile { optimizer = adam; loss = categorical_crossentropy }
}"""
LSTM = """sequential lstm_bench {
    input float32[50, 16]
    LSTM(64)
    Dense(1)
    compile { optimizer = adam(learning_rate=0.01); loss = mse }
}"""


class HandMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(256, 512), nn.Linear(512, 512), nn.Linear(512, 10)

    def forward(self, x):
        return torch.softmax(self.l3(torch.relu(self.l2(torch.relu(self.l1(x))))), dim=-1)


class HandLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm, self.dense = nn.LSTM(16, 64, batch_first=True), nn.Linear(64, 1)

    def forward(self, x):
        return self.dense(self.lstm(x)[0][:, -1])


def _hand_step(model, opt, loss_fn):
    def step(x, y):
        model.train()
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _time(fn, repeats=5, inner=5):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - t) / inner)
    return best


def bench(name, spec, hand, loss_fn, x, y, rounds=7):
    mod = {}
    exec(compile(spec2net.loads(spec).build("torch"), f"<{name}>", "exec"), mod)  # noqa: S102  (our own output)
    gen = mod["build_model"](0)
    ref = hand()
    gen_opt, ref_opt = mod["make_optimizer"](gen), torch.optim.Adam(ref.parameters(), lr=1e-3, eps=1e-7)
    gen_step = lambda: mod["train_step"](gen, gen_opt, [x], [y])
    ref_step = _hand_step(ref, ref_opt, loss_fn)

    def forward(model):
        def run():
            model.eval()
            with torch.no_grad():
                model(x)

        return run

    ratios = {"forward": [], "train step": []}
    for _ in range(rounds):
        ratios["forward"].append(_time(forward(gen)) / _time(forward(ref)))
        ratios["train step"].append(_time(gen_step) / _time(lambda: ref_step(x, y)))
    for what, r in ratios.items():
        print(f"{name:5} {what:11} generated / hand-written = {statistics.median(r):.3f}")
    return {what: statistics.median(r) for what, r in ratios.items()}


def main():
    torch.manual_seed(0)
    x = torch.randn(256, 256)
    y = torch.eye(10)[torch.randint(0, 10, (256,))]
    cce = lambda p, t: -(t * torch.log(p.clamp(1e-7, 1 - 1e-7))).sum(-1).mean()
    out = {"mlp": bench("mlp", MLP, HandMLP, cce, x, y)}
    xs, ys = torch.randn(64, 50, 16), torch.randn(64, 1)
    out["lstm"] = bench("lstm", LSTM, HandLSTM, nn.functional.mse_loss, xs, ys)
    return out


if __name__ == "__main__":
    main()
