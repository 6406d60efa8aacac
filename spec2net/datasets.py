"""Data sources: the arrays that ``run``, ``predict``, ``evaluate`` and ``train`` read, by name.

    arrays = open_data("data.npz", {"x", "y"})       # decompressed whole, within the memory budget
    arrays = open_data("data", {"x", "y"})           # data/x.npy, data/y.npy, memory-mapped
    arrays = open_data("data.csv", {"x", "y"}, dtypes={"x": "float32"})

| source | read | in memory |
|---|---|---|
| ``.npz`` | each member's header first; only the arrays asked for are decompressed | the arrays, refused over the budget before decompressing |
| a directory | one ``NAME.npy`` per array; each header checked, then mapped read-only | nothing: the trainers read each batch (``runtime.data.rows``) |
| ``.csv`` | a header row naming the columns (``spec2net.tabular``) | the arrays, refused as soon as they outgrow the budget |
| ``.parquet`` | pyarrow (``pip install 'spec2net[data]'``), only the columns asked for | the arrays, refused from the file's metadata before reading |

Every problem is a ``PathError``: one line naming the file and the array (exit 2 in the CLI).
Values are checked later, against the model (``runtime.data.check_data``), a piece at a time.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from . import budget
from .budget import show_size
from .fileio import PathError, open_regular, shown
from .weights import read_npz

NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def open_data(path, keys=None, max_memory: int | None = None, dtypes: dict | None = None) -> dict:
    """The arrays of the data source ``path`` keyed by name: only ``keys`` (None: all), within
    the memory budget (``max_memory`` as ``--max-memory``: None, half the machine's memory; 0,
    no limit). ``dtypes`` (name -> NumPy dtype) types the columns of a CSV or Parquet file, as
    the spec declares its inputs; .npy and .npz arrays keep their own. Memory-mapped arrays are
    read-only ``np.memmap``s: take batches with ``runtime.data.rows``."""
    reader = _reader(path)
    try:
        return reader(path, keys, budget.resolve(max_memory), dtypes or {})
    except OSError as e:
        raise PathError(f"{shown(e.filename or path)}: cannot read: {e.strerror or e}") from None


def _reader(path):
    if os.path.isdir(path):
        return read_npy_dir
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".parquet", ".pq"):
        from . import tabular

        return tabular.read_csv if suffix == ".csv" else tabular.read_parquet
    return _read_npz  # .npz, and any other name: read_npz says when it is not one


def _read_npz(path, keys, max_bytes: int, dtypes: dict) -> dict:
    return read_npz(path, keys, max_bytes, PathError)


def read_npy_dir(path, keys, max_bytes: int, dtypes: dict) -> dict:
    """The ``NAME.npy`` files of directory ``path`` as read-only memory maps, keyed by NAME (only
    ``keys``; the others are not opened). Nothing is read but headers, so ``max_bytes`` bounds
    nothing here: the memory budget counts the batches the trainers read."""
    files = sorted(e.name for e in os.scandir(path) if e.name.endswith(".npy") and e.name != ".npy")
    if not files:
        raise PathError(f"{shown(path)}: a data directory holds one NAME.npy file per input and target; "
                        "it has no .npy file")
    named = {f.removesuffix(".npy"): f for f in files}
    out = {name: open_npy(os.path.join(path, f), name) for name, f in named.items() if keys is None or name in keys}
    first = None
    for name, a in out.items():
        where = shown(os.path.join(path, name + ".npy"))
        if a.ndim == 0:
            raise PathError(f"{where}: array {name!r} is a single value (shape ()): a data array holds one "
                            "row per sample")
        if first is None:
            first = (where, a.shape[0])
        elif a.shape[0] != first[1]:
            raise PathError(f"{where}: array {name!r} holds {a.shape[0]} rows, {first[0]} {first[1]}: every "
                            "array needs one row per sample")
    return out


def open_npy(file, name: str) -> np.ndarray:
    """The .npy ``file`` mapped read-only, after its header is checked: a NumPy .npy (not a
    pickle), no Python objects, rows laid out whole (C order), and as many bytes as the header
    promises. ``name`` is the array's name in messages."""
    what = f"{shown(file)}: array {name!r}"
    with open_regular(file) as f:
        try:
            version = np.lib.format.read_magic(f)
        except ValueError:
            raise PathError(f"{what}: not a .npy file (it does not start with NumPy's magic bytes; a pickle "
                            "or np.savez output?)") from None
        if version not in NPY_HEADERS:
            raise PathError(f"{what}: .npy format version {version[0]}.{version[1]} is not read (1.0 and 2.0 are)")
        try:
            shape, fortran, dtype = NPY_HEADERS[version](f)
        except ValueError as e:
            raise PathError(f"{what}: a malformed .npy header ({e})") from None
        offset, size = f.tell(), os.fstat(f.fileno()).st_size
    if dtype.hasobject:
        raise PathError(f"{what} holds Python objects (dtype {dtype}), which would need unpickling; save an "
                        "array of numbers")
    if fortran and len(shape) > 1:
        raise PathError(f"{what} is stored in Fortran order: a sample's values are spread over the whole file, "
                        "so every batch would read all of it; save np.ascontiguousarray(...) instead")
    need = math.prod(shape) * dtype.itemsize
    if size - offset < need:
        raise PathError(f"{what}: the file is truncated: its header promises {dtype} {shape} "
                        f"({show_size(need)}), the file holds {show_size(size - offset)} after it")
    if need == 0:  # an empty file cannot be mapped; nothing to read either
        return np.zeros(shape, dtype)
    return np.memmap(file, dtype=dtype, mode="r", shape=shape, offset=offset)
