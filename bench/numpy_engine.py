"""The NumPy engine's speed against PyTorch's CPU kernels and hand-written NumPy, as ratios
measured in one run (lower is better; each line prints its target):

- LSTM(128) and GRU(128) forward, 100 steps of 32 features, batch 64: interpreter /
  torch.nn.LSTM / torch.nn.GRU (fused cells), target <= 2.5
- one Adam training step (forward, loss, backward, update) of LSTM(128) -> Dense(10, softmax)
  on the same data, and of an MLP 784 -> 512 -> 512 -> 10 at batch 512: NumPy trainer / torch,
  target <= 2.5
- the MLP's forward: interpreter / the same MLP written by hand in NumPy, target <= 1.1

Both sides run at float32 on the same number of threads: NumPy's OpenBLAS takes
``OPENBLAS_NUM_THREADS`` (else ``OMP_NUM_THREADS``, else every core this process may use),
and torch is set to that count with ``torch.set_num_threads``. Each time is the best of
repeated runs after a warm-up, ours and theirs alternating, so load from other processes
falls on both alike; compare ratios, not times, between runs. On a loaded machine,
``OPENBLAS_NUM_THREADS=1 ... --cpu-time`` measures the process's CPU time instead of wall
time: with one thread a side, other processes' load then hardly moves the ratios (with more
threads it sums the threads' time).

    python bench/numpy_engine.py [--strict] [--cpu-time]    # --strict: exit 1 when a target is missed
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
from spec2net.backends import numpy as nb
from spec2net.backends.numpy.backprop import loss_and_grads
from spec2net.backends.numpy.optimizers import Optimizer

import spec2net

B, T, F, UNITS = 64, 100, 32, 128
RNN = "sequential seq {{ input float32[{T}, {F}]; {kind}({u}) }}"
RNN_TRAIN = """sequential seq_train {{
    input float32[{T}, {F}]
    LSTM({u})
    Dense(10, activation=softmax)
    compile {{ optimizer = adam; loss = categorical_crossentropy }}
}}"""
MLP = """sequential mlp {
    input float32[784]
    Dense(512, activation=relu)
    Dense(512, activation=relu)
    Dense(10, activation=softmax)
    compile { optimizer = adam; loss = categorical_crossentropy }
}"""
MLP_BATCH = 512


def numpy_threads() -> int:
    """The thread count NumPy's OpenBLAS starts with (its environment variables, else the cores)."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


CLOCK = [time.perf_counter]  # main() switches it to time.process_time with --cpu-time


def compare(mine, theirs, repeats, warmup=2) -> tuple[float, float]:
    """The best times of ``mine`` and ``theirs``, run alternately."""
    for _ in range(warmup):
        mine(), theirs()
    a, b = [], []
    for _ in range(repeats):
        for fn, times in ((mine, a), (theirs, b)):
            clock = CLOCK[0]
            t = clock()
            fn()
            times.append(clock() - t)
    return min(a), min(b)


def _t(a):
    import torch

    return torch.from_numpy(np.ascontiguousarray(a))


def torch_lstm(w, prefix="lstm"):
    """torch.nn.LSTM with Keras's weights: Keras's (in, 4u) kernels, gates i f c o, are torch's
    (4u, in) weights with gates i f g o; Keras has one bias, torch two (the second zero)."""
    import torch

    m = torch.nn.LSTM(F, UNITS, batch_first=True)
    with torch.no_grad():
        m.weight_ih_l0.copy_(_t(w[f"{prefix}/kernel"].T))
        m.weight_hh_l0.copy_(_t(w[f"{prefix}/recurrent_kernel"].T))
        m.bias_ih_l0.copy_(_t(w[f"{prefix}/bias"]))
        m.bias_hh_l0.zero_()
    return m


def torch_gru(w):
    """torch.nn.GRU with Keras's reset_after weights: Keras's gates z r h are torch's r z n."""
    import torch

    m = torch.nn.GRU(F, UNITS, batch_first=True)
    perm = np.r_[UNITS:2 * UNITS, 0:UNITS, 2 * UNITS:3 * UNITS]
    with torch.no_grad():
        m.weight_ih_l0.copy_(_t(w["gru/kernel"][:, perm].T))
        m.weight_hh_l0.copy_(_t(w["gru/recurrent_kernel"][:, perm].T))
        m.bias_ih_l0.copy_(_t(w["gru/bias"][0][perm]))
        m.bias_hh_l0.copy_(_t(w["gru/bias"][1][perm]))
    return m


def rnn_forward(kind, make, rng):
    import torch

    model = spec2net.loads(RNN.format(T=T, F=F, kind=kind, u=UNITS)).ir
    w = nb.init_weights(model, 0)
    x = rng.standard_normal((B, T, F)).astype(np.float32)
    tm, tx = make(w), _t(x)
    with torch.no_grad():
        np.testing.assert_allclose(tm(tx)[0][:, -1].numpy(), nb.run(model, {"input": x}, w)["output"], atol=1e-5)

    def theirs():
        with torch.no_grad():
            tm(tx)

    return compare(lambda: nb.run(model, {"input": x}, w), theirs, 15)


class _Trainer:
    """The NumPy trainer's step on one batch, Adam state carried over as in ``fit``."""

    def __init__(self, spec, x, y):
        self.model = spec2net.loads(spec).ir
        self.w = nb.init_weights(self.model, 0)
        self.opt = Optimizer(self.model.compile.optimizer)
        self.x, self.y = x, y

    def __call__(self):
        _, _, grads, _, _ = loss_and_grads(self.model, self.w, {"input": self.x}, {"output": self.y}, seed=0)
        self.w = self.opt.apply(self.w, grads)


def torch_step(model, x, y):
    """One Adam step of ``model`` (ending in logits) on categorical cross-entropy, as Keras's
    from probabilities: torch's cross_entropy on the logits is the same loss."""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    tx, ty = _t(x), _t(y.argmax(1))

    def step():
        loss = torch.nn.functional.cross_entropy(model(tx), ty)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def lstm_step(rng):
    import torch

    x = rng.standard_normal((B, T, F)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, B)]
    mine = _Trainer(RNN_TRAIN.format(T=T, F=F, u=UNITS), x, y)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.dense = torch_lstm(mine.w), torch.nn.Linear(UNITS, 10)

        def forward(self, tx):
            return self.dense(self.lstm(tx)[1][0][0])

    return compare(mine, torch_step(Net(), x, y), 7)


def mlp_step(rng):
    import torch

    x = rng.standard_normal((MLP_BATCH, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, MLP_BATCH)]
    mine = _Trainer(MLP, x, y)
    net = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                              torch.nn.ReLU(), torch.nn.Linear(512, 10))
    return compare(mine, torch_step(net, x, y), 20)


def handwritten_mlp(w):
    W1, b1, W2, b2, W3, b3 = (w[k] for k in ("dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
                                             "dense_2/kernel", "dense_2/bias"))

    def f(x):
        h = np.maximum(x @ W1 + b1, 0)
        h = np.maximum(h @ W2 + b2, 0)
        z = h @ W3 + b3
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return f


def mlp_forward(rng):
    model = spec2net.loads(MLP).ir
    w = nb.init_weights(model, 0)
    x = rng.standard_normal((MLP_BATCH, 784)).astype(np.float32)
    hand = handwritten_mlp(w)
    np.testing.assert_allclose(nb.run(model, {"input": x}, w)["output"], hand(x), atol=1e-6)
    return compare(lambda: nb.run(model, {"input": x}, w), lambda: hand(x), 60)


def main(argv) -> int:
    threads = numpy_threads()
    if "--cpu-time" in argv:
        CLOCK[0] = time.process_time
    rng = np.random.default_rng(0)
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: only the hand-written NumPy ratio is measured")
    results = [("MLP forward: interpreter / hand-written NumPy", *mlp_forward(rng), 1.1)]
    if torch is not None:
        torch.set_num_threads(threads)
        results += [
            (f"LSTM({UNITS}) x{T} forward: NumPy / torch.nn.LSTM", *rnn_forward("LSTM", torch_lstm, rng), 2.5),
            (f"GRU({UNITS}) x{T} forward: NumPy / torch.nn.GRU", *rnn_forward("GRU", torch_gru, rng), 2.5),
            (f"LSTM({UNITS})->Dense(10) Adam step: NumPy / torch", *lstm_step(rng), 2.5),
            (f"MLP 784-512-512-10 (batch {MLP_BATCH}) Adam step: NumPy / torch", *mlp_step(rng), 2.5),
        ]
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch is not None else "")
          + f"; {threads} thread(s) each; {'CPU' if '--cpu-time' in argv else 'wall'} time")
    missed = False
    for what, mine, theirs, target in results:
        ratio = mine / theirs
        missed |= ratio > target
        print(f"{what:<58} {mine * 1e3:8.2f} ms / {theirs * 1e3:8.2f} ms = {ratio:5.2f}  "
              f"(target <= {target}) {'ok' if ratio <= target else 'MISSED'}")
    return 1 if missed and "--strict" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
