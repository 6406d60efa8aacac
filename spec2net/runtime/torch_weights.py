"""Keras's weight layout <-> a torch module's tensors: the only place where torch's layouts
(transposed kernels, GRU gate order) meet Keras's, and the weights files in Keras's layout.

A generated module's ``WEIGHTS`` table maps each Keras weight ``"LAYER/PARAM"`` to
``(torch tensor paths, conversion name, Keras shape)``; ``CONVERSIONS`` holds each conversion
as a pair (Keras array -> torch arrays, torch arrays -> Keras array).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

WeightTable = dict  # "LAYER/PARAM" -> (tuple of tensor paths, conversion name, Keras shape)


def _swap_zr(w: np.ndarray) -> np.ndarray:
    # Keras orders a GRU's gates z r h, torch r z n: swapping the first two thirds goes both ways
    u = w.shape[-1] // 3
    return np.concatenate([w[..., u: 2 * u], w[..., :u], w[..., 2 * u:]], axis=-1)


Conversion = tuple[Callable[[np.ndarray], list], Callable[[list], np.ndarray]]
CONVERSIONS: dict[str, Conversion] = {
    "copy": (lambda a: [a], lambda ts: ts[0]),
    # nn.Linear and the recurrent modules keep (out, in); Keras's kernels are (in, out)
    "transpose": (lambda a: [a.T], lambda ts: ts[0].T),
    "gru_kernel": (lambda a: [_swap_zr(a).T], lambda ts: _swap_zr(ts[0].T)),
    "gru_gates": (lambda a: [_swap_zr(a)], lambda ts: _swap_zr(ts[0])),
    # reset_after's (2, 3u) bias: row 0 is torch's input bias, row 1 its recurrent bias
    "gru_bias": (lambda a: [_swap_zr(a[0]), _swap_zr(a[1])], lambda ts: np.stack([_swap_zr(t) for t in ts])),
    # nn.Conv1d/2d keep (out, in / groups, *window); Keras's kernels are (*window, in / groups, out)
    "conv1d_kernel": (lambda a: [a.transpose(2, 1, 0)], lambda ts: ts[0].transpose(2, 1, 0)),
    "conv2d_kernel": (lambda a: [a.transpose(3, 2, 0, 1)], lambda ts: ts[0].transpose(2, 3, 1, 0)),
}


def _tensors(model: nn.Module) -> dict:
    return {**dict(model.named_parameters()), **dict(model.named_buffers())}


def read_weights(model: nn.Module, table: WeightTable) -> dict:
    """The module's weights in Keras's layout: {"LAYER/PARAM": float32 array}."""
    tensors = _tensors(model)
    out = {}
    for key, (names, conversion, _) in table.items():
        arrays = [tensors[name].detach().cpu().numpy() for name in names]
        out[key] = np.ascontiguousarray(CONVERSIONS[conversion][1](arrays), dtype=np.float32)
    return out


def write_weights(model: nn.Module, table: WeightTable, weights: dict) -> None:
    """Copy Keras-layout weights {"LAYER/PARAM": array} into the module; every key must be there."""
    missing = [key for key in table if key not in weights]
    if missing:
        raise KeyError(f"weights missing for {', '.join(missing)}")
    tensors = _tensors(model)
    with torch.no_grad():
        for key, (names, conversion, shape) in table.items():
            array = np.asarray(weights[key], dtype=np.float32)
            if array.shape != tuple(shape):
                raise ValueError(f"{key}: expected shape {tuple(shape)}, got {array.shape}")
            for name, part in zip(names, CONVERSIONS[conversion][0](array)):
                tensors[name].copy_(torch.from_numpy(np.ascontiguousarray(part)))


def load_weights_file(model: nn.Module, table: WeightTable, path) -> None:
    """Read a weights file (.npz or .safetensors, Keras's layout and keys) into the module."""
    path = str(path)
    if path.endswith(".safetensors"):
        from safetensors.numpy import load_file

        write_weights(model, table, load_file(path))
    else:
        with np.load(path, allow_pickle=False) as data:
            write_weights(model, table, {key: data[key] for key in data.files})


def save_weights_file(model: nn.Module, table: WeightTable, path) -> None:
    """Write the module's weights as a .npz or .safetensors file in Keras's layout."""
    path = str(path)
    if path.endswith(".safetensors"):
        from safetensors.numpy import save_file

        save_file(read_weights(model, table), path)
    else:
        with open(path, "wb") as f:
            np.savez(f, **read_weights(model, table))


def weights_api(table: WeightTable) -> tuple:
    """A generated module's ``get_weights(model)``, ``set_weights(model, weights)``,
    ``load_weights(model, path)`` and ``save_weights(model, path)`` over its ``WEIGHTS`` table."""

    def get_weights(model: nn.Module) -> dict:
        """The module's weights in Keras's layout: {"LAYER/PARAM": float32 array}."""
        return read_weights(model, table)

    def set_weights(model: nn.Module, weights: dict) -> None:
        """Copy Keras-layout weights {"LAYER/PARAM": array} into the module; every key must be there."""
        write_weights(model, table, weights)

    def load_weights(model: nn.Module, path) -> None:
        """Read a weights file (.npz or .safetensors, Keras's layout and keys) into the module."""
        load_weights_file(model, table, path)

    def save_weights(model: nn.Module, path) -> None:
        """Write the module's weights as a .npz or .safetensors file in Keras's layout."""
        save_weights_file(model, table, path)

    return get_weights, set_weights, load_weights, save_weights


def keras_variables(model: nn.Module, table: WeightTable) -> list[list[torch.Tensor]]:
    """The trainable Keras weights as lists of the torch tensors holding them: what the
    optimizers take, so that clipnorm clips each Keras variable by its own norm."""
    tensors = dict(model.named_parameters())
    return [[tensors[name] for name in names] for names, _, _ in table.values()
            if all(tensors.get(name) is not None and tensors[name].requires_grad for name in names)]
