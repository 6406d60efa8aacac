"""Keras 3's fit callbacks (keras/src/callbacks: early_stopping.py, reduce_lr_on_plateau.py,
terminate_on_nan.py) as plain Python over NumPy, shared by the NumPy trainer and the torch runtime.

A trainer calls each hook with a ``Run``, its view of the training: ``get_weights()`` and
``set_weights(w)`` (every variable, as Keras's ``model.get_weights``), ``learning_rate`` (read and
set, as Keras's ``optimizer.learning_rate``) and ``stop_training``. The hooks are Keras's:
``on_train_begin``, ``on_batch_end(logs)`` (the running loss), ``on_epoch_end(epoch, logs)`` (the
epoch's logs, validation included, which a callback may add to: the history is written after every
callback ran) and ``on_train_end`` (after use_ema's averages replaced the weights).

``mode`` is "min" or "max": Keras's "auto" is resolved by the compiler, which knows the metrics.

>>> stop = EarlyStopping(patience=1, mode="min")  # then fit(..., callbacks=[stop])
"""

from __future__ import annotations

import math

import numpy as np


class Run:
    """What a callback sees of a training run (a trainer subclasses it)."""

    stop_training = False
    learning_rate: float

    def get_weights(self):
        raise NotImplementedError

    def set_weights(self, weights) -> None:
        raise NotImplementedError


class Callback:
    def on_train_begin(self, run: Run) -> None:
        pass

    def on_batch_end(self, run: Run, logs: dict) -> None:
        pass

    def on_epoch_end(self, run: Run, epoch: int, logs: dict) -> None:
        pass

    def on_train_end(self, run: Run) -> None:
        pass


class _Monitor(Callback):
    """Keras's MonitorCallback: ``min_delta`` counts in the monitor's good direction."""

    def __init__(self, monitor: str, mode: str, min_delta: float, baseline: float | None = None):
        if mode not in ("min", "max"):
            raise ValueError(f"mode is 'min' or 'max' (the compiler resolves Keras's 'auto'), got {mode!r}")
        self.monitor, self.mode, self.min_delta, self.baseline = monitor, mode, abs(min_delta), baseline

    def _is_improvement(self, value, reference) -> bool:
        if reference is None:
            return True
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference


class EarlyStopping(_Monitor):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; with ``restore_best_weights``,
    the best epoch's weights come back at the end of training, also when it did not stop early
    (the optimizer's state is left as it is)."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="min", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta, baseline)
        self.patience, self.restore_best_weights, self.start_from_epoch = patience, restore_best_weights, start_from_epoch

    def on_train_begin(self, run):
        self.wait, self.stopped_epoch, self.best, self.best_weights, self.best_epoch = 0, 0, None, None, 0

    def on_epoch_end(self, run, epoch, logs):
        current = logs.get(self.monitor)
        if current is None or epoch < self.start_from_epoch:  # Keras warns and skips an absent monitor
            return
        if self.restore_best_weights and self.best_weights is None:  # the first epoch watched is the first best
            self.best_weights, self.best_epoch = run.get_weights(), epoch
        self.wait += 1  # before the improvement test, as Keras counts it
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = run.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            run.stop_training = True

    def on_train_end(self, run):
        if self.restore_best_weights and self.best_weights is not None:
            run.set_weights(self.best_weights)


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` (not below ``min_lr``) after ``patience`` epochs without
    improvement, then wait ``cooldown`` epochs; logs ``learning_rate``, the rate that epoch used.
    The rate is a float32, as Keras's variable holds it."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, mode="min", min_delta=1e-4, cooldown=0,
                 min_lr=0.0):
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        super().__init__(monitor, mode, min_delta)
        self.factor, self.patience, self.cooldown, self.min_lr = factor, patience, cooldown, min_lr

    def on_train_begin(self, run):
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def on_epoch_end(self, run, epoch, logs):
        logs["learning_rate"] = float(np.float32(run.learning_rate))
        current = logs.get(self.monitor)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            old = float(np.float32(run.learning_rate))
            if self.wait >= self.patience and old > np.float32(self.min_lr):
                run.learning_rate = float(np.float32(max(old * self.factor, self.min_lr)))
                self.cooldown_counter, self.wait = self.cooldown, 0


class TerminateOnNaN(Callback):
    """Stop after the batch whose running loss is NaN or infinite (the epoch still ends: validation,
    history and the other callbacks run, as in Keras)."""

    def on_batch_end(self, run, logs):
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            run.stop_training = True


CALLBACKS = {"early_stopping": EarlyStopping, "reduce_lr_on_plateau": ReduceLROnPlateau,
             "terminate_on_nan": TerminateOnNaN}
