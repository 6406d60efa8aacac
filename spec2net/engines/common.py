"""What the three engines share: the fit settings (the spec's ``fit`` block under the flags), the
data and weights checked before any work, the shuffle order, the divergence message, and a
generated module run in-process without a file."""

from __future__ import annotations

import importlib
import math
import types
from dataclasses import dataclass

import numpy as np

from ..runtime.data import check_data, check_inputs


@dataclass(frozen=True)
class Fit:
    """``fit()``'s settings for one run: the flags where given, else the spec's fit block."""

    epochs: int
    batch_size: int
    shuffle: bool
    validation_split: float


def fit_settings(net, epochs=None, batch_size=None, shuffle=None, validation_split=None) -> Fit:
    """``fit_settings(net, epochs=2)``: None takes the spec's fit block (filled with Keras's defaults)."""
    spec = net.ir.fit or {"epochs": 1, "batch_size": 32, "shuffle": True, "validation_split": 0.0}
    pick = lambda given, key: spec[key] if given is None else given
    return Fit(pick(epochs, "epochs"), pick(batch_size, "batch_size"), pick(shuffle, "shuffle"),
               pick(validation_split, "validation_split"))


def training_data(net, data: dict, weights: dict | None, fit: Fit, seed: int, max_memory=None,
                  validation_data: dict | None = None):
    """Checked inputs and targets (DataError), the memory budget (SpecError), the start weights
    (those of ``init --seed`` where None; WeightsError where they do not fit) and the validation
    data: ``(inputs, targets, n, weights, validation)`` with ``validation`` None or
    ``(inputs, targets)``. Arrays are kept as given (memory maps are indexed per batch later)."""
    from ..backends.numpy import init_weights
    from ..backends.numpy.train import TrainError
    from ..net import data_spec
    from ..runtime.data import DataError
    from ..weights import check_weights

    if net.ir.compile is None:
        raise TrainError(f"model '{net.name}' has no `compile` block: no loss or optimizer to train with")
    spec = data_spec(net.ir)
    inputs, targets, n = check_data(spec, data)
    validation = None
    if validation_data is not None:
        try:
            validation = check_data(spec, validation_data)[:2]
        except DataError as e:
            raise DataError(e.detail, "validation_data") from None
    net.check_memory("train", data, batch=min(n, fit.batch_size), max_memory=max_memory)
    weights = init_weights(net.ir, seed) if weights is None else weights
    check_weights(net.ir, weights)
    return inputs, targets, n, weights, validation


def checked_data(net, data: dict, weights: dict, batch_size: int, max_memory=None, targets: bool = True):
    """evaluate's (``targets``) or predict's data, checked, the budget and the weights too:
    ``(inputs, targets or None, n)``."""
    from ..backends.numpy.train import TrainError
    from ..net import _positive, data_spec
    from ..weights import check_weights

    _positive("batch_size", batch_size)
    spec = data_spec(net.ir)
    if targets:
        if net.ir.compile is None:
            raise TrainError(f"model '{net.name}' has no `compile` block: no loss to evaluate")
        inputs, ys, n = check_data(spec, data)
    else:
        (inputs, n), ys = check_inputs(spec, data), None
    net.check_memory("run", inputs, batch=min(n, batch_size), max_memory=max_memory)
    check_weights(net.ir, weights)
    return inputs, ys, n


def split(inputs: dict, targets: dict, n: int, fraction: float):
    """Keras's validation_split: the last ``fraction`` of the samples validate, taken before any
    shuffle. Returns ``(inputs, targets, n_train, (val_inputs, val_targets))``."""
    from ..backends.numpy.train import TrainError

    n_train = math.floor(n * (1.0 - fraction))
    if n_train in (0, n):
        raise TrainError(f"validation_split={fraction} leaves no training or no validation samples out of {n}")
    head = lambda arrays, rows: {k: v[rows] for k, v in arrays.items()}  # slices: views, no copy
    return (head(inputs, slice(0, n_train)), head(targets, slice(0, n_train)), n_train,
            (head(inputs, slice(n_train, n)), head(targets, slice(n_train, n))))


def shuffle_order(seed: int):
    """``order(epoch, n)``: each epoch's permutation, the NumPy trainer's (the same seed, the same
    generator), so every engine trains on the same batches."""
    from ..backends.numpy.initializers import derive_seed

    rng = np.random.default_rng(derive_seed("shuffle", seed))
    return lambda epoch, n: rng.permutation(n)


def diverged(loss: float, epoch: int, batch: int, what: str = ""):
    """The NonFiniteError the NumPy trainer raises, for ``epoch`` and ``batch`` counted from 1."""
    from ..backends.numpy.train import NonFiniteError

    culprit = f"; first non-finite: {what}" if what else ""
    return NonFiniteError(f"training diverged at epoch {epoch}, batch {batch}: loss {loss}{culprit} (a lower "
                          "learning rate or gradient clipping may help; keep_going/--keep-going trains on, as "
                          "Keras does)", epoch, batch)


def framework(*modules: str, needs: str, extra: str):
    """The first of ``modules`` imported, or the TrainError that names the extra to install:
    ``framework("torch", needs="PyTorch", extra="torch")``."""
    try:
        found = [importlib.import_module(m) for m in modules]
    except ImportError:
        from ..backends.numpy.train import TrainError

        raise TrainError(f"--backend {extra} needs {needs}: pip install 'spec2net[{extra}]'") from None
    return found[0]


def load_module(source: str, name: str) -> types.ModuleType:
    """A generated module's source run in a fresh module object, never written to a file:
    ``load_module(net.build("torch"), "mlp").build_model()``."""
    module = types.ModuleType(name)
    module.__file__ = f"<spec2net {name}>"
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 -- our own generated code
    return module
