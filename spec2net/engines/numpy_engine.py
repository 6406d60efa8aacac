"""``--backend numpy``: the NumPy trainer and interpreter, under the engines' signature."""

from __future__ import annotations


def _cpu(device: str | None) -> None:
    from ..backends.numpy.train import TrainError

    if device not in (None, "cpu"):
        raise TrainError(f"--device {device}: the NumPy backend runs on the CPU (use --backend torch or keras)")


def train(net, data: dict, weights: dict | None = None, device: str | None = None, **fit):
    """``Net.train``: ``(weights, history)``."""
    _cpu(device)
    return net.train(data, weights, **fit)


def evaluate(net, data: dict, weights: dict, batch_size: int = 32, max_memory=None, device=None) -> dict:
    _cpu(device)
    return net.evaluate(data, weights, batch_size=batch_size, max_memory=max_memory)


def predict(net, inputs: dict, weights: dict, batch_size: int = 32, max_memory=None, device=None) -> dict:
    _cpu(device)
    return net.predict(inputs, weights, batch_size=batch_size, max_memory=max_memory)
