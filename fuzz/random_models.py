"""Random well-typed models through every backend: ``python fuzz/random_models.py [--count N]
[--start S] [--backends numpy,keras,torch,onnx]``.

Each seed's spec (modelgen.random_spec) must load (a SpecError is a generator or front-end
bug), summarize, and run in NumPy with finite outputs of the declared shapes; then the
generated Keras and torch modules must compile, run and agree with NumPy in inference and
training mode, and the ONNX model in onnxruntime in inference (modelrun.compare). Prints the counts and every failure with its seed; exit 1
if anything failed. Reproduce one with ``modelgen.random_spec(seed)``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
sys.path.insert(0, str(Path(__file__).resolve().parent))
# Keras warns about what random models do on purpose (a softmax over one unit, a mask dropped)
warnings.filterwarnings("ignore", category=UserWarning)

import modelgen
import modelrun
import numpy as np

import spec2net


def check_numpy(net, seed):
    """The NumPy run the CI test does: finite outputs with the IR's shapes."""
    x, w = modelrun.random_inputs(net.ir, seed), modelrun.perturbed_weights(net.ir, seed)
    out = net.run(x, w)
    for o in net.ir.outputs:
        want = (modelrun.BATCH, *o.tensor.type.shape)
        got = out[o.name].shape
        if len(got) != len(want) or any(d is not None and d != g for d, g in zip(want, got)):
            raise AssertionError(f"output {o.name}: shape {got}, the IR says {want}")
    return all(np.isfinite(v).all() for v in out.values())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--backends", default="numpy,keras,torch,onnx", help="numpy plus any of keras, torch, onnx")
    args = p.parse_args(argv)
    others = tuple(b for b in args.backends.split(",") if b and b != "numpy")
    if set(others) - set(modelrun.RUNNERS):
        p.error(f"--backends takes numpy, keras, torch and onnx; got {args.backends!r}")
    counts, failures, notes, start = Counter(), [], [], time.time()
    for seed in range(args.start, args.start + args.count):
        counts["generated"] += 1
        step = "load"
        try:
            net = spec2net.loads(modelgen.random_spec(seed), file=f"random_spec({seed})")
            counts["checked"] += 1
            step = "numpy"
            net.summary()
            if not check_numpy(net, seed):
                counts["non-finite (skipped)"] += 1  # an overflow (exp of exp): nothing to compare
                notes.append(f"seed {seed}: non-finite NumPy outputs, not compared")
                continue
            counts["ran in numpy"] += 1
            if not others:
                continue
            step = "+".join(others)
            report = modelrun.compare(net, seed, others)
        except Exception as e:  # noqa: BLE001  (every failure is a finding, reported with its seed)
            counts["crashes"] += 1
            failures.append(f"seed {seed}: CRASH in {step}: {type(e).__name__}: {str(e)[:300]}")
            if os.environ.get("FUZZ_DEBUG"):
                traceback.print_exc()
            continue
        if report.ok:
            counts["agreed"] += 1
            counts["agreed only within float32 rounding"] += not report.strict
            if not report.strict:  # listed, to audit: ill-conditioned, or a bug hiding in the noise?
                k, d = report.worst
                notes.append(f"seed {seed}: agreed within float32 rounding: {k}: max diff {d:.3g}, from float64 "
                             f"{report.rounding[k][0]:.3g}, NumPy float32 from float64 {report.rounding[k][1]:.3g}")
        else:
            counts["disagreements"] += 1
            bad = report.off()
            worst = max(bad.items(), key=lambda kv: kv[1])
            failures.append(f"seed {seed}: DISAGREE {worst[0]}: max diff {worst[1]:.3g} "
                            f"(tolerance {report.tol:g}; {len(bad)} comparisons off)")
    for line in notes + failures:
        print(line)
    print(f"seeds {args.start}..{args.start + args.count - 1}, backends numpy{''.join(',' + b for b in others)}: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()) + f"; {time.time() - start:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
