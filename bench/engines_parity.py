"""Every example without Dropout and every training-parity case of tests/test_torch_training.py,
trained for 2 epochs (batch 8, shuffled, the spec's validation) by the three engines from the
same start weights: the largest weight and history difference of ``--backend torch`` and
``--backend keras`` against the NumPy trainer. ``python bench/engines_parity.py [NAME...]``;
tests/test_train_backends.py runs a fixed subset of it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import spec2net
from spec2net.engines import engine

TOL = 1e-4


def cases() -> dict:
    from test_torch_training import CASES

    out = {}
    for path in sorted((ROOT / "examples").glob("*.net")):
        net = spec2net.load(path)
        random = any(layer.type in ("Dropout", "SpatialDropout1D", "GaussianNoise") or layer.args.get("dropout")
                     or layer.args.get("recurrent_dropout") for layer in net.ir.layers)
        if net.ir.compile is not None and not random:  # Dropout draws differ between frameworks
            out[path.stem] = net
    out.update({name: spec2net.loads(text) for name, text in CASES.items()})
    return out


def _data(net, n: int = 32, length: int = 5):
    """tests/test_torch_training.py's data, a `?` length taken as ``length`` on both sides."""
    from test_torch_training import _data as parity_data

    fixed = {t: t.type.shape for t in net.ir.inputs}
    outs = {o.tensor: o.tensor.type.shape for o in net.ir.outputs}
    try:  # the IR's shapes with `?` as a length, for the data only; restored after
        for t in [*fixed, *outs]:
            object.__setattr__(t.type, "shape", tuple(length if d is None else d for d in t.type.shape))
        return parity_data(net)
    finally:
        for t, shape in {**fixed, **outs}.items():
            object.__setattr__(t.type, "shape", shape)


def main(names: list) -> int:
    worst = 0.0
    print(f"{'case':<55} {'torch':>9} {'keras':>9} {'history':>9}")
    for name, net in cases().items():
        if names and name not in names:
            continue
        x, y = _data(net)
        data = {**x, **y}
        runs = {b: engine(b).train(net, data, None, epochs=2, batch_size=8, shuffle=True, seed=3)
                for b in ("numpy", "torch", "keras")}
        want, history = runs["numpy"]
        diffs = [max(float(np.abs(runs[b][0][k] - want[k]).max()) for k in want) for b in ("torch", "keras")]
        hist = max(abs(a - c) for b in ("torch", "keras") for k in history
                   for a, c in zip(runs[b][1].get(k, [np.nan]), history[k]))
        worst = max(worst, *diffs)
        flag = "" if max(diffs) <= TOL else "  <-- over 1e-4"
        print(f"{name:<55} {diffs[0]:9.2e} {diffs[1]:9.2e} {hist:9.2e}{flag}", flush=True)
    print(f"worst weight difference: {worst:.2e}")
    return 0 if worst <= TOL else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
