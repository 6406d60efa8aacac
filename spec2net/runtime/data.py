"""Data checked as Keras checks it, before any work: inputs and targets against a model.

NumPy only, and importing nothing else from spec2net: the generated torch module inlines this
file (``build --standalone``), so it must stand alone. The model is described as plain data:

    spec = DataSpec(
        inputs=(InputSpec("text", "int32", (100,), input_dim=10000),),   # None in a shape: `?`
        outputs=(OutputSpec("y", (1,), "binary_crossentropy"),),         # per-sample shape, loss
    )
    inputs, n = check_inputs(spec, arrays)          # the model's inputs, n = the batch size
    targets = check_targets(spec, arrays, n)        # aligned to the outputs' ranks, as Keras does
    inputs, targets, n = check_data(spec, arrays)   # both: what fit() and evaluate() take

Every refusal is a ``DataError`` (a ``ValueError``) whose message is one line naming the array,
what was expected and what was found: ``target 'topic': categorical_crossentropy needs one-hot
rows of width 46, got shape (1000, 1) (class ids? use sparse_categorical_crossentropy)``.

Inputs: every input present; real numbers (integers, or integral floats, for an integer input);
the declared per-sample shape after the batch axis; finite values; token ids of an input that
feeds an Embedding within ``[0, input_dim)``; one batch size across every array; not empty.

Targets: numbers, not strings; the rank aligned to the output's as Keras's
``squeeze_or_expand_to_same_rank`` (keras/src/losses/loss.py) does it for every loss and
metric -- a trailing axis of 1 added or dropped when the ranks differ by one -- so (n,) targets
for an (n, 1) output train as (n, 1); then, per loss: class ids (integral, within
``[0, width)``) of the output's shape without its last axis, or with a last axis of 1, for
``sparse_categorical_crossentropy``; the output's shape for every other loss (for
``categorical_crossentropy`` and ``categorical_hinge``: one-hot rows of the output's width,
for ``kl_divergence`` rows of probabilities); finite values. Values are not checked further,
as Keras does not: hinge losses read -1/1 labels, and 0/1 ones only when a whole batch is 0/1.

Data larger than memory: an array may be memory-mapped (``np.memmap``, as NumPy maps a .npy file). The
value checks read it in pieces of about ``CHUNK`` bytes, and trainers take each batch with
``rows(array, index)``, which reads a mapped file's rows with file reads: only the batch is ever
in memory, whatever the size of the file.
"""

from __future__ import annotations

import math
import mmap
import os
from dataclasses import dataclass

import numpy as np

CHUNK = 16 << 20  # bytes of rows a value check reads at a time
GAP, SPAN = 32 << 10, 1 << 20  # rows of a mapped file closer than GAP bytes are read together, at most SPAN at once


class DataError(ValueError):
    """Data that does not fit the model. ``source`` says which data set ("data",
    "validation_data", "inputs") when the caller knows; ``detail`` is the message without it."""

    def __init__(self, detail: str, source: str | None = None):
        super().__init__(detail if source is None else f"{source}: {detail}")
        self.detail, self.source = detail, source


@dataclass(frozen=True)
class InputSpec:
    name: str
    dtype: str  # "float32", "int32", ...
    shape: tuple  # per-sample dims, None for `?`
    input_dim: int | None = None  # token ids must lie in [0, input_dim): the input feeds an Embedding


@dataclass(frozen=True)
class OutputSpec:
    name: str
    shape: tuple  # per-sample dims, None for `?`
    loss: str | None = None  # the loss's canonical name; None: shape checks only


@dataclass(frozen=True)
class DataSpec:
    inputs: tuple  # (InputSpec, ...) in the model's order
    outputs: tuple  # (OutputSpec, ...)


SPARSE = ("sparse_categorical_crossentropy",)
# losses that read a row per sample over the output's last axis (the registry's "one_hot" targets;
# this file imports no registry), and what the row holds
ROWS = {"categorical_crossentropy": "one-hot rows", "categorical_hinge": "one-hot rows",
        "kl_divergence": "rows of probabilities"}


def check_data(spec: DataSpec, arrays: dict) -> tuple[dict, dict, int]:
    """Inputs and aligned targets from one dict keyed by input and output names, and the
    batch size: ``x, y, n = check_data(spec, {"x": x, "y": labels})``."""
    missing = [s.name for s in (*spec.inputs, *spec.outputs) if s.name not in arrays]
    if missing:
        raise DataError(f"no array for {_names(missing)} (the model takes inputs {_names(spec.inputs)} and "
                        f"targets {_names(spec.outputs)})")
    inputs, n = check_inputs(spec, arrays)
    return inputs, check_targets(spec, arrays, n), n


def check_inputs(spec: DataSpec, arrays: dict, exact: bool = False) -> tuple[dict, int]:
    """The model's inputs from ``arrays`` (other keys ignored, or refused when ``exact``), checked,
    and their common batch size: ``x, n = check_inputs(spec, {"text": ids})``."""
    missing = [s.name for s in spec.inputs if s.name not in arrays]
    extra = sorted(set(arrays) - {s.name for s in spec.inputs}) if exact else []
    if missing or extra:
        found = f"no array for {_names(missing)}" if missing else f"unexpected array {_names(extra)}"
        raise DataError(f"{found} (the model's inputs are {_names(spec.inputs)})")
    out, n, first = {}, None, None
    for s in spec.inputs:
        what = f"input {s.name!r}"
        x = _numbers(what, arrays[s.name], s.dtype)
        _shape(what, x, s.shape)
        if n is None:
            n, first = x.shape[0], what
        elif x.shape[0] != n:
            raise DataError(f"{what} holds {x.shape[0]} samples, {first} {n}: every array needs the same batch size")
        if not s.dtype.startswith(("float", "bfloat")):
            _integral(what, x, s.dtype)
        _finite(what, x)
        if s.input_dim is not None:
            _in_range(what, x, s.input_dim, f"token ids (Embedding input_dim={s.input_dim})")
        out[s.name] = x
    if not n:
        raise DataError(f"{first or 'the data'} holds 0 samples: nothing to compute on")
    return out, n


def check_targets(spec: DataSpec, arrays: dict, n: int) -> dict:
    """Every output's target from ``arrays``, checked against its loss and aligned to the
    output's rank as Keras aligns it: ``y = check_targets(spec, {"y": labels}, n=len(labels))``."""
    missing = [s.name for s in spec.outputs if s.name not in arrays]
    if missing:
        raise DataError(f"no target for {_names(missing)} (the model's outputs are {_names(spec.outputs)})")
    out = {}
    for s in spec.outputs:
        what = f"target {s.name!r}"
        y = _numbers(what, arrays[s.name], "")
        if y.ndim == 0 or y.shape[0] != n:
            got = "a scalar" if y.ndim == 0 else f"{y.shape[0]} samples"
            raise DataError(f"{what} holds {got}, the inputs {n}: every array needs the same batch size")
        y = align(y, (n, *s.shape))
        if s.loss in SPARSE:
            _class_ids(what, y, s)
        else:
            _same_shape(what, y, s)
        _finite(what, y)
        if s.loss in SPARSE:
            _integral(what, y, "class ids")
            if s.shape and s.shape[-1] is not None:
                _in_range(what, y, s.shape[-1], f"class ids (output width {s.shape[-1]})")
        out[s.name] = y
    return out


def align(y: np.ndarray, pred_shape: tuple) -> np.ndarray:
    """Keras's ``squeeze_or_expand_to_same_rank(y_true, y_pred)``, seen from the target: when the
    ranks differ by one and the longer ends in 1, that axis is dropped or added. Keras changes
    y_pred instead in two cases (an (n, 1) target for an (n,) output, and an (n, ..., 1) output
    for an (n, ...) target of rank 2 or more); every loss and metric averages over the last axis,
    where an axis of 1 changes nothing, so changing the target gives the same numbers."""
    if y.ndim == len(pred_shape) + 1 and y.shape[-1] == 1:
        return y[..., 0]
    if len(pred_shape) == y.ndim + 1 and pred_shape[-1] == 1:
        return y[..., None]
    return y


def _class_ids(what, y, s: OutputSpec) -> None:
    ids = (s.shape[:-1], (*s.shape[:-1], 1))
    if not any(_fits(y.shape[1:], want) for want in ids):
        hint = " (one-hot rows? use categorical_crossentropy)" if _fits(y.shape[1:], s.shape) else ""
        raise DataError(f"{what}: {s.loss} needs class ids of shape {_fmt(ids[0])} or {_fmt(ids[1])}, "
                        f"got shape {y.shape}{hint}")


def _same_shape(what, y, s: OutputSpec) -> None:
    if _fits(y.shape[1:], s.shape):
        return
    if s.loss in ROWS and s.shape and s.shape[-1] != 1:
        fix = "use sparse_categorical_crossentropy" if s.loss == "categorical_crossentropy" else "one-hot encode them"
        hint = (f" (class ids? {fix})"
                if _fits(y.shape[1:], s.shape[:-1]) or _fits(y.shape[1:], (*s.shape[:-1], 1)) else "")
        raise DataError(f"{what}: {s.loss} needs {ROWS[s.loss]} of width {s.shape[-1]}, "
                        f"got shape {y.shape}{hint}")
    loss = f"{s.loss} needs" if s.loss else "expected"
    raise DataError(f"{what}: {loss} the output's shape {_fmt(s.shape)}, got shape {y.shape}")


def _numbers(what, x, dtype) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        kind = {"U": "strings", "S": "bytes", "O": "Python objects", "c": "complex numbers"}.get(x.dtype.kind, "")
        raise DataError(f"{what}: expected {dtype + ' ' if dtype else ''}real numbers, got {kind or 'values'} (dtype {x.dtype})")
    return x


def _shape(what, x, shape) -> None:
    if x.ndim != len(shape) + 1 or not _fits(x.shape[1:], shape):
        raise DataError(f"{what}: expected shape {_fmt(shape)} (batch first), got {x.shape}")


def _fits(got: tuple, want: tuple) -> bool:
    return len(got) == len(want) and all(w is None or w == d for w, d in zip(want, got))


def _integral(what, x, expected) -> None:
    if x.dtype.kind == "f":
        _, at, value = _scan(x, lambda c: np.isfinite(c) & (c != np.round(c)), count=False)
        if at is not None:
            raise DataError(f"{what}: expected {expected} (integers), got {value:g} at index {at}")


def _finite(what, x) -> None:
    if x.dtype.kind == "f":
        n, at, value = _scan(x, lambda c: ~np.isfinite(c))
        if n:
            raise DataError(f"{what}: expected finite values, got {n} non-finite, the first "
                            f"{float(value)} at index {at}")


def _in_range(what, x, bound: int, name: str) -> None:
    n, at, value = _scan(x, lambda c: (c < 0) | (c >= bound))
    if n:
        raise DataError(f"{what}: {name} must lie in [0, {bound}), got {value:g} at index {at} "
                        f"({n} out of range)")


def _scan(x, bad_of, count: bool = True) -> tuple[int, tuple | None, object]:
    """``(how many, index of the first, its value)`` of the elements where ``bad_of`` is True,
    read a piece at a time (a memory-mapped array is never in memory whole); without ``count``,
    it stops at the first piece holding one."""
    n, first, value = 0, None, None
    for start, piece in chunks(x):
        bad = bad_of(piece)
        found = int(np.count_nonzero(bad))
        if found and first is None:
            at = _first(bad)
            first, value = (at[0] + start, *at[1:]), piece[at].item()
            if not count:
                break
        n += found
    return n, first, value


def chunks(x):
    """``(first row, rows)`` pieces of ``x`` along its first axis, about ``CHUNK`` bytes each:
    ``for start, piece in chunks(x): ...``. Pieces of a mapped file are read (``rows``)."""
    step = max(1, CHUNK // max(1, x.itemsize * math.prod(x.shape[1:])))
    for start in range(0, len(x), step):
        yield start, rows(x, slice(start, start + step))


def rows(a, index) -> np.ndarray:
    """``a[index]`` in memory, for a slice, an integer, an integer array or a boolean mask over the first
    axis, as NumPy indexes: ``rows(x, order[:32])``.

    Rows of a file mapped by ``np.memmap`` (a .npy file, mapped) are read from the file, not through the
    mapping: a page touched through a mapping stays in the process's resident memory until it is
    unmapped, and the kernel maps a whole cached folio (up to megabytes) per fault, so shuffled
    batches taken through the mapping would leave most of the file resident. The batch is the
    only memory this takes (and a piece of at most ``SPAN`` bytes)."""
    where = _mapped(a)
    if where is None:
        return np.asarray(a)[index]
    path, offset = where
    n, shape = len(a), None
    if isinstance(index, slice):
        idx = np.arange(*index.indices(n))
    else:
        index = np.asarray(index)
        shape = index.shape  # NumPy's shape for an index of any rank (a scalar: one row)
        if index.dtype == bool and index.shape != (n,):
            raise IndexError(f"a boolean index over {n} rows needs shape ({n},), got {index.shape}")
        idx = np.flatnonzero(index) if index.dtype == bool else index.astype(np.intp).reshape(-1)
        idx = np.where(idx < 0, idx + n, idx)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise IndexError(f"row index out of range for {n} rows")
    out = _read_rows(a, idx, path, offset)
    return out if shape is None or index.dtype == bool else out.reshape((*shape, *a.shape[1:]))


def _read_rows(a, idx: np.ndarray, path, offset: int) -> np.ndarray:
    out = np.empty((len(idx), *a.shape[1:]), a.dtype)
    if not out.size:
        return out
    order = None if np.all(idx[1:] >= idx[:-1]) else np.argsort(idx, kind="stable")
    at = idx if order is None else idx[order]
    with open(path, "rb", buffering=0) as f:
        _gather(f, out.reshape(len(at), -1).view(np.uint8), (offset + at * a.strides[0]).tolist(), a.strides[0], path)
    if order is None:
        return out
    result = np.empty_like(out)
    result[order] = out
    return result


def _gather(f, out: np.ndarray, starts: list, stride: int, path) -> None:
    """Rows starting at the sorted byte offsets ``starts`` into ``out`` (one row of bytes each):
    one read per row, per run of adjacent rows, or per span of rows near each other (a small
    row costs a system call otherwise: a batch of class ids would take one read per sample)."""
    size, count, i = out.shape[1], len(starts), 0
    view = memoryview(out.reshape(-1))
    while i < count:
        j, first, adjacent = i + 1, starts[i], True
        while j < count and starts[j] - starts[j - 1] <= GAP and starts[j] + size - first <= SPAN:
            adjacent &= starts[j] - starts[j - 1] == size  # not a repeated row, nor a gap
            j += 1
        end = starts[j - 1] + size
        if adjacent:  # straight into the batch
            _read(f, view[i * size:j * size], first, path)
        else:
            piece = np.empty(-(-(end - first) // stride) * stride, np.uint8)
            _read(f, memoryview(piece)[:end - first], first, path)
            picks = (np.asarray(starts[i:j]) - first) // stride
            out[i:j] = piece.reshape(-1, stride)[picks, :size]
        i = j


def _mapped(a) -> tuple[str, int] | None:
    """``(file, offset of a[0] in it)`` when ``a`` views a file mapped by np.memmap with its rows
    laid out whole (each row contiguous, forward strides), else None."""
    root = a
    while isinstance(root, np.ndarray) and not isinstance(root.base, mmap.mmap):
        root = root.base
    if not isinstance(root, np.memmap) or not getattr(root, "filename", None):
        return None
    if a.ndim == 0 or a.strides[0] < a[:1].nbytes or not a[:1].flags.c_contiguous:
        return None
    delta = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return root.filename, root.offset + delta


def _read(f, view: memoryview, offset: int, path) -> None:
    while len(view):
        if hasattr(os, "preadv"):  # one system call, no shared file position
            got = os.preadv(f.fileno(), [view], offset)
        else:
            f.seek(offset)
            got = f.readinto(view)
        if not got:
            raise DataError(f"{path}: the file ended before the rows its header promises (changed while read?)")
        view, offset = view[got:], offset + got


def _first(bad: np.ndarray) -> tuple:
    """The index of the first True, without listing them all (argwhere on a huge bad array would not fit)."""
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), bad.shape))


def _fmt(shape) -> str:
    dims = ", ".join("None" if d is None else str(d) for d in (None, *shape))
    return f"({dims}{',' if not shape else ''})"


def _names(items) -> str:
    return ", ".join(repr(getattr(i, "name", i)) for i in items)
