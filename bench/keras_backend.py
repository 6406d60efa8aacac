"""Generated Keras model vs the same model written by hand: ``predict`` time on the CPU.

    python bench/keras_backend.py [--repeats 7]

Both models hold the same weights; runs alternate between them so that machine noise hits
both alike, and the ratio is of the medians. Target: generated / hand-written <= 1.05.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import keras
import numpy as np

import spec2net

MLP = """sequential mlp {
    input float32[256]
    Dense(512, activation=relu)
    Dense(512, activation=relu)
    Dense(10, activation=softmax)
}"""

LSTM = """sequential lstm {
    input float32[50, 16]
    LSTM(64)
    Dense(1)
}"""


def hand_mlp():
    return keras.Sequential([keras.Input(shape=(256,)), keras.layers.Dense(512, activation="relu"),
                             keras.layers.Dense(512, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")])


def hand_lstm():
    return keras.Sequential([keras.Input(shape=(50, 16)), keras.layers.LSTM(64), keras.layers.Dense(1)])


CASES = {"MLP 256-512-512-10": (MLP, hand_mlp, (8192, 256), 1024),
         "LSTM(64) over 50x16": (LSTM, hand_lstm, (2048, 50, 16), 256)}


def generated(spec: str, workdir: Path):
    path = workdir / "generated_model.py"
    path.write_text(spec2net.loads(spec, file="bench.net").build("keras"))
    module_spec = importlib.util.spec_from_file_location(f"bench_{abs(hash(spec))}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.build_model()


def timed(model, x, batch_size) -> float:
    start = time.perf_counter()
    model.predict(x, batch_size=batch_size, verbose=0)
    return time.perf_counter() - start


def bench(name, spec, hand, shape, batch_size, repeats, workdir) -> float:
    gen, ref = generated(spec, workdir), hand()
    ref.set_weights(gen.get_weights())  # same layers in the same order: same weights
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(gen.predict(x[:64], verbose=0)["output"], ref.predict(x[:64], verbose=0),
                               atol=1e-6)
    timed(gen, x, batch_size), timed(ref, x, batch_size)  # warm-up: tracing and first allocations
    t_gen, t_ref = [], []
    for _ in range(repeats):
        t_gen.append(timed(gen, x, batch_size))
        t_ref.append(timed(ref, x, batch_size))
    g, r = statistics.median(t_gen), statistics.median(t_ref)
    print(f"{name:<22} generated {g * 1e3:8.1f} ms   hand-written {r * 1e3:8.1f} ms   ratio {g / r:.3f}")
    return g / r


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, CPU; median of {args.repeats}")
    with tempfile.TemporaryDirectory() as tmp:
        ratios = [bench(name, *case, args.repeats, Path(tmp)) for name, case in CASES.items()]
    return 0 if max(ratios) <= 1.05 else 1


if __name__ == "__main__":
    sys.exit(main())
