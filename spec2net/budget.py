"""The memory budget: `init`, `run` and `train` refuse, before allocating anything, a model
whose weights and activations would not fit.

The estimate is simple and errs high, by a margin measured with tracemalloc on the NumPy
backend (docs/numpy.md, "Memory budget"; tests/test_limits.py holds it to that): each task
holds so many copies of every weight, layer output and input (the tables below), plus the
scratch of drawing the largest weight, plus what a layer computes per time step
(``LayerDef.step_elements``: a recurrent layer's gates and states). A `?` dimension counts as
the longest such dimension of the given inputs (1 when there are none, as for `init`).

The data set itself is not in the estimate, only the batch a task slices from it (``input_bytes``):
data held in memory (an .npz, .csv or .parquet file) is refused by its reader, before it is
read, when it alone would exceed the budget (spec2net.datasets); memory-mapped data (a directory
of .npy files) is read a batch at a time (``runtime.data.rows``), so a data set of any size
trains within the budget.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from . import ir
from .diagnostics import SpecError, diag
from .messages import MEMORY
from .registry import LAYERS

UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
FALLBACK = 8 << 30  # where the machine's memory cannot be read
# Copies of every weight, layer output and input array each task holds at its peak, measured with
# tracemalloc (docs/numpy.md, "Memory budget"): training holds values, gradients, the optimizer's
# slots and the next step's values (6 for sgd to 11 for adamw with amsgrad); a run holds each
# output and the temporary that computes it (layer normalization: 1.7); training's backward pass
# adds caches and gradients (4 at most), and slices a batch of inputs and targets.
WEIGHT_COPIES = {"init": 1, "run": 1, "train": 12}
ACTIVATION_COPIES = {"init": 0, "run": 2, "train": 5}
INPUT_COPIES = {"init": 0, "run": 1, "train": 2}
STEP_COPIES = {"init": 0, "run": 1, "train": 3}
PER_WEIGHT = 4096  # bytes of Python objects per weight array: its generator, dict entries, views
# Bytes per element of the float64 scratch that drawing one weight takes beside its float32
# result (measured: a uniform draw or a constant 8, a truncated normal 14, orthogonal's QR 29).
DRAW_SCRATCH = {"orthogonal": 32, "normal": 20, "": 12}  # by initializer name: the first part it contains


def parse_size(text: str) -> int:
    """Bytes from ``512M``, ``16G``, ``1.5GiB``, ``100000`` (powers of 1024): ``parse_size("2G")``."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"expected a size like 512M or 16G, got {text!r}")
    size = int(float(m.group(1)) * UNITS[m.group(2).upper()])
    if size == 0 and float(m.group(1)) != 0:  # 0 means "no limit": a tiny budget must not become none
        raise ValueError(f"{text.strip()!r} rounds to 0 bytes, which would mean no limit; write 0 for no "
                         "limit, or at least 1")
    return size


def default_budget() -> int:
    """Half of the machine's physical memory: what one process may take without pushing the
    rest of the machine into swap."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return FALLBACK


def resolve(max_memory: int | None) -> int:
    """The budget in bytes that ``max_memory`` asks for: None, the default; 0, no limit (0)."""
    return default_budget() if max_memory is None else max_memory


def show_size(n: float) -> str:
    """``show_size(1536) == "1.5 KiB"``."""
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024:
            break
    return f"{n:.1f} {unit}"


@dataclass
class LayerCost:
    layer: ir.Layer
    weights: int  # bytes
    activations: int  # bytes
    scratch: int = 0  # bytes, while its largest weight is drawn (one layer at a time)

    @property
    def total(self) -> int:
        return self.weights + self.activations


def costs(model: ir.Model, task: str, batch: int, fill: int, itemsize: int = 4) -> list[LayerCost]:
    """Bytes each layer needs for ``task`` ("init", "run" or "train") at ``batch`` samples."""
    out = []
    for layer in model.layers:
        weights = sum(p.size * itemsize * WEIGHT_COPIES[task] + PER_WEIGHT for p in layer.params)
        scratch = max((p.size * _draw_scratch(p.initializer.name) for p in layer.params), default=0)
        elements = sum(_elements(t.type.shape, fill) for node in layer.nodes for t in node.outputs)
        elements *= ACTIVATION_COPIES[task]
        # A recurrent layer's per-step gates and states: computed for every step at once (one
        # GEMM) when running, kept with their gradients for backprop through time when training.
        defn = LAYERS[layer.type]
        elements += sum(defn.step_elements(layer.args, [t.type for t in node.inputs])
                        * _elements(node.inputs[0].type.shape[:1], fill)
                        for node in layer.nodes) * STEP_COPIES[task]
        out.append(LayerCost(layer, weights, elements * batch * itemsize, scratch))
    return out


def _draw_scratch(initializer: str) -> int:
    return next(n for part, n in DRAW_SCRATCH.items() if part in initializer)


def input_bytes(model: ir.Model, task: str, batch: int, fill: int, itemsize: int = 4) -> int:
    """The batch of input arrays (and, when training, of targets) that ``task`` copies or slices;
    never the whole data set, which may be memory-mapped and far larger than the budget."""
    tensors = [*model.inputs, *(o.tensor for o in model.outputs)] if task == "train" else model.inputs
    return sum(_elements(t.type.shape, fill) for t in tensors) * batch * max(itemsize, 4) * INPUT_COPIES[task]


def _elements(shape, fill: int) -> int:
    n = 1
    for d in shape:
        n *= fill if d is None else d
    return n


def estimate(model: ir.Model, task: str, batch: int = 1, fill: int = 1, itemsize: int = 4) -> tuple[int, int]:
    """``(weights, activations)``: the bytes ``task`` needs at most, weights with what drawing them
    takes (run and train draw them when none are given), activations with the inputs."""
    per_layer = costs(model, task, batch, fill, itemsize)
    weights = sum(c.weights for c in per_layer) + max((c.scratch for c in per_layer), default=0)
    return weights, sum(c.activations for c in per_layer) + input_bytes(model, task, batch, fill, itemsize)


def check(model: ir.Model, task: str, batch: int = 1, fill: int = 1, itemsize: int = 4,
          max_memory: int | None = None, sources: dict | None = None) -> None:
    """Raise SpecError (code ``memory``, at the biggest layer) when ``task`` would exceed
    ``max_memory`` bytes (None: half the machine's memory; 0: no limit)."""
    budget = resolve(max_memory)
    if budget <= 0 or not model.layers:
        return
    weights, activations = estimate(model, task, batch, fill, itemsize)
    if weights + activations <= budget:
        return
    big = max(costs(model, task, batch, fill, itemsize), key=lambda c: c.total)
    need_gib = -(-(weights + activations) // UNITS["G"])  # rounded up, to suggest a budget that suffices
    parts = f"weights {show_size(weights)}"
    if task != "init":
        parts += f", activations {show_size(activations)} at batch {batch}"
    error = diag(big.layer.span, MEMORY, task=task, model=model.name, total=show_size(weights + activations),
                 parts=parts, budget=show_size(budget), layer=big.layer.name, type=big.layer.type,
                 weights=show_size(big.weights), activations=show_size(big.activations), need=f"{need_gib}G")
    raise SpecError([error], sources or {})


def longest_unknown(model: ir.Model, arrays: dict) -> int:
    """The longest actual length of any `?` dimension among the given input arrays (1 if none)."""
    best = 1
    for t in model.inputs:
        shape = getattr(arrays.get(t.input_name), "shape", ())
        for declared, actual in zip(t.type.shape, shape[1:]):
            if declared is None:
                best = max(best, int(actual))
    return best


def batch_of(model: ir.Model, arrays: dict) -> int:
    for t in model.inputs:
        shape = getattr(arrays.get(t.input_name), "shape", ())
        if shape:
            return int(shape[0])
    return 1
