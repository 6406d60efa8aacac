"""Run every example's generated Keras module on the Keras backend this process was started with
and write what it computed to an .npz, which tests/test_keras_backends.py compares across backends.

    KERAS_BACKEND=jax python tests/keras_backend_run.py OUT.npz [STEM ...]

Keras fixes its backend when it is imported, so each backend needs its own process; one process
runs every example, since importing Keras and a backend costs seconds. Per example: the forward
outputs on the spec's own (nudged) weights, then the weights and losses after two epochs of
``fit`` with the module's FIT (without its validation split) on fixed data. The data keeps clear of two differences between the
backends that docs/keras.md ("Keras backends") describes, and the case ``repeated_ids`` shows
the first of them:
- token ids are distinct within the data (TensorFlow hands an Embedding's gradient to the
  optimizer per occurrence of an id, so Adam's squared gradients differ where an id repeats);
- a softmax over 10,000 features gets inputs scaled so it does not saturate (TensorFlow's
  crossentropy reads the logits behind it, JAX's and torch's clip the probability at 1e-7).
Dropout's masks come from each backend's own random generator, so fit runs with the Dropout
layers' rate set to 0. An example that fails records its error and the rest still run.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import keras
import numpy as np
from keras_helpers import by_name, example_targets, example_weights, load_module, positional, save_npz

import spec2net

ROOT = Path(__file__).resolve().parent.parent
RANDOM_LAYERS = ("Dropout", "SpatialDropout1D")  # whose training-time masks come from the backend's generator
# The one example whose size, not its kind, sets the run time: two bidirectional LSTMs over 200
# steps, run eagerly on TensorFlow, take half of all examples' time; 40 steps test the same model.
DEFINES = {"imdb_bilstm": {"maxlen": 40}}
REPEATED = """model repeated_ids {
    input ids: int32[6]
    e = Embedding(12, 4)(ids)
    output y = Dense(1)(Flatten()(e))
    compile { optimizer = adam(learning_rate=0.05); loss = mse }
}"""


def _skip_weight_initializers() -> None:
    """Every weight is set from the weights file right after the model is built, so drawing its
    initial value is wasted work, and on JAX costly: each initializer is compiled per shape (a
    second per LSTM for the orthogonal one). Weights start as zeros instead; other variables
    (a SeedGenerator's state) keep their own initial value."""
    variable = keras.Variable
    draw = variable._initialize_with_initializer

    def zeros_instead(self, initializer):
        if isinstance(initializer, keras.initializers.Initializer):
            initializer = keras.initializers.Zeros()
        return draw(self, initializer)

    variable._initialize_with_initializer = zeros_instead


def inputs(net, n: int, seed: int, distinct: bool) -> dict:
    """N(0, 1) floats (scaled by 10/sqrt(features) past 100 features) and token ids below the
    smallest Embedding's vocabulary: each id once in the data where ``distinct`` and the
    vocabulary allows it."""
    rng = np.random.default_rng(seed)
    vocab = min((layer.args["input_dim"] for layer in net.ir.layers if layer.type == "Embedding"), default=10)
    out = {}
    for t in net.ir.inputs:
        shape = (n, *(7 if d is None else d for d in t.type.shape))
        if t.type.is_float:
            scale = min(1.0, 10.0 / np.sqrt(shape[-1]))
            out[t.input_name] = (scale * rng.standard_normal(shape)).astype(np.float32)
        elif distinct and vocab >= np.prod(shape):
            out[t.input_name] = rng.permutation(vocab)[: np.prod(shape)].reshape(shape).astype(t.type.dtype)
        else:
            out[t.input_name] = rng.integers(0, vocab, shape).astype(t.type.dtype)
    return out


def run_example(stem: str, net, work: Path, distinct=True) -> dict:
    mod = load_module(net.build("keras"), work / f"{stem}_{keras.backend.backend()}.py", stem)
    path = save_npz(work / f"{stem}.npz", example_weights(net, seed=7))
    keras.utils.set_random_seed(0)
    keras.backend.clear_session(free_memory=False)
    model = mod.build_model()
    mod.load_weights(model, path)
    x = positional(inputs(net, 16, 4, distinct), net.input_names)
    if keras.backend.backend() == "jax":  # one compiled function instead of op by op (an RNN's scan is compiled per call)
        outputs = by_name(model.predict(x, batch_size=len(x[0] if isinstance(x, list) else x), verbose=0), net)
    else:  # no tf.function to trace for one batch
        outputs = by_name(model(x, training=False), net)
    outputs = {k: keras.ops.convert_to_numpy(v) for k, v in outputs.items()}
    out = {f"{stem}/forward/{k}": v for k, v in outputs.items()}
    if net.ir.compile is None:
        return out
    model = mod.compile_model(model)
    for layer in model.layers:
        if type(layer).__name__ in RANDOM_LAYERS:
            layer.rate = 0.0
    y = example_targets(net, outputs)
    # TensorFlow: tracing fit's tf.function costs more than two epochs of 16 samples run eagerly
    model.run_eagerly = keras.backend.backend() == "tensorflow"
    # no validation pass: it is Keras's evaluate, the forward compared above, and on JAX one more
    # function to compile per model
    fit = dict(getattr(mod, "FIT", {"batch_size": 8}), epochs=2, shuffle=False, callbacks=[], validation_split=0.0)
    history = model.fit(x, y, verbose=0, **fit).history
    out[f"{stem}/loss"] = np.asarray(history["loss"], np.float64)
    out.update({f"{stem}/fit/{mod._weight_key(layer, v)}": keras.ops.convert_to_numpy(v.value)
                for layer in model.layers for v in layer.weights})
    return out


def main(argv: list) -> int:
    target = Path(argv[0])
    _skip_weight_initializers()
    stems = argv[1:] or sorted(p.stem for p in (ROOT / "examples").glob("*.net"))
    work = target.parent / f"{target.stem}_modules"
    work.mkdir(parents=True, exist_ok=True)
    cases = [(stem, lambda s=stem: spec2net.load(ROOT / "examples" / f"{s}.net", defines=DEFINES.get(s)), True)
             for stem in stems]
    cases.append(("repeated_ids", lambda: spec2net.loads(REPEATED), False))
    arrays, errors, times = {}, [], []
    for stem, load, distinct in cases:
        start = time.process_time()
        try:
            arrays.update(run_example(stem, load(), work, distinct))
        except Exception:  # noqa: BLE001 -- recorded per example: one failure names itself, the rest run
            errors.append(f"{stem}\n{traceback.format_exc()}")
        times.append(f"{stem}\t{time.process_time() - start:.2f}")
    arrays["_errors"] = np.asarray(errors, dtype=str)
    arrays["_times"] = np.asarray(times, dtype=str)
    arrays["_backend"] = np.asarray(keras.backend.backend())
    with open(target, "wb") as f:
        np.savez(f, **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
