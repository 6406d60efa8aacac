"""A data set larger than memory: 4 GiB of .npy files trained for one shuffled epoch under
``--max-memory 1G``, in a fresh process, printing its peak resident memory and its time.

The data (1,048,576 samples of 1024 float32 features, and a target each) is written a block at a
time through file writes into a temporary folder: every eighth block of 1024 rows holds random
data and the rest zeros (a sparse file, written in about a second), so it never exists in memory
whole, in this process or the trainer's. Target: the trainer's peak RSS well under the 1 GiB
budget (it reads each batch with ``runtime.data.rows``; the data set is never resident).

``python bench/data_scale.py [--rows N] [--keep]`` (needs 10 GiB free where ``tempfile`` writes;
``--rows 262144`` for 1 GiB). tests/test_datasets.py runs 288 MiB under 128M on every test run.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPEC = "model big { input x: float32[1024]\n output y = Dense(1)(x)\n compile { optimizer = sgd; loss = mse } }"
CHILD = textwrap.dedent("""
    import re, sys, time
    sys.path.insert(0, {root!r})
    from spec2net.cli import main
    start = time.perf_counter()
    code = main(["train", "big.net", "--data", "big", "-o", "w.npz", "--max-memory", "1G", "--batch-size", "4096",
                 "--history", "h.json"])
    took = time.perf_counter() - start
    with open("/proc/self/status") as f:
        peak = int(re.search(r"VmHWM:\\s*(\\d+) kB", f.read()).group(1)) // 1024
    print(code, peak, took)
""")


def write_data(folder: Path, rows: int, width: int = 1024, block: int = 1024) -> int:
    """x (rows, width) float32 and y (rows, 1) as .npy files in ``folder/big``; their bytes."""
    (folder / "big").mkdir()
    values = np.random.default_rng(0).normal(size=(block, width)).astype(np.float32)
    total = 0
    for name, w, data in (("x", width, values), ("y", 1, values[:, :1] * 0.5)):
        path = folder / "big" / f"{name}.npy"
        header = np.lib.format.open_memmap(path, "w+", np.float32, (rows, w))  # header and a sparse file
        del header
        start = path.stat().st_size - rows * w * 4
        with open(path, "r+b") as f:
            for s in range(0, rows, 8 * block):
                f.seek(start + s * w * 4)
                f.write(data[:min(block, rows - s)].tobytes())
        total += path.stat().st_size
    return total


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1 << 20, help="samples (default 1,048,576: 4 GiB)")
    p.add_argument("--keep", action="store_true", help="keep the data folder and print where it is")
    args = p.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="spec2net-data-scale-"))
    try:
        if shutil.disk_usage(folder).free < 10 << 30:
            print("skipped: needs 10 GiB free on the temporary folder's disk")
            return 0
        (folder / "big.net").write_text(SPEC)
        start = time.perf_counter()
        size = write_data(folder, args.rows)
        print(f"data: {size / (1 << 30):.2f} GiB in {time.perf_counter() - start:.1f} s")
        proc = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT))], cwd=folder, text=True,
                              capture_output=True, check=False)
        if proc.returncode:
            print(proc.stderr)
            return 1
        code, peak, took = proc.stdout.split()
        print(f"train, one epoch, --max-memory 1G: exit {code}, peak RSS {peak} MiB, {float(took):.1f} s")
        return int(code != "0" or int(peak) >= 1024)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
