"""The NumPy interpreter's speed, as ratios measured in one run (lower is better):

- interpreter / hand-written NumPy of the same MLP (784->512->512->10, batch 512), target <= 1.15
- interpreter / PyTorch eager on the CPU, same MLP, target <= 1.5
- interpreter / PyTorch eager (torch.nn.LSTM), LSTM(128) over 100 steps of 32 features, batch 64,
  target <= 2.5

Each time is the best of repeated runs after a warm-up, ours and theirs alternating, all at float32 on the same
threads. ``python bench/interpreter.py [--strict]``: --strict exits 1 when a target is missed.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from spec2net.backends import numpy as nb

import spec2net

MLP = """
sequential mlp {
    input float32[784]
    Dense(512, activation=relu)
    Dense(512, activation=relu)
    Dense(10, activation=softmax)
}
"""
LSTM = "sequential seq { input float32[100, 32]; LSTM(128) }"


def compare(mine, theirs, repeats, warmup=3) -> tuple[float, float]:
    """The best times of ``mine`` and ``theirs``, run alternately so that load from other
    processes falls on both alike (the minimum is the least disturbed run)."""
    for _ in range(warmup):
        mine(), theirs()
    a, b = [], []
    for _ in range(repeats):
        for fn, times in ((mine, a), (theirs, b)):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    return min(a), min(b)


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


def main(argv) -> int:
    rng = np.random.default_rng(0)
    results = []

    mlp = spec2net.loads(MLP).ir
    w = nb.init_weights(mlp, 0)
    x = rng.standard_normal((512, 784)).astype(np.float32)
    hand = handwritten_mlp(w)
    ours = nb.run(mlp, {"input": x}, w)["output"]
    np.testing.assert_allclose(ours, hand(x), atol=1e-6)
    run_mlp = lambda: nb.run(mlp, {"input": x}, w)
    results.append(("MLP: interpreter / hand-written NumPy", *compare(run_mlp, lambda: hand(x), 100), 1.15))

    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: the PyTorch ratios are skipped")
    if torch is not None:
        torch.set_grad_enabled(False)
        tm = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                                 torch.nn.ReLU(), torch.nn.Linear(512, 10), torch.nn.Softmax(dim=-1))
        for i, layer in enumerate(tm[0::2]):
            name = "dense" if i == 0 else f"dense_{i}"
            layer.weight.copy_(torch.from_numpy(w[f"{name}/kernel"].T.copy()))
            layer.bias.copy_(torch.from_numpy(w[f"{name}/bias"]))
        tx = torch.from_numpy(x)
        np.testing.assert_allclose(tm(tx).numpy(), ours, atol=1e-5)
        results.append(("MLP: interpreter / PyTorch eager", *compare(run_mlp, lambda: tm(tx), 100), 1.5))

        seq = spec2net.loads(LSTM).ir
        ws = nb.init_weights(seq, 0)
        xs = rng.standard_normal((64, 100, 32)).astype(np.float32)
        lstm = torch.nn.LSTM(32, 128, batch_first=True)
        # Keras's (in, 4u) kernels with gates i f c o are torch's (4u, in) weights with gates i f g o
        lstm.weight_ih_l0.copy_(torch.from_numpy(ws["lstm/kernel"].T.copy()))
        lstm.weight_hh_l0.copy_(torch.from_numpy(ws["lstm/recurrent_kernel"].T.copy()))
        lstm.bias_ih_l0.copy_(torch.from_numpy(ws["lstm/bias"]))
        lstm.bias_hh_l0.zero_()
        txs = torch.from_numpy(xs)
        ours_seq = nb.run(seq, {"input": xs}, ws)["output"]
        np.testing.assert_allclose(lstm(txs)[1][0][0].numpy(), ours_seq, atol=1e-5)
        results.append(("LSTM(128) x100 steps: interpreter / PyTorch eager",
                         *compare(lambda: nb.run(seq, {"input": xs}, ws), lambda: lstm(txs), 10), 2.5))

    print(f"numpy {np.__version__}" + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)"
                                       if torch is not None else ""))
    missed = False
    for what, mine, theirs, target in results:
        ratio = mine / theirs
        ok = ratio <= target
        missed |= not ok
        print(f"{what:<52} {mine * 1e3:8.2f} ms / {theirs * 1e3:8.2f} ms = {ratio:5.2f}  "
              f"(target <= {target}) {'ok' if ok else 'MISSED'}")
    return 1 if missed and "--strict" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
