"""Finite-difference checks (float64) of the NumPy trainer's gradients: every layer,
activation, merge, loss and regularizer, with masks, states and go_backwards."""

from __future__ import annotations

import numpy as np
import pytest
from spec2net.backends.numpy import init_weights
from spec2net.backends.numpy.backprop import loss_and_grads

import spec2net
from spec2net.registry import canonical

ACTS = list(canonical("activation"))
SEQ = "input x: float32[4, 3]"
TOK = "input t: int32[5]\n    e = Embedding(6, 3, mask_zero=true)(t)"

# (id, body lines, loss): the body ends by binding `y`, the output.
CASES = [(f"dense-{a}", "input x: float32[3]\n    y = Dense(4, activation=" + a + ")(x)", "mse") for a in ACTS] + [
    ("dense-rank3", SEQ + "\n    y = Dense(2, activation=tanh)(x)", "mse"),
    ("embedding", "input t: int32[5]\n    e = Embedding(6, 3)(t)\n    y = Dense(2)(e)", "mse"),
    ("dropout", "input x: float32[6]\n    h = Dense(5)(x)\n    y = Dropout(0.4)(h)", "mse"),
    ("activation", "input x: float32[3]\n    h = Dense(4)(x)\n    y = Activation(gelu)(h)", "mse"),
    ("leaky", "input x: float32[3]\n    h = Dense(4)(x)\n    y = LeakyReLU(0.1)(h)", "mse"),
    ("flatten-reshape", SEQ + "\n    h = Flatten()(x)\n    h = Dense(6)(h)\n    y = Reshape((3, 2))(h)", "mse"),
    ("batchnorm", "input x: float32[4]\n    h = Dense(3)(x)\n    y = BatchNormalization(momentum=0.5)(h)", "mse"),
    ("batchnorm-axis1", SEQ + "\n    y = BatchNormalization(axis=1, center=false)(x)", "mse"),
    ("layernorm", SEQ + "\n    h = Dense(5)(x)\n    y = LayerNormalization(axis=[1, 2])(h)", "mse"),
    ("layernorm-unsorted", SEQ + "\n    h = Dense(5)(x)\n    y = LayerNormalization(axis=[-1, 1])(h)", "mse"),
    ("concatenate", ("input a: float32[3]\n    input b: float32[2]\n    h = Dense(2)(a)\n"
                    "    y = concatenate([h, b, a])"), "mse"),
] + [(f"merge-{m}", "input a: float32[3]\n    input b: float32[3]\n    h = Dense(3)(a)\n"
                    f"    y = {m}([h, b, a])" if m != "subtract" else
      "input a: float32[3]\n    input b: float32[3]\n    h = Dense(3)(a)\n    y = subtract([h, b])", "mse")
     for m in ("add", "subtract", "multiply", "average", "maximum", "minimum")]
for _rnn in ("SimpleRNN", "LSTM", "GRU"):
    CASES += [
        (f"{_rnn}-last", SEQ + f"\n    y = {_rnn}(3)(x)", "mse"),
        (f"{_rnn}-seq-back", SEQ + f"\n    y = {_rnn}(2, return_sequences=true, go_backwards=true)(x)", "mse"),
        (f"{_rnn}-state", SEQ + f"\n    s = {_rnn}(2, return_sequences=true, return_state=true, use_bias=false)"
                                f"\n    o = s(x)\n    y = Dense(2)(x)", "mse"),
        (f"{_rnn}-mask", TOK + f"\n    h = {_rnn}(2, return_sequences=true)(e)\n    y = {_rnn}(3)(h)", "mse"),
        (f"{_rnn}-mask-back", TOK + f"\n    y = {_rnn}(3, go_backwards=true, activation=relu)(e)", "mse"),
    ]
CASES += [
    ("LSTM-states-out", SEQ + "\n    q, h, c = LSTM(3, return_state=true)(x)\n    y = concatenate([q, h, c])", "mse"),
    ("GRU-states-out", SEQ + "\n    q, h = GRU(3, return_state=true, reset_after=false)(x)\n"
                             "    y = concatenate([q, h])", "mse"),
    ("rnn-dropout", SEQ + "\n    y = LSTM(3, dropout=0.3, recurrent_dropout=0.2)(x)", "mse"),
    ("gru-dropout", SEQ + "\n    y = GRU(3, dropout=0.3, recurrent_dropout=0.2, reset_after=false)(x)", "mse"),
    ("masked-seq-output", TOK + "\n    y = GRU(2, return_sequences=true)(e)", "mse"),
]
LOSSES = [("mae", "linear"), ("binary_crossentropy", "sigmoid"), ("binary_crossentropy(from_logits=true)", "linear"),
          ("categorical_crossentropy", "softmax"), ("categorical_crossentropy(from_logits=true)", "linear"),
          ("categorical_crossentropy", "sigmoid"), ("sparse_categorical_crossentropy", "softmax"),
          ("sparse_categorical_crossentropy(from_logits=true)", "linear"),
          ("sparse_categorical_crossentropy", "sigmoid")]
CASES += [(f"loss-{loss}-{act}", f"input x: float32[3]\n    y = Dense(4, activation={act})(x)", loss)
          for loss, act in LOSSES]
CASES += [
    ("reg-kernel-bias", ("input x: float32[3]\n    y = Dense(4, kernel_regularizer=l1(0.01), "
                        "bias_regularizer=l2(0.02), bias_initializer=ones)(x)"), "mse"),
    ("reg-l1l2-activity", ("input x: float32[3]\n    y = Dense(4, kernel_regularizer=l1_l2(l1=0.01, l2=0.03), "
                          "activity_regularizer=l2(0.05))(x)"), "mse"),
    ("reg-rnn", SEQ + "\n    y = LSTM(2, recurrent_regularizer=l2(0.1), kernel_regularizer=l1(0.01))(x)", "mse"),
    ("reg-embedding", ("input t: int32[5]\n    e = Embedding(6, 3, embeddings_regularizer=l2(0.1))(t)\n"
                      "    y = Dense(1)(e)"), "mse"),
    ("two-outputs", ("input x: float32[3]\n    h = Dense(4, activation=tanh)(x)\n    z = Dense(2)(h)\n"
                    "    y = Dense(3, activation=softmax)(h)"), "{y: categorical_crossentropy, z: mse}"),
]


def _spec(body: str, loss: str) -> str:
    out = "    output y"
    extra = "loss_weights = {y: 0.7, z: 1.5}; " if "z:" in loss else ""
    if "z:" in loss:
        out += "\n    output z"
    return f"model m {{\n    {body}\n{out}\n    compile {{ optimizer = sgd; {extra}loss = {loss} }}\n}}\n"


def _data(model, rng, batch=4):
    inputs = {}
    for t in model.inputs:
        shape = (batch, *t.type.shape)
        if t.type.is_float:
            inputs[t.input_name] = rng.normal(size=shape)
        else:
            ids = rng.integers(1, 6, size=shape)
            ids[:, :2] = 0  # leading padding: masked steps at the start
            ids[1, :] = rng.integers(1, 6, size=shape[1])  # one unpadded row
            inputs[t.input_name] = ids.astype(np.int32)
    targets = {}
    for o in model.outputs:
        shape = (batch, *o.tensor.type.shape)
        loss = model.compile.loss[o.name].name
        if loss == "sparse_categorical_crossentropy":
            targets[o.name] = rng.integers(0, shape[-1], size=(batch, 1))
        elif loss == "categorical_crossentropy":
            targets[o.name] = np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
        elif loss == "binary_crossentropy":
            targets[o.name] = (rng.random(shape) > 0.5).astype(np.float64)
        else:
            targets[o.name] = rng.normal(size=shape)
    return inputs, targets


@pytest.mark.parametrize("case,body,loss", CASES, ids=[c[0] for c in CASES])
def test_gradients_match_finite_differences(case, body, loss):
    net = spec2net.loads(_spec(body, loss))
    model = net.ir
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    weights = {k: v.astype(np.float64) + rng.normal(scale=0.1, size=v.shape) for k, v in
               init_weights(model, seed=3).items()}
    inputs, targets = _data(model, rng)

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
