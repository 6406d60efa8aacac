"""What the data commands (run, predict, evaluate, train) share: the data read for a model, data
errors reported against the file they came from, and arrays written as an .npz output."""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np

from ..cli import UsageError
from ..fileio import atomic_write, shown
from ..runtime.data import DataError
from ..weights import WeightsError, load_arrays


def load_data(path, net, targets: bool = True, max_memory: int | None = None) -> dict:
    """The arrays ``net`` reads from the data source ``path`` (an .npz file, a directory of .npy
    files, a .csv or .parquet file; spec2net.datasets): its inputs, and its targets when
    ``targets``; CSV and Parquet columns take the dtypes the spec declares for its inputs. Each
    array is an ``np.ndarray`` or a read-only ``np.memmap`` (a directory): take batches with
    ``spec2net.runtime.data.rows(array, index)``, never ``np.asarray(array)`` whole. A file
    problem is a one-line PathError (exit 2); values are checked by ``runtime.data.check_data``:
    ``load_data("data", net, max_memory=1 << 30)``."""
    keys = {*net.input_names, *(net.output_names if targets else ())}
    return load_arrays(path, keys, max_memory, {t.input_name: t.type.dtype for t in net.ir.inputs})


@contextlib.contextmanager
def blaming(files: dict):
    """Errors in the user's files as usage errors (exit 2). A DataError names the file it came from:
    ``files`` maps ``DataError.source`` (None: the main data) to a path, so ``with blaming({None:
    args.data}): ...`` prints ``spec2net train: error: data.npz: target 'y': ...``; a weights or
    settings error is one line already. A diverging run (NonFiniteError) is not a usage error."""
    from ..backends.numpy.train import NonFiniteError, TrainError

    try:
        yield
    except DataError as e:
        path = files.get(e.source, files.get(None))
        raise UsageError(f"{shown(path)}: {e.detail}") from None
    except NonFiniteError:
        raise
    except (WeightsError, TrainError) as e:
        raise UsageError(str(e)) from None


def write_npz(path, arrays: dict) -> None:
    """``arrays`` as one .npz file, written whole or not at all (a usage error if it cannot be)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    try:
        atomic_write(path, buf.getvalue())
    except OSError as e:
        raise UsageError(f"{shown(path)}: cannot write: {e.strerror or e}") from None


def strict_json(values):
    """History or metrics as strict JSON can hold them: a NaN or infinity (which only training
    with --keep-going can produce) becomes None, written ``null``, never a bare ``NaN``."""
    if isinstance(values, dict):
        return {k: strict_json(v) for k, v in values.items()}
    if isinstance(values, list):
        return [strict_json(v) for v in values]
    return values if not isinstance(values, float) or math.isfinite(values) else None
