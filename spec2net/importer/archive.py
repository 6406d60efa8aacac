"""Reading a Keras model file within bounds: a ``.keras`` zip (``config.json`` plus
``model.weights.h5``) or a legacy HDF5 ``.h5`` (its ``model_config`` attribute and its
``model_weights`` group).

A model file is untrusted input: every member's declared size is checked before it is read and
the bytes actually read are counted again (a zip can lie about its sizes), the JSON is parsed
as data, and nothing is ever unpickled or executed (a Lambda's marshalled code is refused by
the layer mapping, never loaded). What comes out is plain data: the model's config as a dict,
its compile config (or None) and a ``WeightStore``.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from ..budget import show_size
from ..fileio import PathError, open_regular, shown

MAX_CONFIG = 64 << 20  # config.json of a model with tens of thousands of layers is a few MiB
MAX_MEMBERS = 10_000
DEFAULT_MAX_WEIGHTS = 4 << 30


class ModelFileError(ValueError):
    """A model file spec2net cannot import; its text is one line naming the file (and the layer)."""


CELLS = ("lstm_cell", "gru_cell", "simple_rnn_cell")  # a recurrent layer's cell level, left out of keys


@dataclass
class WeightStore:
    """The arrays of a model file by top-level layer name: ``{layer: {sub: [arrays]}}``, where
    ``sub`` is "" for the layer's own variables (its recurrent cell's included) and an inner
    layer's name for a wrapper's (``forward_lstm``), each list in Keras's variable order."""

    layers: dict

    def arrays(self, layer: str) -> dict:
        return self.layers.get(layer, {})


def read_model_file(path, max_weights: int = DEFAULT_MAX_WEIGHTS):
    """(config, compile_config or None, WeightStore) of a .keras or legacy .h5 file:
    ``config, compiled, store = read_model_file("m.keras")``. ModelFileError for anything else."""
    try:
        with open_regular(path) as f:
            head = f.read(8)
            f.seek(0)
            if head.startswith(b"PK"):
                return _read_zip(path, f, max_weights)
            if head == b"\x89HDF\r\n\x1a\n":
                size = os.fstat(f.fileno()).st_size
                if size > max_weights + MAX_CONFIG:
                    raise ModelFileError(f"{shown(path)}: {show_size(size)} is over the "
                                         f"{show_size(max_weights)} limit for a model file (--max-memory raises it)")
                return _read_legacy_h5(path, f)
    except PathError as e:
        raise ModelFileError(str(e)) from None
    except OSError as e:
        raise ModelFileError(f"{shown(path)}: cannot read: {e.strerror or e}") from None
    raise ModelFileError(f"{shown(path)}: not a Keras model file (a .keras zip or a legacy .h5 HDF5 file)")


# -- .keras -----------------------------------------------------------------------------------------
def _member(zf: zipfile.ZipFile, path, name: str, limit: int) -> bytes:
    """A member's bytes, refused before reading if it says it is bigger than ``limit``, and
    refused while reading if it turns out bigger than it said (a crafted header)."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ModelFileError(f"{shown(path)}: not a Keras 3 .keras file: it has no {name}") from None
    if info.file_size > limit:
        raise ModelFileError(f"{shown(path)}: {name} would take {show_size(info.file_size)} once decompressed, "
                             f"over the {show_size(limit)} limit; nothing was decompressed")
    chunks, size = [], 0
    with zf.open(info) as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > max(limit, info.file_size):
                raise ModelFileError(f"{shown(path)}: {name} decompresses to more than it declares; refused")
            chunks.append(chunk)
    return b"".join(chunks)


def _read_zip(path, f, max_weights):
    try:
        with zipfile.ZipFile(f) as zf:
            if len(zf.infolist()) > MAX_MEMBERS:
                raise ModelFileError(f"{shown(path)}: {len(zf.infolist())} members is too many for a .keras file")
            config = _json(path, _member(zf, path, "config.json", MAX_CONFIG), "config.json")
            weights = _member(zf, path, "model.weights.h5", max_weights) if "model.weights.h5" in zf.namelist() \
                else None
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
        raise ModelFileError(f"{shown(path)}: not a readable .keras zip ({type(e).__name__}: {e})") from None
    if not isinstance(config, dict) or "config" not in config:
        raise ModelFileError(f"{shown(path)}: config.json is not a Keras model config")
    if weights is None:
        raise ModelFileError(f"{shown(path)}: it has no model.weights.h5 (saved with weights? model.save does)")
    store = _with_h5(path, io.BytesIO(weights), "model.weights.h5", _keras_store)
    return config, config.get("compile_config"), store


def _keras_store(h5) -> WeightStore:
    """``layers/<path>/vars/<i>`` groups: each ``vars`` carries its layer's name; the layer's own
    variables, then its cell's, then each inner layer's under that layer's name."""
    out = {}
    top = h5.get("layers")
    if top is None:
        return WeightStore(out)
    for key in top:
        group = top[key]
        name = _vars_name(group)
        if name is None:
            continue
        out[name] = {}
        _collect(group, "", out[name])
    return WeightStore(out)


def _vars_name(group):
    v = group.get("vars") if hasattr(group, "get") else None
    name = v.attrs.get("name") if v is not None else None
    return name.decode() if isinstance(name, bytes) else name


def _collect(group, sub: str, into: dict) -> None:
    """The arrays of ``group`` into ``into[sub]``: own ``vars/0..n``, then child groups in the
    order Keras walks them (public attributes, sorted); a child that is a layer of its own name
    (a wrapper's ``forward_lstm``) gets its own entry, a recurrent cell joins its layer's."""
    arrays = into.setdefault(sub, [])
    v = group.get("vars")
    if v is not None:
        for i in sorted((k for k in v if k.isdigit()), key=int):
            arrays.append(np.asarray(v[i][()]))
    for key in sorted(k for k in group if k != "vars"):
        child = group[key]
        if not hasattr(child, "keys"):
            continue
        name = _vars_name(child)
        _collect(child, sub if name is None or name in CELLS else name, into)


# -- legacy .h5 -----------------------------------------------------------------------------------
def _read_legacy_h5(path, f):
    def read(h5):
        raw = h5.attrs.get("model_config")
        if raw is None:
            raise ModelFileError(f"{shown(path)}: an HDF5 file without model_config (a weights-only file? "
                                 "import reads a whole model saved with model.save)")
        config = _json(path, raw.encode() if isinstance(raw, str) else bytes(raw), "model_config")
        training = h5.attrs.get("training_config")
        compiled = _json(path, training.encode() if isinstance(training, str) else bytes(training),
                         "training_config") if training is not None else None
        return config, compiled, _legacy_store(h5)

    return _with_h5(path, f, "the file", read)


def _legacy_store(h5) -> WeightStore:
    """``model_weights/<layer>`` groups whose ``weight_names`` list the variables in order:
    ``bidirectional/forward_lstm/lstm_cell/kernel`` is inner layer ``forward_lstm``'s."""
    out = {}
    weights = h5.get("model_weights")
    if weights is None:
        return WeightStore(out)
    for layer in weights:
        group = weights[layer]
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs.get("weight_names", [])]
        subs = out.setdefault(layer, {})
        for full in names:
            parts = [p for p in full.split("/")[1:-1] if p not in CELLS]
            subs.setdefault("/".join(parts), []).append(np.asarray(group[full][()]))
    return WeightStore(out)


def _with_h5(path, source, what, read):
    try:
        import h5py
    except ImportError:
        raise ModelFileError("reading a Keras model file needs h5py: pip install 'spec2net[import]'") from None
    try:
        with h5py.File(source, "r") as h5:
            return read(h5)
    except ModelFileError:
        raise
    except Exception as e:  # noqa: BLE001  (a corrupt HDF5 file: one line, never a traceback)
        raise ModelFileError(f"{shown(path)}: {what} is not a readable HDF5 file ({type(e).__name__}: {e})") from None


def _json(path, data: bytes, what: str):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ModelFileError(f"{shown(path)}: {what} is not valid JSON ({type(e).__name__})") from None
