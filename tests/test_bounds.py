"""Every input bounded: .npz files are sized from their headers before anything is decompressed,
and the memory estimate is a true upper bound of what init, run and train take.

The zip-bomb tests run the command in a subprocess and read its peak RSS: in this process,
pytest and the frameworks already hold more than the bound being tested.
"""

from __future__ import annotations

import io
import math
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zlib

import numpy as np
import pytest
from conftest import ROOT

import spec2net
from spec2net import budget

SPEC = "model m {\n  input x: [4]\n  output y = Dense(3)(x)\n}\n"
BOMB_SHAPE = (50_000_000, 4)  # 800 MB of float32 zeros, about 0.8 MB compressed


def _member(name: str, value) -> tuple[bytes, int, int, bytes]:
    """(name, crc32, uncompressed size, raw deflate data) of one .npy member; ``value`` is an
    array, or a shape of float32 zeros compressed without ever being held in memory."""
    if isinstance(value, np.ndarray):
        buf = io.BytesIO()
        np.lib.format.write_array(buf, value, allow_pickle=False)
        raw = buf.getvalue()
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return name.encode(), zlib.crc32(raw), len(raw), c.compress(raw) + c.flush()
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": value})
    header = header.getvalue()
    chunk = bytes(1 << 22)
    count, rest = divmod(math.prod(value) * 4, len(chunk))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    # After a full flush the compressor starts afresh, so every chunk of zeros compresses to the
    # same block: compressed once, written `count` times.
    head = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH) == block
    tail = c.compress(bytes(rest)) + c.flush()
    crc = zlib.crc32(header)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(bytes(rest), crc)
    return name.encode(), crc, len(header) + count * len(chunk) + rest, head + block * count + tail


def write_npz(path, **members) -> None:
    """A deflated .npz written field by field (zipfile cannot take precompressed data)."""
    local, central = bytearray(), bytearray()
    for key, value in members.items():
        name, crc, size, data = _member(f"{key}.npy", value)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), size,
                               len(name), 0, 0, 0, 0, 0, len(local)) + name
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(name), 0)
        local += name + data
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))


# VmHWM, the peak RSS of this process image; getrusage's ru_maxrss would include the parent's,
# which Linux carries over fork and exec.
RSS = textwrap.dedent("""
    import re, sys
    sys.path.insert(0, {root!r})
    from spec2net.cli import main
    code = main(sys.argv[1:])
    with open("/proc/self/status") as f:
        print(code, int(re.search(r"VmHWM:\\s*(\\d+) kB", f.read()).group(1)) // 1024)
""")


linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak RSS from /proc")


def command(tmp_path, *argv) -> tuple[int, int, str]:
    """(exit code, peak RSS in MiB, stderr) of ``spec2net ARGV`` in a fresh process."""
    proc = subprocess.run([sys.executable, "-c", RSS.format(root=str(ROOT)), *argv], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    code, rss = proc.stdout.split()[-2:]
    return int(code), int(rss), proc.stderr


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    d = tmp_path_factory.mktemp("bombs")
    (d / "m.net").write_text(SPEC)
    write_npz(d / "bomb.npz", x=BOMB_SHAPE)
    write_npz(d / "unused.npz", x=np.ones((5, 4), np.float32), junk=BOMB_SHAPE)
    write_npz(d / "weights.npz", **{"dense/kernel": (4, 3), "dense/bias": np.zeros(3, np.float32),
                                    "junk": BOMB_SHAPE})
    return d


def test_the_bomb_is_a_real_one(bombs):
    assert (bombs / "bomb.npz").stat().st_size < 1 << 20
    with np.load(bombs / "unused.npz") as f:  # a valid .npz: NumPy reads it
        assert f["x"].shape == (5, 4)


@linux
def test_a_zip_bomb_is_refused_from_its_headers(bombs):
    code, rss, err = command(bombs, "run", "m.net", "--inputs", "bomb.npz", "--max-memory", "64M")
    assert code == 2 and rss < 300, (rss, err)
    assert err == ("spec2net run: error: bomb.npz: its arrays would take 762.9 MiB once decompressed ('x' "
                   "float32 (50000000, 4)), over the 64.0 MiB memory budget (--max-memory raises it); nothing "
                   "was decompressed\n")


@linux
def test_keys_the_model_does_not_use_are_never_decompressed(bombs):
    code, rss, err = command(bombs, "run", "m.net", "--inputs", "unused.npz", "--max-memory", "64M",
                             "-o", "out.npz")
    assert (code, err) == (0, "") and rss < 300, rss
    assert np.load(bombs / "out.npz")["y"].shape == (5, 3)


@linux
def test_a_weights_bomb_is_refused_too(bombs):
    code, rss, err = command(bombs, "run", "m.net", "--inputs", "unused.npz", "--weights", "weights.npz",
                             "--max-memory", "64M")
    assert code == 2 and rss < 300 and "weights.npz: its arrays would take 762.9 MiB" in err, (rss, err)


# -- the estimate against the measured peak -------------------------------------------------------
MODELS = {
    "mlp": "input x: [300]\n h = Dense(512, activation=relu)(x) -> Dropout(0.5) -> BatchNormalization()\n"
           " output y = Dense(10, activation=softmax)(h)\n"
           " compile { loss = categorical_crossentropy; optimizer = adam; metrics = [accuracy] }",
    "lstm": "input x: [?, 16]\n h = LSTM(64, return_sequences=true)(x) -> LSTM(32)\n"
            " output y = Dense(1, activation=sigmoid)(h)\n compile { loss = binary_crossentropy; optimizer = rmsprop }",
    "embedding-gru": "input t: int32[?]\n h = Embedding(20000, 64, mask_zero=true)(t) -> GRU(48)\n"
                     " output y = Dense(5, activation=softmax)(h)\n"
                     " compile { loss = sparse_categorical_crossentropy; optimizer = sgd }",
    "two-in-two-out": "input a: [40]\n input b: [?, 8]\n c = concatenate([Dense(64, activation=tanh)(a), "
                      "SimpleRNN(32)(b)]) -> LayerNormalization()\n output p = Dense(1, activation=sigmoid)(c)\n"
                      " output q = Dense(3)(c)\n compile { loss = {p: binary_crossentropy, q: mse}; "
                      "optimizer = adamw(amsgrad=true) }",
    "wide": "input x: [2]\n output y = Dense(2000000, kernel_initializer=orthogonal)(x)\n"
            " compile { loss = mse; optimizer = sgd(momentum=0.9) }",
}


def _data(net, n: int, steps: int, rng) -> dict:
    out = {}
    for t in net.ir.inputs:
        shape = (n, *[steps if d is None else d for d in t.type.shape])
        out[t.input_name] = (rng.normal(size=shape).astype(np.float32) if t.type.is_float
                             else rng.integers(1, 100, shape).astype(np.int32))
    for o in net.ir.outputs:
        units = o.tensor.type.shape[-1]
        loss = net.ir.compile.loss[o.name].name
        out[o.name] = (rng.integers(0, units, (n, 1)) if loss.startswith("sparse") else
                       np.eye(units)[rng.integers(0, units, n)] if loss.startswith("categorical") else
                       rng.random((n, units)).round()).astype(np.float32)
    return out


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", MODELS)
def test_the_estimate_bounds_the_measured_peak(name):
    """The estimate is at least the peak tracemalloc measures (NumPy reports its buffers to it),
    and within a factor of 8 of it, as docs/numpy.md says."""
    net = spec2net.loads(f"model m {{\n {MODELS[name]}\n}}")
    n, batch, steps = (4, 4, 1) if name == "wide" else (96, 32, 20)
    data = _data(net, n, steps, np.random.default_rng(0))
    inputs = {k: data[k] for k in net.input_names}
    weights = net.init_weights(max_memory=0)
    fill = budget.longest_unknown(net.ir, data)
    for task, fn, rows in (("init", lambda: net.init_weights(max_memory=0), 1),
                           ("run", lambda: net.run(inputs, None, max_memory=0), n),
                           ("train", lambda: net.train(data, weights, epochs=1, batch_size=batch, max_memory=0),
                            batch)):
        peak = _peak(fn)
        estimate = sum(budget.estimate(net.ir, task, rows, fill if task != "init" else 1))
        assert peak <= estimate <= 8 * peak, (task, peak, estimate)
