"""The generated Keras module on every Keras 3 backend: JAX and torch against TensorFlow, on every
example, forward (within 1e-5) and two epochs of fit (weights and losses within 1e-4).

Keras fixes its backend at import, so tests/keras_backend_run.py runs all examples in one
subprocess per backend (the three at once) and writes what it computed; these tests compare the
files. docs/keras.md ("Keras backends") says what differs by backend; ``repeated_ids`` checks
the one difference in the mathematics: TensorFlow's Adam on an Embedding whose ids repeat in a
batch.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT
from numpy_keras_helpers import DiffTable, max_diff

import spec2net

RUNNER = ROOT / "tests" / "keras_backend_run.py"
BACKENDS = ("tensorflow", "jax", "torch")
FORWARD, FIT = 1e-5, 1e-4
TABLE = DiffTable()
COMPILED = {p.stem for p in EXAMPLES if spec2net.load(p).ir.compile is not None}

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("keras", "tensorflow", "jax", "torch")),
    reason="needs Keras 3 with TensorFlow, JAX and torch: pip install 'spec2net[keras,torch,jax]'")


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    TABLE.report(request.config, "Keras on JAX and torch vs Keras on TensorFlow, worst max|diff|")


def backend_env(backend: str) -> dict:
    """One thread per process (three run at once), CPU only; XLA's LLVM passes at level 0, which
    halves JAX's compile time and changes no result beyond float rounding (checked below)."""
    env = dict(os.environ, KERAS_BACKEND=backend, CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu",
               TF_CPP_MIN_LOG_LEVEL="3", OMP_NUM_THREADS="1", TF_NUM_INTRAOP_THREADS="1",
               TF_NUM_INTEROP_THREADS="1")
    env["XLA_FLAGS"] = "--xla_backend_optimization_level=0 --xla_cpu_multi_thread_eigen=false"
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("backends")
    procs = {b: subprocess.Popen([sys.executable, str(RUNNER), str(out / f"{b}.npz")], env=backend_env(b),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for b in BACKENDS}
    results = {}
    for b, proc in procs.items():
        log, _ = proc.communicate(timeout=900)
        assert proc.returncode == 0, f"Keras on {b} failed:\n{log[-3000:]}"
        with np.load(out / f"{b}.npz") as data:
            results[b] = {k: data[k] for k in data.files}
    return results


def compare(runs, backend: str, prefix: str) -> dict:
    ref, got = runs["tensorflow"], runs[backend]
    keys = sorted(k for k in ref if k.startswith(prefix))
    assert keys, f"nothing under {prefix}"
    assert keys == sorted(k for k in got if k.startswith(prefix))
    return {k: max_diff(got[k], ref[k]) for k in keys}


def test_every_example_ran_on_every_backend(runs):
    for b in BACKENDS:
        errors = list(runs[b]["_errors"])
        assert not errors, f"Keras on {b}: " + "\n".join(errors)[-3000:]
        assert str(runs[b]["_backend"]) == b


@pytest.mark.parametrize("backend", ["jax", "torch"])
@pytest.mark.parametrize("stem", [p.stem for p in EXAMPLES])
def test_forward_and_fit_equal_tensorflow(runs, backend, stem):
    for key, diff in compare(runs, backend, f"{stem}/forward/").items():
        TABLE.add(f"{backend} forward", diff)
        assert diff <= FORWARD, f"{key}: Keras on {backend} differs from TensorFlow by {diff:.2e}"
    if stem not in COMPILED:
        return
    for key, diff in compare(runs, backend, f"{stem}/fit/").items():
        TABLE.add(f"{backend} fit, 2 epochs", diff)
        assert diff <= FIT, f"{key}: after fit, Keras on {backend} differs from TensorFlow by {diff:.2e}"
    diff = compare(runs, backend, f"{stem}/loss")[f"{stem}/loss"]
    TABLE.add(f"{backend} loss history", diff)
    assert diff <= FIT, f"{stem}: the losses on {backend} differ from TensorFlow's by {diff:.2e}"
    first, second = runs[backend][f"{stem}/loss"]
    assert first != second, f"{stem}: fit on {backend} changed nothing"


def test_repeated_ids_are_the_documented_tensorflow_difference(runs):
    """Where an id repeats within a batch, TensorFlow's Adam squares each occurrence's gradient
    (its IndexedSlices) while JAX and torch square their sum, as Keras's formula reads; the
    forward pass and the other two backends agree (docs/keras.md)."""
    key = "repeated_ids/fit/embedding/embeddings"
    assert max_diff(runs["jax"][key], runs["torch"][key]) <= FIT
    assert max(compare(runs, "jax", "repeated_ids/forward/").values()) <= FORWARD
    assert max_diff(runs["jax"][key], runs["tensorflow"][key]) > 1e-3
