"""The spec's fit callbacks for the NumPy trainer: the runtime's Keras callbacks (shared with the
torch runtime), built from the IR, and the trainer's side of them (``NumpyRun``)."""

from __future__ import annotations

from spec2net import ir
from spec2net.compile_check import monitor_direction
from spec2net.runtime.callbacks import CALLBACKS, Callback, Run, TerminateOnNaN

__all__ = ["NumpyRun", "TerminateOnNaN", "from_spec"]


def from_spec(model: ir.Model) -> list[Callback]:
    """The ``fit`` block's callbacks, Keras's ``mode="auto"`` resolved against the model's metrics."""
    out = []
    for ref in model.fit["callbacks"]:  # the checker fills fit (Keras defaults)
        kwargs = ref.kwargs
        if "mode" in kwargs:
            kwargs["mode"] = monitor_direction(model, ref)
        out.append(CALLBACKS[ref.name](**kwargs))
    return out


class NumpyRun(Run):
    """The NumPy trainer's weights dict and optimizer, as the callbacks see them."""

    def __init__(self, weights: dict, optimizer):
        self.weights, self.optimizer = weights, optimizer

    def get_weights(self) -> dict:
        return {k: v.copy() for k, v in self.weights.items()}

    def set_weights(self, weights: dict) -> None:
        self.weights = weights

    @property
    def learning_rate(self) -> float:
        return self.optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.optimizer.learning_rate = value
