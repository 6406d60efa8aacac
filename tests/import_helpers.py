"""Helpers for the import tests (tests/test_import.py) and the full sweep (fuzz/import_sweep.py): a
spec made into a real Keras model by the generated Keras module, given weights, saved with
``model.save``; the file imported back; its numbers compared with Keras's own.

    >>> path = save_keras(spec2net.load("examples/mlp.net"), weights, tmp / "m.keras")  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
from keras_helpers import load_module, positional, save_npz
from numpy_keras_helpers import max_diff

from spec2net.importer import import_model


def keras_model(net, folder, weights=None):
    """The Keras model of ``net`` from its generated module (compiled where the spec compiles),
    with ``weights`` (keys LAYER/PARAM) loaded."""
    mod = load_module(net.build("keras"), folder / f"{net.ir.name}_keras.py")
    model = mod.build_model()
    if net.ir.compile is not None:
        mod.compile_model(model)
    if weights is not None:
        mod.load_weights(model, save_npz(folder / f"{net.ir.name}_w.npz", weights))
    return model


def save_keras(net, weights, path):
    """``net`` as a real Keras model saved by ``model.save(path)`` (.keras or legacy .h5); the model."""
    model = keras_model(net, path.parent, weights)
    model.save(path)
    return model


def keras_outputs(model, net, x) -> dict:
    """Keras's inference outputs keyed by ``net``'s output names (the model's call, as predict does)."""
    out = model(positional(x, net.input_names), training=False)
    if isinstance(out, dict):
        return {k: np.asarray(v) for k, v in out.items()}
    out = out if isinstance(out, (list, tuple)) else [out]
    return dict(zip(net.output_names, (np.asarray(v) for v in out)))


def round_trip(net, weights, folder, suffix=".keras"):
    """(imported, Keras model, spec of the second round): ``net`` saved by Keras and imported,
    then the imported spec saved by Keras and imported again (the fixed point)."""
    model = save_keras(net, weights, folder / f"first{suffix}")
    first = import_model(folder / f"first{suffix}")
    again = folder / "second"
    again.mkdir(exist_ok=True)
    save_keras(first.net, first.weights, again / f"second{suffix}")
    second = import_model(again / f"second{suffix}")
    return first, model, second.text


def compare_run(imported, model, x) -> float:
    """max |diff| of spec2net's `run` of the imported spec and weights against the Keras model."""
    ours = imported.net.run(x, imported.weights)
    theirs = keras_outputs(model, imported.net, x)
    assert sorted(ours) == sorted(theirs)
    return max(max_diff(ours[k], theirs[k]) for k in ours)


def summary_facts(net) -> tuple:
    """What Keras's summary shows, from spec2net's model: layers (name, class, output shapes), counts."""
    rows = [(layer.name, layer.type, [(None, *t.type.shape) for t in layer.nodes[0].outputs])
            for layer in net.ir.layers]
    return rows, net.ir.count_params()


def keras_summary_facts(keras, model) -> tuple:
    rows = [(layer.name, type(layer).__name__, [tuple(t.shape) for t in layer._inbound_nodes[0].output_tensors])
            for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    trainable = int(sum(np.prod(v.shape) for v in model.trainable_weights))
    frozen = int(sum(np.prod(v.shape) for v in model.non_trainable_weights))
    return rows, (trainable, frozen)


