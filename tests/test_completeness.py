"""Every registered layer, activation, initializer, regularizer, loss, optimizer and metric has an
entry in every backend table: a new registry entry without its NumPy kernel and gradient, Keras
emitter or torch emitter fails here, by name, before any model needs it.

Written against ``name in table``, so a table may be a spec2net.tables.Table or a dict. Where a
backend writes the registry's own name into generated code (Keras's ``keras.losses.<keras_name>``,
the torch runtime's ``rt.<name>``), the entry that must exist is in that framework or runtime.
"""

from __future__ import annotations

import pytest
from spec2net.backends import numpy as nb
from spec2net.backends.numpy import activations, initializers, losses, metrics, optimizers, regularizers
from spec2net.backends.numpy.grads import GRADS
from spec2net.backends.numpy.grads.activations import ACT_GRADS

from spec2net.ir import Ref
from spec2net.registry import canonical, canonical_layers
from spec2net.registry.functions import LAYER_INITIALIZERS

KINDS = ("activation", "initializer", "regularizer", "loss", "optimizer", "metric")


def registered(kind: str) -> list[str]:
    """The canonical names of a kind; initializers include those only a layer declares."""
    if kind == "layer":
        return list(canonical_layers())
    return list(canonical(kind)) + (list(LAYER_INITIALIZERS) if kind == "initializer" else [])


def _missing(names, table) -> list[str]:
    return sorted(n for n in names if n not in table)


# (backend table, the registry kind it must cover, the table)
NUMPY = [
    ("NumPy kernels", "layer", nb.KERNELS),
    ("NumPy gradients", "layer", GRADS),
    ("NumPy activations", "activation", activations.ACTIVATIONS),
    ("NumPy activation gradients", "activation", ACT_GRADS),
    ("NumPy initializers", "initializer", initializers.INITIALIZERS),
    ("NumPy regularizers", "regularizer", regularizers.REGULARIZERS),
    ("NumPy losses", "loss", losses.LOSSES),
    ("NumPy optimizers", "optimizer", optimizers.OPTIMIZERS),
    ("NumPy metrics", "metric", metrics.METRICS),
]


@pytest.mark.parametrize("what, kind, table", NUMPY, ids=[t[0] for t in NUMPY])
def test_numpy_tables_are_complete(what, kind, table):
    assert not _missing(registered(kind), table), f"{what} lack: {_missing(registered(kind), table)}"


def test_keras_emitters_are_complete():
    from spec2net.backends.keras import EMITTERS

    assert not _missing(registered("layer"), EMITTERS), f"Keras emitters lack: {_missing(registered('layer'), EMITTERS)}"


def test_keras_writes_every_kind():
    from spec2net.backends.keras.values import REF_WRITERS

    assert not _missing(KINDS, REF_WRITERS)


@pytest.mark.parametrize("kind", KINDS)
def test_keras_has_every_registered_name(keras, kind):
    """The Keras module writes the registry's ``keras_name``: Keras must know each one."""
    module = {"activation": keras.activations, "initializer": keras.initializers,
              "regularizer": keras.regularizers, "loss": keras.losses, "optimizer": keras.optimizers,
              "metric": keras.metrics}[kind]
    entries = canonical(kind)  # LAYER_INITIALIZERS are built by the Keras layer itself
    if kind in ("activation", "metric"):  # written as identifiers ("relu", "accuracy")
        unknown = []
        for name, entry in entries.items():
            try:
                module.get(entry.keras_name)
            except ValueError:
                unknown.append(name)
    else:  # written as classes: keras.losses.BinaryCrossentropy(...)
        unknown = [name for name, entry in entries.items() if not hasattr(module, entry.keras_name)]
    assert not unknown, f"Keras has no {kind} for: {unknown}"


def test_torch_emitters_are_complete():
    from spec2net.backends.torch.emitter import EMITTERS

    assert not _missing(registered("layer"), EMITTERS), f"torch emitters lack: {_missing(registered('layer'), EMITTERS)}"


def test_torch_activations_are_complete():
    from spec2net.backends.torch.functions import ACTIVATIONS

    assert not _missing(registered("activation"), ACTIVATIONS)


def test_onnx_emitters_are_complete():
    pytest.importorskip("onnx", reason="needs onnx: pip install 'spec2net[onnx]'")
    from spec2net.backends.onnx import EMITTERS
    from spec2net.backends.onnx.activations import ACTIVATIONS

    assert not _missing(registered("layer"), EMITTERS), f"ONNX emitters lack: {_missing(registered('layer'), EMITTERS)}"
    assert not _missing(registered("activation"), ACTIVATIONS), "ONNX activations lack: " \
        f"{_missing(registered('activation'), ACTIVATIONS)}"


@pytest.mark.parametrize("kind", ["loss", "optimizer", "metric"])
def test_torch_runtime_is_complete(torch, kind):
    """The generated torch module calls ``rt.<loss>``, ``rt.<optimizer's Keras class>`` and looks its
    metrics up in ``rt.METRICS``."""
    from spec2net.runtime import torch as rt

    if kind == "metric":
        missing = _missing(registered("metric"), rt.METRICS)
    elif kind == "loss":
        missing = sorted(n for n in registered("loss") if not hasattr(rt, n))
    else:
        missing = sorted(n for n, e in canonical("optimizer").items() if not hasattr(rt, e.keras_name))
    assert not missing, f"torch runtime lacks {kind}: {missing}"


def _filled(kind: str, name: str) -> Ref:
    entry = canonical(kind).get(name) or LAYER_INITIALIZERS[name]
    return Ref(kind, name, tuple((a.name, a.default) for a in entry.args))


def test_numpy_and_keras_write_every_schedule():
    """A learning-rate schedule is an optimizer's argument: the NumPy trainer's table, and the
    Keras module writes ``keras.optimizers.schedules.<keras_name>``."""
    from spec2net.backends.keras.values import REF_WRITERS
    from spec2net.backends.numpy.schedules import SCHEDULES

    assert not _missing(registered("schedule"), SCHEDULES)
    assert "schedule" in REF_WRITERS


def test_keras_has_every_schedule(keras):
    entries = canonical("schedule")
    assert not [n for n, e in entries.items() if not hasattr(keras.optimizers.schedules, e.keras_name)]


def test_torch_runtime_has_every_schedule(torch):
    """The generated torch module writes ``rt.<keras_name>(...)`` as the optimizer's learning_rate."""
    from spec2net.runtime import torch as rt

    assert not [n for n, e in canonical("schedule").items() if not hasattr(rt, e.keras_name)]


@pytest.mark.parametrize("name", registered("initializer"))
def test_torch_writes_every_initializer(name):
    """The torch module draws each weight with ``initializer_call``: it must know every initializer."""
    from spec2net.backends.torch.functions import initializer_call

    assert initializer_call(_filled("initializer", name), (4, 8)).strip()
