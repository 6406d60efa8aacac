"""The weights file (LANGUAGE.md section 11): ``.npz`` or ``.safetensors``, one float32
array per key ``LAYER/PARAM`` in Keras's layout.

Never unpickles (``allow_pickle=False``); writes whole or not at all.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .fileio import atomic_write, shown

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


def load_weights(path) -> dict:
    """The arrays of a weights file, keyed ``LAYER/PARAM``: ``load_weights("w.npz")["dense/kernel"]``."""
    fmt = weights_format(path)
    try:
        if fmt == ".safetensors":
            return dict(_safetensors_numpy().load_file(str(path)))
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except WeightsError:
        raise
    except OSError as e:
        raise WeightsError(f"{shown(path)}: cannot read: {e.strerror or e}") from None
    except Exception as e:  # noqa: BLE001  (a corrupt or foreign file: say so, never a traceback)
        raise WeightsError(f"{shown(path)}: not a readable {fmt} weights file ({type(e).__name__}: {e})") from None


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
