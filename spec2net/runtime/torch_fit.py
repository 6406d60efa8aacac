"""Keras's ``fit``, ``evaluate`` and training loss for a generated torch module.

What is specific to a spec comes in a ``Training``: its input and output names and dtypes, one
``(loss, arguments, loss weight)`` per output, the metric names, the weight penalties and the
optimizer. Data goes through ``data.check_data`` first (Keras's checks, ranks aligned as Keras
aligns them) where the Training carries a ``DataSpec``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .callbacks import Run
from .data import DataError, DataSpec, check_data, rows
from .torch_losses import masked_loss
from .torch_metrics import Mean, metric_key, tracker


@dataclass(frozen=True)
class Training:
    """A generated module's compile block, as the runtime needs it."""

    input_names: tuple
    output_names: tuple
    input_dtypes: tuple  # torch dtypes, in input order
    target_dtypes: tuple  # torch dtypes, in output order (int64 for class ids)
    losses: tuple  # per output: (loss function, {argument: value}, loss weight)
    # for every output: Keras metric names ("accuracy", ...), or (history key, name, {argument: value})
    metrics: tuple
    optimizer: Callable[[nn.Module], torch.optim.Optimizer]
    data: DataSpec | None = None  # Keras's checks on the data, before any work
    penalties: Callable[[nn.Module], torch.Tensor | float] | None = None  # weight and activity penalties
    # per output, its own metrics (as ``metrics`` holds them), where the spec gives a dict of them
    output_metrics: tuple | None = None
    callbacks: tuple = ()  # the spec's fit callbacks (spec2net.runtime.callbacks), for fit_model

    def metrics_of(self, index: int) -> tuple:
        return self.metrics if self.output_metrics is None else self.output_metrics[index]


def output_losses(task: Training, outputs, targets: list) -> list[torch.Tensor]:
    """Each output's loss, before its loss weight (Keras's ``LAYER_loss`` logs)."""
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    return [masked_loss(fn, y, out, **args) for (fn, args, _), y, out in zip(task.losses, targets, outputs)]


def training_loss(model: nn.Module, task: Training, outputs, targets) -> torch.Tensor:
    """Keras's training loss: the sum of loss weight * loss per output, plus every penalty.
    ``targets``: a dict by output name or a list in output order."""
    ys = as_tensors(targets, task.output_names, task.target_dtypes, _device(model))
    return _total(model, task, output_losses(task, outputs, ys))


def _total(model: nn.Module, task: Training, parts: list) -> torch.Tensor:
    total = sum(w * part for (_, _, w), part in zip(task.losses, parts))
    return total if task.penalties is None else total + task.penalties(model)


def as_tensors(values, names: tuple, dtypes: tuple, device=None) -> list[torch.Tensor]:
    """A dict by name, a list in order or a single array -> tensors in order (on ``device``)."""
    return [torch.as_tensor(v, dtype=dtype, device=device)
            for v, dtype in zip(_in_order(values, names, "array"), dtypes)]


def _device(model: nn.Module) -> torch.device:
    """Where the model's parameters are: the data goes there, as Keras places it."""
    return next(model.parameters(), torch.empty(0)).device


def _numpy(value) -> np.ndarray:
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def _in_order(values, names: tuple, what: str) -> list:
    if isinstance(values, dict):
        missing = [n for n in names if n not in values]
        if missing:
            raise DataError(f"no {what} for {', '.join(map(repr, missing))}; "
                            f"expected {', '.join(map(repr, names))}")
        return [values[n] for n in names]
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    if len(values) != len(names):
        raise DataError(f"{len(values)} {what}s for {len(names)} names ({', '.join(map(repr, names))})")
    return values


def _checked(task: Training, x, y, source: str) -> tuple[list, list, int]:
    """Inputs and targets in order, checked as Keras checks them, and the sample count. The arrays
    stay as they came (NumPy arrays, memory maps, tensors): batches are taken from them one at a
    time (``_batch``), so a data set larger than memory trains from its memory map."""
    arrays = {**dict(zip(task.input_names, _in_order(x, task.input_names, "input"))),
              **dict(zip(task.output_names, _in_order(y, task.output_names, "target")))}
    if task.data is not None:
        try:
            inputs, targets, _ = check_data(task.data, {k: _numpy(v) for k, v in arrays.items()})
        except DataError as e:
            raise DataError(e.detail, source) from None
        arrays = {**inputs, **targets}
    xs, ys = [arrays[n] for n in task.input_names], [arrays[n] for n in task.output_names]
    return xs, ys, len(xs[0])


def _rows(array, index):
    """``array[index]`` for a NumPy array or memory map (a NumPy index) or a tensor (a torch one)."""
    if isinstance(array, torch.Tensor):
        return array[torch.as_tensor(index, device=array.device) if not isinstance(index, slice) else index]
    # a memory-mapped file is read row by row (data.rows): indexing the mapping would leave
    # every page it touched resident, and the memory budget counts one batch
    return rows(array, index.numpy() if isinstance(index, torch.Tensor) else index)


def _batch(arrays: list, index, dtypes: tuple, device) -> list[torch.Tensor]:
    """One batch of every array as tensors of the model's dtypes, on its device."""
    return [torch.as_tensor(_rows(a, index), dtype=dtype, device=device) for a, dtype in zip(arrays, dtypes)]


class _Logs:
    """One epoch's running means, named as Keras names them: loss, OUTPUT_loss (several
    outputs), metrics (OUTPUT_METRIC with several outputs)."""

    def __init__(self, task: Training):
        self.task, self.loss = task, Mean()
        self.parts = {name: Mean() for name in task.output_names}
        self.metrics: dict = {}  # history key -> the metric's tracker (torch_metrics.tracker)

    def update(self, loss, parts, outputs, targets, batch: int) -> None:
        self.update_losses(loss, parts, batch)
        self.update_metrics(outputs, targets)

    def update_losses(self, loss, parts, batch: int) -> None:
        self.loss.update(loss, weight=batch)
        for name, part in zip(self.task.output_names, parts):
            # Keras weighs each output's loss tracker by ``y_pred.shape[0]``, None in its traced
            # step: every batch counts once, a partial last one as much as a full one (Keras 3.15)
            self.parts[name].update(part)

    def update_metrics(self, outputs, targets) -> None:
        multi = len(self.task.output_names) > 1
        outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
        for i, (name, out, y) in enumerate(zip(self.task.output_names, outputs, targets)):
            for metric in self.task.metrics_of(i):
                key = f"{name}_{metric_key(metric)}" if multi else metric_key(metric)
                self.metrics.setdefault(key, tracker(metric, y, out)).update(
                    y, out.detach(), getattr(out, "keras_mask", None))

    def result(self, prefix: str = "") -> dict:
        out = {prefix + "loss": self.loss.result()}
        if len(self.parts) > 1:
            out.update({f"{prefix}{k}_loss": m.result() for k, m in self.parts.items()})
        out.update({prefix + k: m.result() for k, m in self.metrics.items()})
        return out


def train_batch(model: nn.Module, task: Training, optimizer: torch.optim.Optimizer, xs, ys,
                logs: _Logs | None = None) -> torch.Tensor:
    """One Keras training step on one batch; returns the loss (before the update). ``xs`` and
    ``ys``: dicts by name, or lists in order, of arrays or tensors."""
    xs = as_tensors(xs, task.input_names, task.input_dtypes, _device(model))
    ys = as_tensors(ys, task.output_names, task.target_dtypes, _device(model))
    model.train()
    outputs = model(*xs)
    parts = output_losses(task, outputs, ys)
    loss = _total(model, task, parts)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if logs is not None:
        logs.update(loss.detach(), [p.detach() for p in parts], outputs, ys, len(xs[0]))
    return loss.detach()


class Local:
    """How ``fit_model`` spreads a batch over processes: here, one process takes it whole.
    ``spec2net.runtime.torch_ddp.Replica`` shards it over a process group instead."""

    def shard(self, batch):
        """The part of a global batch (indices into the data) this process trains on."""
        return batch

    def step(self, model, task, optimizer, xs: list, ys: list, logs: _Logs, n_global: int) -> None:
        train_batch(model, task, optimizer, xs, ys, logs)

    def reduce(self, logs: _Logs) -> None:
        """Make an epoch's metrics those of the whole data (nothing to do in one process)."""


def fit_model(model: nn.Module, task: Training, x, y, epochs: int = 1, batch_size: int = 32,
              shuffle: bool = True, validation_split: float = 0.0, validation_data=None,
              optimizer: torch.optim.Optimizer | None = None, callbacks=None, order=None, progress=None,
              replica: Local | None = None) -> dict:
    """Keras's fit(): batches in order (or shuffled each epoch), one step each; the last
    ``validation_split`` of the data (taken before any shuffle), or ``validation_data=(x, y)``,
    evaluated after each epoch; ``callbacks`` (Keras's, spec2net.runtime.callbacks; the spec's
    where None) as Keras calls them. Returns Keras's ``history.history``.

    ``order(epoch, n)``, where given, is the epoch's sample order when shuffling (default:
    ``torch.randperm``); ``progress(epoch, step, steps, logs)`` is called after every batch and
    ``progress.epoch_end(logs)``, where it exists, after each epoch (spec2net.progress.Progress);
    ``replica`` spreads each batch over processes (spec2net.runtime.torch_ddp.Replica).
    """
    device = _device(model)
    xs, ys, n = _checked(task, x, y, "data")
    val = None
    if validation_data is not None:
        val = _checked(task, *validation_data, "validation_data")
    elif validation_split:
        n_train = math.floor(n * (1.0 - validation_split))  # Keras: the last fraction validates
        if n_train in (0, n):
            raise DataError(f"validation_split={validation_split} leaves no training or no validation "
                            f"samples out of {n}")
        val = ([t[n_train:] for t in xs], [t[n_train:] for t in ys], n - n_train)
        xs, ys, n = [t[:n_train] for t in xs], [t[:n_train] for t in ys], n_train
    optimizer = optimizer if optimizer is not None else task.optimizer(model)
    replica = Local() if replica is None else replica
    history: dict[str, list] = {}
    callbacks = task.callbacks if callbacks is None else callbacks
    run = TorchRun(model, optimizer)
    steps = math.ceil(n / batch_size)
    for c in callbacks:
        c.on_train_begin(run)
    for epoch_index in range(epochs):
        if not shuffle:
            sequence = np.arange(n)
        else:
            sequence = np.asarray(order(epoch_index, n)) if order is not None else torch.randperm(n).numpy()
        logs = _Logs(task)
        for k, start in enumerate(range(0, n, batch_size)):
            batch = replica.shard(sequence[start: start + batch_size])
            replica.step(model, task, optimizer, _batch(xs, batch, task.input_dtypes, device),
                         _batch(ys, batch, task.target_dtypes, device), logs, min(batch_size, n - start))
            if progress is not None:
                progress(epoch_index, k + 1, steps, logs.result())
            for c in callbacks:
                c.on_batch_end(run, {"loss": logs.loss.result()})
            if run.stop_training:
                break
        replica.reduce(logs)
        epoch = logs.result()
        if val is not None:
            epoch.update(_evaluate(model, task, val[0], val[1], val[2], batch_size).result("val_"))
        for c in callbacks:  # before the history is written: reduce_lr_on_plateau adds learning_rate
            c.on_epoch_end(run, epoch_index, epoch)
        for key, value in epoch.items():
            history.setdefault(key, []).append(value)
        if hasattr(progress, "epoch_end"):
            progress.epoch_end(epoch)
        if run.stop_training:
            break
    if epochs > 0 and hasattr(optimizer, "finalize_variable_values"):  # Keras's: use_ema's averages
        optimizer.finalize_variable_values()
    for c in callbacks:  # after finalize, as Keras: restore_best_weights wins over the averages
        c.on_train_end(run)
    return history


class TorchRun(Run):
    """A module and its optimizer as the callbacks see them: every parameter and buffer (Keras's
    get_weights), the optimizer's ``lr`` (Keras's learning_rate)."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer):
        self.model, self.optimizer = model, optimizer

    def get_weights(self) -> dict:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def set_weights(self, weights: dict) -> None:
        self.model.load_state_dict(weights)

    @property
    def learning_rate(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = value


def evaluate_model(model: nn.Module, task: Training, x, y, batch_size: int = 32) -> dict:
    """Keras's ``evaluate(..., return_dict=True)``: loss, per-output losses and metrics in
    inference mode, over batches."""
    xs, ys, n = _checked(task, x, y, "data")
    return _evaluate(model, task, xs, ys, n, batch_size).result()


def _evaluate(model: nn.Module, task: Training, xs: list, ys: list, n: int, batch_size: int) -> _Logs:
    logs = _Logs(task)
    was_training = model.training
    device = _device(model)
    model.eval()
    with torch.no_grad():
        for start in range(0, n, batch_size):
            rows = slice(start, start + batch_size)
            bx, by = _batch(xs, rows, task.input_dtypes, device), _batch(ys, rows, task.target_dtypes, device)
            outputs = model(*bx)
            parts = output_losses(task, outputs, by)
            logs.update(_total(model, task, parts), parts, outputs, by, len(bx[0]))
    model.train(was_training)
    return logs
