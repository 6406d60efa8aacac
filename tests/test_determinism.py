"""Determinism: the same spec gives the same module bytes, and the same seed the same weights,
runs and training, in any process and under any string-hash seed.

Each check runs in fresh interpreters with different PYTHONHASHSEED values, because set and
dict orders that leak into output only differ between processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import EXAMPLES, ROOT

# Prints a digest per example of everything spec2net produces from it.
DIGESTS = r"""
import hashlib, json, sys
import numpy as np
import spec2net
from spec2net.equiv import random_inputs, random_targets

def digest(arrays, h=None):
    top, h = h is None, h or hashlib.sha256()
    for key in sorted(arrays):
        value = arrays[key]
        h.update(key.encode())
        if isinstance(value, dict):  # a training run also returns the updated BN statistics
            digest(value, h)
        else:
            h.update(np.asarray(value).dtype.str.encode() + np.ascontiguousarray(value).tobytes())
    return h.hexdigest()[:16] if top else None

out = {}
for path in sys.argv[1:]:
    net = spec2net.load(path)
    w = net.init_weights(seed=7)
    x = random_inputs(net.ir, batch=4, seed=1)
    row = {"keras": hashlib.sha256(net.build("keras").encode()).hexdigest()[:16],
           "torch": hashlib.sha256(net.build("torch").encode()).hexdigest()[:16],
           "weights": digest(w), "run": digest(net.run(x, w)),
           "training": digest(net.run(x, w, training=True, seed=3))}
    if net.ir.compile is not None:
        data = {**x, **random_targets(net.ir, 4, seed=2)}
        trained, history = net.train(data, w, epochs=2, batch_size=2, shuffle=True, seed=5)
        row["train"] = digest(trained) + json.dumps(history, sort_keys=True)
    out[path.rsplit("/", 1)[-1]] = row
print(json.dumps(out, sort_keys=True))
"""


def digests(hash_seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", DIGESTS, *map(str, EXAMPLES)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def runs():
    return [digests(seed) for seed in ("0", "1", "4242")]


def test_every_example_is_covered(runs):
    first = runs[0]
    assert sorted(first) == sorted(p.name for p in EXAMPLES)
    assert sum("train" in row for row in first.values()) >= 8  # most examples compile, so training is checked


@pytest.mark.parametrize("what", ["keras", "torch", "weights", "run", "training", "train"])
def test_same_bytes_under_every_hash_seed(runs, what):
    for name in runs[0]:
        values = {run[name].get(what) for run in runs}
        assert len(values) == 1, (name, what, values)


def test_the_digests_tell_things_apart(runs):
    """The comparison above is not vacuous: different examples and seeds give different digests."""
    rows = runs[0].values()
    for what in ("keras", "torch", "weights"):
        assert len({row[what] for row in rows}) == len(runs[0])
    mlp = runs[0]["mlp.net"]
    assert mlp["run"] != mlp["training"]  # mlp has dropout: training mode differs, and reproducibly


def test_cli_outputs_are_byte_identical(tmp_path):
    from spec2net.cli import main

    spam = str(ROOT / "examples" / "spam.net")
    for i in (1, 2):
        assert main(["init", spam, "--seed", "9", "-o", str(tmp_path / f"w{i}.npz")]) == 0
        assert main(["build", spam, "--backend", "torch", "-o", str(tmp_path / f"m{i}.py")]) == 0
    assert (tmp_path / "w1.npz").read_bytes() == (tmp_path / "w2.npz").read_bytes()
    assert (tmp_path / "m1.py").read_bytes() == (tmp_path / "m2.py").read_bytes()
