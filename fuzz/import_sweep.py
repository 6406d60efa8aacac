"""Every example, every registry sample and random models through Keras and back:
``python fuzz/import_sweep.py [--formats .keras,.h5] [--random N] [--start S]``.

Each spec is made into a real Keras model (the generated Keras module), given weights, saved with
``model.save`` and imported (spec2net/importer): the spec must check, show Keras's layers, output
shapes and parameter counts, hold Keras's weights to the bit, `run` within 1e-5 of Keras, and
import again to the same text after a second trip through Keras (the fixed point). A random
model (fuzz/modelgen.py) the importer refuses is counted apart: the refusal must be one line
naming a layer, and an imported random model must run exactly as the original spec (against
Keras its rounding is fuzz/random_models.py's business). Prints the counts, the worst difference and every failure; exit 1 if any.
tests/test_import.py runs a fixed subset of the same checks.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import traceback
import warnings
from collections import Counter
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "fuzz"), str(ROOT / "tests")]
warnings.filterwarnings("ignore")
logging.getLogger("absl").setLevel(logging.ERROR)  # Keras warns at every legacy .h5 save

import keras
from import_helpers import compare_run, keras_summary_facts, round_trip, summary_facts
from keras_helpers import example_inputs, example_weights
from numpy_keras_helpers import chain_spec, max_diff
from registry_samples import layer_samples

import spec2net
from spec2net.importer import ModelFileError


def cases(n_random: int, start: int):
    for path in sorted((ROOT / "examples").glob("*.net")):
        yield path.stem, lambda p=path: spec2net.load(p)
    for p in layer_samples():
        layer_type, args, inputs = p.values
        yield p.id, lambda t=layer_type, a=args, i=inputs: spec2net.loads(chain_spec(i, [(t, a)]))
    if n_random:
        import modelgen

        for seed in range(start, start + n_random):
            yield f"random-{seed}", lambda s=seed: spec2net.loads(modelgen.random_spec(s))


def check(net, suffix: str, tol: float | None) -> float | None:
    """The round trip's checks; ``tol`` None: the imported spec must run as the original does (a
    random model's float32 rounding against Keras is fuzz/random_models.py's business)."""
    weights, x = example_weights(net, seed=3), example_inputs(net)
    try:
        original = net.run(x, weights)
    except ValueError:  # a random spec whose `?` only fits one length (7 steps do not broadcast with 5)
        return None
    with tempfile.TemporaryDirectory() as folder:
        first, model, second = round_trip(net, weights, Path(folder), suffix)
        same = [max_diff(a, b) for a, b in zip(original.values(), first.net.run(x, first.weights).values())]
        assert max(same) == 0.0, f"the imported spec runs differently from the original: {max(same):.2e}"
        assert summary_facts(first.net) == keras_summary_facts(keras, model), "summary differs"
        assert sorted(first.weights) == sorted(weights), "weight keys differ"
        assert all((first.weights[k] == v).all() for k, v in weights.items()), "weights differ"
        diff = compare_run(first, model, x)
        assert tol is None or diff <= tol, f"max|diff| {diff:.2e} vs Keras"
        assert second == first.text, f"not a fixed point:\n{first.text}\n---\n{second}"
        return diff


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--formats", default=".keras,.h5")
    ap.add_argument("--random", type=int, default=0, help="random models to add (fuzz/modelgen.py)")
    ap.add_argument("--start", type=int, default=0)
    args = ap.parse_args()
    counts, worst, failures = Counter(), 0.0, []
    for name, make in cases(args.random, args.start):
        net = make()
        for suffix in args.formats.split(","):
            try:
                tol = None if name.startswith("random-") else 1e-5
                diff = check(net, suffix, tol)
                if diff is None:
                    counts["unrunnable"] += 1
                    continue
                worst = max(worst, diff)
                counts["ok"] += 1
            except ModelFileError as e:
                if name.startswith("random-") and "\n" not in str(e) and "layer '" in str(e):
                    counts["refused"] += 1  # a random model may hold what import refuses, by name
                    continue
                failures.append(f"{name}{suffix}: {e}")
            except Exception as e:  # noqa: BLE001  (a sweep reports every failure, then goes on)
                failures.append(f"{name}{suffix}: {type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}")
    print(f"import sweep: {counts['ok']} round trips ok, {counts['refused']} refused by name, "
          f"{counts['unrunnable']} random specs that do not run on the sweep's inputs, "
          f"{len(failures)} failed; worst max|diff| vs Keras {worst:.2e} (random models: measured, their "
          "imported spec held to the original's run exactly)")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
