"""The weights file (LANGUAGE.md section 11): ``.npz`` or ``.safetensors``, one float32
array per key ``LAYER/PARAM`` in Keras's layout.

Never unpickles (``allow_pickle=False``); writes whole or not at all.
"""

from __future__ import annotations

import io
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from .budget import show_size
from .diagnostics import one_line
from .fileio import PathError, atomic_write, open_regular, shown

FORMATS = (".npz", ".safetensors")


class WeightsError(ValueError):
    """A weights file or dict that cannot be used: unreadable, wrong format, or not the model's."""


def weights_format(path) -> str:
    """".npz" or ".safetensors" from ``path``'s suffix; WeightsError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise WeightsError(f"{shown(path)}: a weights file is .npz or .safetensors, got {suffix or 'no extension'!r}")
    return suffix


def _safetensors_numpy():
    try:
        from safetensors import numpy as st
    except ImportError:
        raise WeightsError(".safetensors weights need the safetensors package: "
                           "pip install 'spec2net[safetensors]' (or use .npz)") from None
    return st


def load_weights(path, keys=None, max_bytes: int = 0) -> dict:
    """The arrays of a weights file, keyed ``LAYER/PARAM``: ``load_weights("w.npz")["dense/kernel"]``.
    ``keys``: read only these (the others are never decompressed); ``max_bytes`` (0: no limit): refuse,
    before reading any array, a file whose arrays would take more (see ``read_npz``)."""
    fmt = weights_format(path)
    try:
        if fmt == ".safetensors":
            with open_regular(path) as f:  # not compressed: the arrays take at most the file's size
                size = os.fstat(f.fileno()).st_size
            if max_bytes and size > max_bytes:
                raise WeightsError(f"{shown(path)}: {show_size(size)} of weights is over the "
                                   f"{show_size(max_bytes)} memory budget (--max-memory raises it)")
            return dict(_safetensors_numpy().load_file(str(path)))
        return read_npz(path, keys, max_bytes, WeightsError)
    except (WeightsError, PathError):
        raise
    except OSError as e:
        raise WeightsError(f"{shown(path)}: cannot read: {e.strerror or e}") from None
    except Exception as e:  # noqa: BLE001  (a corrupt or foreign file: say so, never a traceback)
        raise WeightsError(f"{shown(path)}: not a readable {fmt} weights file ({type(e).__name__}: {e})") from None


def read_npz(path, keys=None, max_bytes: int = 0, error=WeightsError) -> dict:
    """The arrays of an .npz file, read within bounds: ``read_npz("in.npz", {"x"}, 512 << 20)``.

    Each member's .npy header (shape and dtype) is read first, without decompressing its data;
    members not in ``keys`` (None: all) are never decompressed, and if the others would take more
    than ``max_bytes`` (0: no limit) nothing is, so a small file that expands to gigabytes costs
    nothing. Object arrays (pickles) are refused. Problems raise ``error`` with a one-line message
    naming the file; OSError is the caller's."""
    try:
        with open_regular(path) as file, zipfile.ZipFile(file) as zf:
            members = {}
            for info in zf.infolist():
                key = info.filename.removesuffix(".npy")
                if key != info.filename and (keys is None or key in keys):
                    members[key] = (info, *_npy_header(zf, info))
            total = sum(nbytes for _, _, nbytes in members.values())
            if max_bytes and total > max_bytes:
                big = sorted(members, key=lambda k: -members[k][2])[:3]
                shapes = ", ".join(f"{k!r} {members[k][1]}" for k in big)
                raise error(f"{shown(path)}: its arrays would take {show_size(total)} once decompressed "
                            f"({shapes}), over the {show_size(max_bytes)} memory budget (--max-memory raises "
                            "it); nothing was decompressed")
            out = {}
            for key, (info, _, _) in members.items():
                with zf.open(info) as f:
                    out[key] = np.lib.format.read_array(f, allow_pickle=False)
            return out
    except (error, PathError, OSError):
        raise
    except Exception as e:  # noqa: BLE001  (a corrupt or foreign file: say so, never a traceback)
        raise error(f"{shown(path)}: not a readable .npz file ({type(e).__name__}: {one_line(str(e))})") from None


def load_arrays(path, keys=None, max_memory: int | None = None, dtypes: dict | None = None) -> dict:
    """The arrays of a data source, as the commands read them: an .npz file, a directory of .npy
    files (memory-mapped), a .csv or .parquet file (spec2net.datasets); only ``keys`` (None: all),
    within the memory budget (``max_memory`` as ``--max-memory``: None, half the machine's memory;
    0, no limit); any problem is a one-line PathError: ``load_arrays("in.npz", {"x"})``."""
    from .datasets import open_data  # datasets reads .npz files with read_npz: imported here, no cycle

    return open_data(path, keys, max_memory, dtypes)


def _npy_header(zf, info) -> tuple[str, int]:
    """A member's ``(dtype and shape in words, bytes its array takes)``, from its header alone."""
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in read:
            raise ValueError(f"array {info.filename!r}: unsupported .npy version {version}")
        shape, _, dtype = read[version](f)
    if dtype.hasobject:
        raise ValueError(f"array {info.filename!r} holds Python objects, which would need unpickling")
    return f"{dtype} {_shape(shape)}", math.prod(shape) * dtype.itemsize


def is_real(value) -> bool:
    """Whether ``value`` holds real numbers (int, float or bool); strings, objects and complex
    numbers would be silently mangled by a float32 cast."""
    dtype = np.asarray(value).dtype
    return dtype == np.bool_ or (np.issubdtype(dtype, np.number) and not np.issubdtype(dtype, np.complexfloating))


def save_weights(path, weights: dict) -> None:
    """Write ``weights`` as float32 arrays, atomically: ``save_weights("w.npz", net.init_weights())``."""
    data = weights_bytes(path, weights)
    try:
        atomic_write(path, data)
    except OSError as e:
        raise WeightsError(f"{shown(path)}: cannot write: {e.strerror or e}") from None


def weights_bytes(path, weights: dict) -> bytes:
    """The bytes ``save_weights(path, weights)`` would write (the format from path's suffix)."""
    fmt = weights_format(path)
    arrays = {}
    for key, value in weights.items():
        a = np.asarray(value)
        if not is_real(a):
            raise WeightsError(f"{key}: a weight must be a real number array, got dtype {a.dtype}")
        arrays[key] = np.ascontiguousarray(a, dtype=np.float32)
    if fmt == ".safetensors":
        data = _safetensors_numpy().save(arrays)
    else:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        data = buf.getvalue()
    return data


def check_weights(model, weights: dict) -> None:
    """Raise WeightsError naming every missing, unexpected and mis-shaped key (with both
    shapes) of ``weights`` for ``model`` (an ir.Model): ``check_weights(net.ir, w)``."""
    expected = {key: tuple(p.shape) for key, p in model.weight_keys()}
    problems = [f"missing {key} (shape {_shape(shape)})" for key, shape in expected.items() if key not in weights]
    problems += [f"unexpected {key} (shape {_shape(np.shape(weights[key]))}; the model has no such weight)"
                 for key in weights if key not in expected]
    problems += [f"{key}: the model expects shape {_shape(shape)}, the weights have {_shape(np.shape(weights[key]))}"
                 for key, shape in expected.items() if key in weights and tuple(np.shape(weights[key])) != shape]
    problems += [f"{key}: a weight is an array of real numbers, the file has dtype {np.asarray(weights[key]).dtype}"
                 for key in expected if key in weights and not is_real(weights[key])]
    if problems:
        raise WeightsError(f"the weights do not fit model {model.name!r}:\n  " + "\n  ".join(problems))


def _shape(shape) -> str:
    shape = tuple(shape)
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
