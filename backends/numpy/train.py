"""Keras ``fit()`` semantics in NumPy: epochs, batches in order (the last one
partial), a seeded shuffle per epoch, ``validation_split`` taken from the end
of the data before any shuffle, and a history of the epoch means of the loss
and metrics (each batch's loss weighted by its size, as Keras's loss tracker)."""

from __future__ import annotations

import math

import numpy as np

from spec2net import ir
from spec2net.runtime.data import DataError, check_data, rows

from . import sparse
from .backprop import compiled_loss, loss_and_grads
from .callbacks import NumpyRun, TerminateOnNaN, from_spec
from .initializers import derive_seed
from .interpreter import forward
from .metrics import Mean, tracker
from .optimizers import Optimizer


class TrainError(ValueError):
    """Settings that cannot train this model (bad data raises spec2net.DataError)."""


class NonFiniteError(TrainError):
    """The loss, a gradient or a weight became NaN or infinite (``keep_going=True``: Keras's way, go on).
    ``epoch`` and ``batch`` count from 1, as Keras's progress bar does."""

    def __init__(self, message: str, epoch: int, batch: int):
        super().__init__(message)
        self.epoch, self.batch = epoch, batch


def _first_non_finite(keys, arrays: dict):
    return next((k for k in keys if k in arrays and not np.all(np.isfinite(sparse.values(arrays[k])))), None)


def check_finite(loss: float, before: dict, grads: dict, after: dict, epoch: int, batch: int) -> None:
    """Raise NonFiniteError naming where training broke: the first non-finite weight the step
    started from, else gradient, else updated weight (in the weights file's order)."""
    if math.isfinite(loss) and _first_non_finite(after, after) is None:
        return
    where = f"epoch {epoch + 1}, batch {batch + 1}"
    found = ((what, _first_non_finite(list(arrays), arrays)) for what, arrays in
             (("weight", before), ("gradient of", grads), ("updated weight", after)))
    what, key = next(((w, k) for w, k in found if k is not None), (None, None))
    culprit = f"first non-finite: {what} '{key}'" if key else "weights and gradients finite: overflow in the forward pass or the loss"
    raise NonFiniteError(f"training diverged at {where}: loss {loss}; {culprit} (a lower learning rate or "
                         "gradient clipping may help; keep_going/--keep-going trains on, as Keras does)",
                         epoch + 1, batch + 1)


def _take(arrays: dict, idx) -> dict:
    """One batch of every array, in memory: gathered by index, so a memory-mapped data set is
    read a batch at a time (runtime.data.rows), shuffled or not."""
    return {k: rows(v, idx) for k, v in arrays.items()}


def _view(arrays: dict, part: slice) -> dict:
    return {k: v[part] for k, v in arrays.items()}  # views, of a memory map too: nothing is read


class _Epoch:
    """The running means of one epoch: loss, per-output losses, metrics."""

    def __init__(self, model: ir.Model):
        self.model = model
        self.loss = Mean()
        self.parts = {o.name: Mean() for o in model.outputs}
        self.metrics = {}

    def update(self, loss, per_output, preds, targets, batch, masks):
        self.loss.update(loss, weight=batch)
        multi = len(self.model.outputs) > 1
        for name, value in per_output.items():
            # Keras weights each output's loss tracker by ``y_pred.shape[0]``, which is None in its traced
            # step: every batch counts once, a partial last batch as much as a full one (Keras 3.15).
            self.parts[name].update(value)
        for out in self.model.outputs:
            for ref in self.model.compile.metrics[out.name]:
                key = f"{out.name}_{ref.written}" if multi else ref.written  # Keras keeps the spelling
                # Keras's MeanMetricWrapper weights the values by the output's mask: masked steps do not count
                self.metrics.setdefault(key, tracker(ref)).update(targets[out.name], preds[out.name],
                                                                  masks.get(out.name))

    def logs(self, prefix="") -> dict:
        out = {prefix + "loss": self.loss.result()}
        if len(self.parts) > 1:
            out.update({f"{prefix}{k}_loss": m.result() for k, m in self.parts.items()})
        out.update({prefix + k: m.result() for k, m in self.metrics.items()})
        return out


def fit(model: ir.Model, data: dict, weights: dict, epochs: int = 1, batch_size: int = 32, shuffle: bool = True,
        validation_split: float = 0.0, seed: int = 0, callback=None, validation_data: dict | None = None,
        keep_going: bool = False, callbacks: list | None = None):
    """Train ``model`` from ``weights``: ``new_weights, history = fit(net.ir, {"x": x, "y": y}, w, epochs=2)``.

    The arrays may be memory-mapped (a directory of .npy files): each batch is read by index, a
    shuffle being a permutation of indices, and the validation split a view of the last rows.

    ``data`` (and ``validation_data``, which takes precedence over ``validation_split``, as in
    Keras) hold inputs by input name and targets by output name, checked first (DataError). A
    NaN or infinite loss, gradient or weight raises NonFiniteError unless ``keep_going``.
    ``callback(epoch, step, steps, logs)`` is called after every batch (for a progress bar), and
    ``callback.epoch_end(logs)``, where it exists, after each epoch with the validation numbers.
    ``callbacks`` (Keras's, spec2net.runtime.callbacks) replace the spec's ``fit`` callbacks.
    """
    if model.compile is None:
        raise TrainError(f"model '{model.name}' has no `compile` block: no loss or optimizer to train with")
    from spec2net.net import data_spec  # spec2net.net imports the backends lazily: no cycle

    spec = data_spec(model)
    inputs, targets, n = check_data(spec, data)
    n_train, val = n, None
    if validation_data is not None:
        try:
            val = check_data(spec, validation_data)[:2]
        except DataError as e:
            raise DataError(e.detail, "validation_data") from None
    elif validation_split:
        n_train = math.floor(n * (1.0 - validation_split))  # Keras: the last fraction validates
        if n_train in (0, n):
            raise TrainError(f"validation_split={validation_split} leaves no training or no validation "
                             f"samples out of {n}")
        val = _view(inputs, slice(n_train, n)), _view(targets, slice(n_train, n))
    opt = Optimizer(model.compile.optimizer)
    weights = {k: np.asarray(v, np.float32) for k, v in weights.items()}
    rng = np.random.default_rng(derive_seed("shuffle", seed))
    steps = math.ceil(n_train / batch_size)
    history: dict[str, list] = {}
    step = 0
    callbacks = from_spec(model) if callbacks is None else callbacks
    # Keras's TerminateOnNaN stops where a non-finite loss would raise
    keep_going |= any(isinstance(c, TerminateOnNaN) for c in callbacks)
    run = NumpyRun(weights, opt)
    for c in callbacks:
        c.on_train_begin(run)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported by check_finite
        for epoch in range(epochs):
            order = rng.permutation(n_train) if shuffle else np.arange(n_train)
            tracker = _Epoch(model)
            for k, start in enumerate(range(0, n_train, batch_size)):
                idx = order[start:start + batch_size]
                bt = _take(targets, idx)
                masks: dict = {}
                loss, parts, grads, state, preds = loss_and_grads(model, weights, _take(inputs, idx), bt,
                                                                  seed=derive_seed("step", seed, step),
                                                                  output_masks=masks)
                before, weights = weights, opt.apply(weights, grads)
                weights.update({key: v.astype(np.float32) for key, v in state.items()})
                if not keep_going:
                    check_finite(loss, before, grads, weights, epoch, k)
                tracker.update(loss, parts, preds, bt, len(idx), masks)
                step += 1
                if callback is not None:
                    callback(epoch, k + 1, steps, tracker.logs())
                run.weights = weights
                for c in callbacks:
                    c.on_batch_end(run, {"loss": tracker.loss.result()})
                if run.stop_training:
                    break
            logs = tracker.logs()
            if val is not None:
                logs.update(evaluate_arrays(model, *val, weights, batch_size).logs("val_"))
            for c in callbacks:  # before the history is written: reduce_lr_on_plateau adds learning_rate
                c.on_epoch_end(run, epoch, logs)
            for key, value in logs.items():
                history.setdefault(key, []).append(value)
            if hasattr(callback, "epoch_end"):
                callback.epoch_end(logs)
            if run.stop_training:
                break
    if epochs > 0:  # Keras's finalize_variable_values: use_ema's averages replace the weights
        weights = opt.finalize(weights)
    run.weights = weights
    for c in callbacks:  # after finalize, as Keras: restore_best_weights wins over use_ema's averages
        c.on_train_end(run)
    return run.weights, history


def evaluate_arrays(model: ir.Model, inputs: dict, targets: dict, weights: dict, batch_size: int = 32) -> _Epoch:
    """Inference-mode loss and metrics over batches of checked arrays, as Keras's ``evaluate``."""
    tracker = _Epoch(model)
    w = {k: np.asarray(v, np.float32) for k, v in weights.items()}
    n = len(next(iter(inputs.values())))
    for start in range(0, n, batch_size):
        sl = slice(start, start + batch_size)
        bt = _take(targets, sl)
        values, masks, caches, _ = forward(model, _take(inputs, sl), w, keep=True)
        total, parts, _, _ = compiled_loss(model, values, masks, caches, bt, w)
        preds = {o.name: values[o.tensor] for o in model.outputs}
        tracker.update(total, parts, preds, bt, len(bt[model.outputs[0].name]),
                       {o.name: masks.get(o.tensor) for o in model.outputs})
    return tracker


def evaluate(model: ir.Model, data: dict, weights: dict, batch_size: int = 32) -> dict:
    """Keras's ``evaluate(..., return_dict=True)``: ``evaluate(net.ir, {"x": x, "y": y}, w)["loss"]``."""
    if model.compile is None:
        raise TrainError(f"model '{model.name}' has no `compile` block: no loss to evaluate")
    from spec2net.net import data_spec

    inputs, targets, _ = check_data(data_spec(model), data)
    return evaluate_arrays(model, inputs, targets, weights, batch_size).logs()
