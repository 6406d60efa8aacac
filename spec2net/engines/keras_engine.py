"""``--backend keras``: the spec's generated Keras module, run in-process, compiled as the spec
says and trained by Keras's own ``fit`` (its callbacks, its history), evaluated by ``evaluate``,
run by ``predict``. Batches come from a ``tf.data`` generator that indexes the arrays one batch
at a time (memory maps stay on disk) in the NumPy trainer's order."""

from __future__ import annotations

import contextlib
import math
import random

import numpy as np

from ..runtime.data import rows as data_rows
from . import common


def _keras():
    # tensorflow too: tf.data feeds every Keras backend
    return common.framework("keras", "tensorflow", needs="Keras 3 and TensorFlow", extra="keras")


def _device_scope(name: str | None):
    """``--device`` as Keras's device scope: cpu, or cuda[:N] as Keras's gpu:N."""
    from ..backends.numpy.train import TrainError

    if name is None:
        return contextlib.nullcontext()
    kind, _, index = name.partition(":")
    if kind not in ("cpu", "cuda") or (index and not index.isdigit()):
        raise TrainError(f"--device {name}: the Keras engine takes cpu, cuda or cuda:N")
    return _keras().device(f"{'gpu' if kind == 'cuda' else 'cpu'}:{index or 0}")


def module(net):
    """The generated Keras module of ``net``, run in-process (no file is written)."""
    _keras()
    return common.load_module(net.build("keras"), f"spec2net_keras_{net.name}")


def _model(net, mod, weights: dict, seed: int, compiled: bool):
    from ..backends.numpy.initializers import derive_seed

    # Keras seeds each Dropout's generator from Python's `random` when the layer is made: seeded
    # per run, and the process's generator restored after
    state = random.getstate()
    random.seed(derive_seed("keras", seed))
    try:
        model = mod.build_model()
    finally:
        random.setstate(state)
    for layer, variable, key in _variables(net, mod, model):
        variable.assign(np.asarray(weights[key], np.float32))
    return mod.compile_model(model) if compiled else model


def _variables(net, mod, model):
    """(layer, variable, weights-file key) for every weight the spec has (seed states left out)."""
    keys = {key for key, _ in net.ir.weight_keys()}
    return [(layer, v, mod._weight_key(layer, v)) for layer in model.layers for v in layer.weights
            if mod._weight_key(layer, v) in keys]


def _weights(net, mod, model) -> dict:
    keras = _keras()
    return {key: np.ascontiguousarray(keras.ops.convert_to_numpy(v.value), dtype=np.float32)
            for _, v, key in _variables(net, mod, model)}


def _dataset(net, inputs: dict, targets: dict | None, n: int, batch_size: int, order=None):
    """A tf.data dataset of (x, y) batches, or of x where ``targets`` is None: ``order()`` gives the
    sample order each time the dataset is iterated (an epoch), else the data's own order. The
    batch axis stays unknown, as in Keras's own array adapter (a partial last batch fits)."""
    import tensorflow as tf

    names = net.input_names
    single = len(names) == 1

    def pack(arrays: dict, rows):
        return {k: data_rows(arrays[k], rows) for k in arrays}

    def batches():
        sequence = order() if order is not None else None
        for start in range(0, n, batch_size):
            rows = slice(start, start + batch_size) if sequence is None else sequence[start:start + batch_size]
            x = pack(inputs, rows)
            x = x[names[0]] if single else x
            yield x if targets is None else (x, pack(targets, rows))

    spec = lambda a: tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype))
    x_spec = spec(inputs[names[0]]) if single else {k: spec(inputs[k]) for k in names}
    signature = x_spec if targets is None else (x_spec, {k: spec(v) for k, v in targets.items()})
    dataset = tf.data.Dataset.from_generator(batches, output_signature=signature)
    # the number of batches, known: Keras's progress and epoch ends need not find it by running out
    return dataset.apply(tf.data.experimental.assert_cardinality(math.ceil(n / batch_size)))


def _bridge(progress, steps: int, check: bool):
    """A Keras callback: the progress bar, the epoch for the shuffle, and divergence found."""
    keras = _keras()

    class Bridge(keras.callbacks.Callback):
        epoch, failure = 0, None

        def on_epoch_begin(self, epoch, logs=None):
            Bridge.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            logs = {k: float(v) for k, v in (logs or {}).items()}
            if progress is not None:
                progress(Bridge.epoch, batch + 1, steps, logs)
            if check and not math.isfinite(logs.get("loss", 0.0)) and Bridge.failure is None:
                Bridge.failure = (logs["loss"], Bridge.epoch + 1, batch + 1)
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if hasattr(progress, "epoch_end"):
                progress.epoch_end({k: float(v) for k, v in (logs or {}).items()})

    return Bridge()


def train(net, data: dict, weights: dict | None = None, epochs=None, batch_size=None, shuffle=None,
          validation_split=None, seed: int = 0, callback=None, max_memory=None, validation_data=None,
          keep_going: bool = False, device: str | None = None):
    """``Net.train`` with Keras's own ``fit``: ``(weights, history)`` from the same start weights
    and batches (the NumPy trainer's shuffle) as the NumPy trainer."""
    keras = _keras()
    fit = common.fit_settings(net, epochs, batch_size, shuffle, validation_split)
    inputs, targets, n, weights, val = common.training_data(net, data, weights, fit, seed, max_memory,
                                                            validation_data)
    if val is None and fit.validation_split:
        inputs, targets, n, val = common.split(inputs, targets, n, fit.validation_split)
    with _device_scope(device):
        mod = module(net)
        model = _model(net, mod, weights, seed, compiled=True)
        callbacks = list(mod.FIT.get("callbacks", []))
        check = not (keep_going or any(isinstance(c, keras.callbacks.TerminateOnNaN) for c in callbacks))
        bridge = _bridge(callback, math.ceil(n / fit.batch_size), check)
        orders = common.shuffle_order(seed)
        order = (lambda: orders(bridge.epoch, n)) if fit.shuffle else None
        validation = None if val is None else _dataset(net, *val, len(next(iter(val[0].values()))), fit.batch_size)
        result = model.fit(_dataset(net, inputs, targets, n, fit.batch_size, order), epochs=fit.epochs,
                           validation_data=validation, callbacks=[bridge, *callbacks], verbose=0,
                           shuffle=False)  # the dataset is in the NumPy trainer's order already
        trained = _weights(net, mod, model)
    if bridge.failure is not None:
        raise common.diverged(*bridge.failure)
    if check and not all(np.isfinite(w).all() for w in trained.values()):
        raise common.diverged(result.history["loss"][-1], len(result.history["loss"]), 0, "an updated weight")
    return trained, {k: [float(v) for v in values] for k, values in result.history.items()}


def evaluate(net, data: dict, weights: dict, batch_size: int = 32, max_memory=None, device=None) -> dict:
    """Keras's ``evaluate(..., return_dict=True)`` on the generated model."""
    inputs, targets, n = common.checked_data(net, data, weights, batch_size, max_memory)
    with _device_scope(device):
        mod = module(net)
        model = _model(net, mod, weights, 0, compiled=True)
        logs = model.evaluate(_dataset(net, inputs, targets, n, batch_size), verbose=0, return_dict=True)
    return {k: float(v) for k, v in logs.items()}


def predict(net, inputs: dict, weights: dict, batch_size: int = 32, max_memory=None, device=None) -> dict:
    """Keras's ``predict`` on the generated model: outputs by name."""
    inputs, _, n = common.checked_data(net, inputs, weights, batch_size, max_memory, targets=False)
    with _device_scope(device):
        mod = module(net)
        model = _model(net, mod, weights, 0, compiled=False)
        out = model.predict(_dataset(net, inputs, None, n, batch_size), verbose=0)
    if not isinstance(out, dict):  # several outputs: a list, in the spec's order (build_model's outputs)
        out = dict(zip(net.output_names, out if isinstance(out, (list, tuple)) else [out]))
    return {name: np.asarray(out[name]) for name in net.output_names}
