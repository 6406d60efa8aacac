"""Finite-difference checks (float64) of the NumPy trainer's gradients: every registered layer's
samples, activation and loss (from the registry), the shared masked recurrent cases, and the
scenarios that are not a layer sample (dropout masks in a recurrence, returned states, several
outputs, regularizers)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from numpy_keras_helpers import MASKED, TOKENS, chain_spec, spec_value
from registry_samples import layer_samples, random_targets
from spec2net.backends import numpy as nb
from spec2net.backends.numpy.backprop import loss_and_grads

import spec2net
from spec2net.registry import canonical, canonical_layers

SEQ = "input x: float32[4, 3]"
COMPILE = "    compile {{ optimizer = sgd; {extra}loss = {loss} }}\n}}\n"
STEPS = 3  # the length of a `?` dimension in the data


def _sample_spec(layer: str, args: dict, inputs: list) -> str:
    """The sample's layer on its inputs, each float input through a Dense first (so that a layer
    without weights still sends its gradient somewhere checked); every output gets mse."""
    defn = canonical_layers()[layer]
    lines, fed = ["model m {"], []
    for i, (dtype, shape) in enumerate(inputs):
        lines.append(f"    input x{i}: {dtype}[{', '.join('?' if d is None else str(d) for d in shape)}]")
        if dtype.startswith("float"):
            lines.append(f"    p{i} = Dense({shape[-1]})(x{i})")
        fed.append(f"p{i}" if dtype.startswith("float") else f"x{i}")
    kw = ", ".join(f"{k}={spec_value(v)}" for k, v in args.items())
    filled = {**{a.name: a.default for a in defn.args}, **args}
    outs = [f"o{k}" for k in range(defn.n_outputs(filled))]
    call = f"{defn.auto_name}([{', '.join(fed)}]{', ' + kw if kw else ''})" if defn.merge else f"{layer}({kw})({fed[0]})"
    lines += [f"    {', '.join(outs)} = {call}"] + [f"    output {o}" for o in outs]
    return "\n".join(lines) + "\n" + COMPILE.format(extra="", loss="mse")


def _spec(body: str, loss: str, outputs=("y",)) -> str:
    extra = "loss_weights = {y: 0.7, z: 1.5}; " if len(outputs) > 1 else ""
    outs = "".join(f"    output {o}\n" for o in outputs)
    return f"model m {{\n    {body}\n{outs}" + COMPILE.format(extra=extra, loss=loss)


def _with_compile(spec: str, loss: str) -> str:
    return spec.rsplit("}", 1)[0] + COMPILE.format(extra="", loss=loss)


def _loss_cases():
    """Each registered loss on the activation whose logits Keras reads (or linear), from logits
    where it takes them, and a class loss on sigmoid probabilities (the clipped path)."""
    out = []
    for name, entry in canonical("loss").items():
        takes_logits = any(a.name == "from_logits" for a in entry.args)
        pairs = [(name, entry.logits_of or ("softplus" if entry.positive else "linear"))]
        pairs += [(f"{name}(from_logits=true)", "linear")] if takes_logits else []
        pairs += [(name, "sigmoid")] if entry.class_axis else []
        out += [(f"loss-{loss}-{act}", _spec(f"input x: float32[3]\n    y = Dense(4, activation={act})(x)", loss), None)
                for loss, act in pairs]
    return out


# (id, spec, fixed inputs or None)
CASES = [(f"layer-{p.id}", _sample_spec(*p.values), None) for p in layer_samples()]
CASES += [(f"dense-{a}", _spec(f"input x: float32[3]\n    y = Dense(4, activation={a})(x)", "mse"), None)
          for a in canonical("activation")]
CASES += [(f"masked-{name}", _with_compile(chain_spec([("int32", (6,))], chain), "mse"), {"x0": TOKENS})
          for name, chain in MASKED.items()]
CASES += _loss_cases()
CASES += [(case, _spec(body, loss, outputs), None) for case, body, loss, outputs in [
    ("LSTM-states-out", SEQ + "\n    q, h, c = LSTM(3, return_state=true)(x)\n    y = concatenate([q, h, c])", "mse",
     ("y",)),
    ("GRU-states-out", SEQ + "\n    q, h = GRU(3, return_state=true, reset_after=false)(x)\n"
                             "    y = concatenate([q, h])", "mse", ("y",)),
    ("rnn-dropout", SEQ + "\n    y = LSTM(3, dropout=0.3, recurrent_dropout=0.2)(x)", "mse", ("y",)),
    ("gru-dropout", SEQ + "\n    y = GRU(3, dropout=0.3, recurrent_dropout=0.2, reset_after=false)(x)", "mse", ("y",)),
    # activations without a derivative from their output: the BPTT recomputes the pre-activations
    ("lstm-activations", SEQ + "\n    y = LSTM(3, activation=softsign, recurrent_activation=hard_sigmoid)(x)", "mse",
     ("y",)),
    ("gru-activations", SEQ + "\n    y = GRU(3, activation=elu, recurrent_activation=hard_sigmoid)(x)", "mse", ("y",)),
    ("gru-activations-before", SEQ + "\n    y = GRU(3, activation=softsign, recurrent_activation=softplus, "
                                     "reset_after=false, recurrent_dropout=0.2)(x)", "mse", ("y",)),
    ("rnn-activation", SEQ + "\n    y = SimpleRNN(3, activation=elu)(x)", "mse", ("y",)),
    ("reg-kernel-bias", ("input x: float32[3]\n    y = Dense(4, kernel_regularizer=l1(0.01), "
                        "bias_regularizer=l2(0.02), bias_initializer=ones)(x)"), "mse", ("y",)),
    ("reg-l1l2-activity", ("input x: float32[3]\n    y = Dense(4, kernel_regularizer=l1_l2(l1=0.01, l2=0.03), "
                          "activity_regularizer=l2(0.05))(x)"), "mse", ("y",)),
    ("reg-rnn", SEQ + "\n    y = LSTM(2, recurrent_regularizer=l2(0.1), kernel_regularizer=l1(0.01))(x)", "mse",
     ("y",)),
    ("reg-embedding", ("input t: int32[5]\n    e = Embedding(6, 3, embeddings_regularizer=l2(0.1))(t)\n"
                      "    y = Dense(1)(e)"), "mse", ("y",)),
    ("two-outputs", ("input x: float32[3]\n    h = Dense(4, activation=tanh)(x)\n    z = Dense(2)(h)\n"
                    "    y = Dense(3, activation=softmax)(h)"), "{y: categorical_crossentropy, z: mse}", ("y", "z")),
]]


# Embedding(mask_zero) into BatchNormalization: the moments skip the masked steps, whose outputs
# are still normalized by them. Three ids, so every embedding entry (the padding row too) is
# checked: into an LSTM the padding row gets no gradient; through Flatten (no mask) it does.
PAD_TOKENS = np.array([[1, 2, 1, 0, 0, 0], [0, 0, 2, 1, 2, 1], [2, 0, 0, 1, 0, 2], [0, 0, 0, 0, 0, 0]], np.int32)
MASKED_BN = "input t: int32[6]\n    e = Embedding(3, 2, mask_zero=true)(t)\n    h = BatchNorm(momentum=0.8)(e)\n"
CASES += [("masked-BN-LSTM", _spec(MASKED_BN + "    y = LSTM(2)(h)", "mse"), {"t": PAD_TOKENS}),
          ("masked-BN-Flatten", _spec(MASKED_BN + "    y = Dense(2)(Flatten()(h))", "mse"), {"t": PAD_TOKENS})]


def _inputs(model, rng, batch=4):
    inputs = {}
    for t in model.inputs:
        shape = (batch, *(STEPS if d is None else d for d in t.type.shape))
        if t.type.is_float:
            inputs[t.input_name] = rng.normal(size=shape)
        else:
            ids = rng.integers(1, 6, size=shape)
            ids[:, :2] = 0  # leading padding: masked steps at the start
            ids[1] = rng.integers(1, 6, size=shape[1:])  # one unpadded row
            inputs[t.input_name] = ids.astype(np.int32)
    return inputs


def test_every_registered_layer_activation_and_loss_is_checked():
    ids = " ".join(c[0] for c in CASES)
    assert all(f"layer-{name}-" in ids for name in canonical_layers())
    assert all(f"dense-{a}" in ids for a in canonical("activation"))
    assert all(f"loss-{name}" in ids for name in canonical("loss"))


@pytest.mark.parametrize("case,spec,fixed", CASES, ids=[c[0] for c in CASES])
def test_gradients_match_finite_differences(case, spec, fixed):
    model = spec2net.loads(spec).ir
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    weights = {k: v.astype(np.float64) + rng.normal(scale=0.1, size=v.shape) for k, v in
               nb.init_weights(model, seed=3).items()}
    inputs = fixed if fixed is not None else _inputs(model, rng)
    targets = random_targets(model, nb.run(model, inputs, weights, dtype=np.float64), rng)

    def f(w):
        return loss_and_grads(model, w, inputs, targets, seed=11, dtype=np.float64)[0]

    _, _, grads, _, _ = loss_and_grads(model, weights, inputs, targets, seed=11, dtype=np.float64)
    assert grads, "no trainable weights got a gradient"
    eps, checked = 1e-6, 0
    for key, g in grads.items():
        flat = weights[key].reshape(-1)
        for i in rng.choice(flat.size, size=min(flat.size, 12), replace=False):
            old = flat[i]
            flat[i] = old + eps
            up = f(weights)
            flat[i] = old - eps
            down = f(weights)
            flat[i] = old
            numeric = (up - down) / (2 * eps)
            analytic = np.asarray(g).reshape(-1)[i]
            assert abs(numeric - analytic) <= 1e-6 + 1e-4 * abs(numeric), \
                f"{case}: d loss / d {key}[{i}]: analytic {analytic:.8g}, numeric {numeric:.8g}"
            checked += 1
    assert checked > 0
