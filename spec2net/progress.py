"""A Keras-like progress bar for training, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import time


class Progress:
    """``callback(epoch, step, steps, logs)`` for the trainer: one bar per epoch,
    ``Epoch 1/10`` then ``32/32 [=====] - 0s - loss: 0.6931 - accuracy: 0.5000``."""

    def __init__(self, epochs: int, stream=None, width: int = 30):
        self.epochs, self.width = epochs, width
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.start = time.monotonic()

    def __call__(self, epoch, step, steps, logs):
        if not self.enabled:
            return
        if step == 1:
            self.start = time.monotonic()
            self.stream.write(f"Epoch {epoch + 1}/{self.epochs}\n")
        done = int(self.width * step / steps)
        bar = "=" * max(done - 1, 0) + (">" if step < steps else "=") + "." * (self.width - done)
        metrics = " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())
        secs = time.monotonic() - self.start
        self.stream.write(f"\r{step}/{steps} [{bar}] - {secs:.0f}s - {metrics}")
        if step == steps:
            self.stream.write("\n")
        self.stream.flush()

    def epoch_end(self, logs: dict):
        """Validation numbers arrive after the epoch's last step."""
        val = {k: v for k, v in logs.items() if k.startswith("val_")}
        if self.enabled and val:
            self.stream.write("  " + " - ".join(f"{k}: {v:.4f}" for k, v in val.items()) + "\n")
