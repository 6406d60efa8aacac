"""Training parity: 2 epochs of the NumPy trainer (batch 8, no shuffle) against real Keras's
``fit`` from the same weights and data, for each optimizer, clipping variant and layer family.
The Keras model is the one ``spec2net build --backend keras`` writes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT
from spec2net.backends.numpy import init_weights
from spec2net.backends.numpy.train import fit

import spec2net

CASES = {
    "sgd-nesterov-l1l2": """model m {
        input x: float32[6]
        h = Dense(8, activation=relu, kernel_regularizer=l1(0.01), bias_regularizer=l2(0.02))(x)
        output y = Dense(2, kernel_regularizer=l1_l2(l1=0.001, l2=0.01))(h)
        compile { optimizer = sgd(learning_rate=0.05, momentum=0.9, nesterov=true); loss = mse }
    }""",
    "adam-clipnorm-batchnorm": """model m {
        input x: float32[6]
        h = Dense(8, use_bias=false)(x)
        h = BatchNormalization(momentum=0.8)(h)
        h = Activation(relu)(h)
        output y = Dense(1, activation=sigmoid)(h)
        compile { optimizer = adam(lr=0.01, clipnorm=0.5); loss = binary_crossentropy; metrics = [accuracy] }
    }""",
    "adamw-layernorm": """model m {
        input x: float32[6]
        h = Dense(8, activation=tanh)(x)
        h = LayerNormalization()(h)
        output y = Dense(3, activation=softmax)(h)
        compile { optimizer = adamw(learning_rate=0.01, weight_decay=0.05); loss = categorical_crossentropy }
    }""",
    "rmsprop-globalclip-lstm": """model m {
        input x: float32[5, 3]
        h = LSTM(4, return_sequences=true)(x)
        h = LSTM(3, go_backwards=true)(h)
        output y = Dense(1)(h)
        compile { optimizer = rmsprop(learning_rate=0.01, global_clipnorm=0.5); loss = mse; metrics = [mae] }
    }""",
    "rmsprop-centered-momentum-simplernn": """model m {
        input x: float32[5, 3]
        output y = SimpleRNN(4, recurrent_regularizer=l2(0.01))(x) -> Dense(2)
        compile { optimizer = rmsprop(learning_rate=0.01, centered=true, momentum=0.5); loss = mae }
    }""",
    "adagrad-clipvalue-gru-embedding": """model m {
        input t: int32[6]
        e = Embedding(20, 4, embeddings_regularizer=l2(0.001))(t)
        h = GRU(5)(e)
        output y = Dense(3, activation=softmax)(h)
        compile { optimizer = adagrad(learning_rate=0.1, clipvalue=0.05); loss = sparse_categorical_crossentropy
                  metrics = [accuracy] }
    }""",
    "adam-amsgrad-masked-gru": """model m {
        input t: int32[6]
        e = Embedding(20, 4, mask_zero=true)(t)
        h = GRU(5, reset_after=false, return_sequences=true)(e)
        output y = LSTM(3)(h) -> Dense(1, activation=sigmoid)
        compile { optimizer = adam(learning_rate=0.01, amsgrad=true); loss = binary_crossentropy }
    }""",
    # the padding steps are left out of BN's moments, and the LSTM skips them: the padding row
    # of the embedding gets no gradient in Keras, so Adam never moves it
    "adam-masked-batchnorm-lstm": """model m {
        input t: int32[7]
        e = Embedding(20, 4, mask_zero=true)(t)
        h = BatchNormalization(momentum=0.8)(e)
        h = LSTM(4)(h)
        output y = Dense(2)(h)
        compile { optimizer = adam(learning_rate=0.02); loss = mse }
    }""",
    "multi-output-loss-weights": (ROOT / "examples" / "multi_output.net").read_text(),
}


def _data(model, rng, n=32):
    data = {}
    for t in model.inputs:
        shape = (n, *t.type.shape)
        if t.type.is_float:
            data[t.input_name] = rng.normal(size=shape).astype(np.float32)
        else:
            ids = rng.integers(1, 20, size=shape)
            for row in range(n):  # some leading padding, of varying length
                ids[row, :row % 3] = 0
            data[t.input_name] = ids.astype(np.int32)
    for o in model.outputs:
        shape = (n, *o.tensor.type.shape)
        loss = model.compile.loss[o.name].name
        if loss == "sparse_categorical_crossentropy":
            data[o.name] = rng.integers(0, shape[-1], size=(n, 1)).astype(np.int32)
        elif loss == "categorical_crossentropy":
            data[o.name] = np.eye(shape[-1], dtype=np.float32)[rng.integers(0, shape[-1], size=n)]
        elif loss == "binary_crossentropy":
            data[o.name] = (rng.random(shape) > 0.5).astype(np.float32)
        else:
            data[o.name] = rng.normal(size=shape).astype(np.float32)
    return data


def keras_fit(keras, net, weights, data, tmp_path, epochs=2, batch_size=8, validation_split=0.0):
    ns = {}
    exec(compile(net.build("keras"), "generated_keras.py", "exec"), ns)
    model = ns["build_model"]()
    spec2net.save_weights(tmp_path / "start.npz", weights)
    ns["load_weights"](model, tmp_path / "start.npz")
    ns["compile_model"](model)
    x = [data[n] for n in net.input_names]
    y = {n: data[n] for n in net.output_names}
    hist = model.fit(x[0] if len(x) == 1 else x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0,
                     validation_split=validation_split)
    ns["save_weights"](model, tmp_path / "keras.npz")
    return spec2net.load_weights(tmp_path / "keras.npz"), hist.history


def torch_fit(torch, net, weights, data, tmp_path, epochs=2, batch_size=8):
    ns = {}
    exec(compile(net.build("torch"), "generated_torch.py", "exec"), ns)
    model = ns["build_model"]()
    spec2net.save_weights(tmp_path / "start.npz", weights)
    ns["load_weights"](model, tmp_path / "start.npz")
    x = {n: torch.as_tensor(data[n]) for n in net.input_names}
    y = {n: torch.as_tensor(data[n]) for n in net.output_names}
    ns["fit"](model, x, y, epochs=epochs, batch_size=batch_size, shuffle=False)
    ns["save_weights"](model, tmp_path / "torch.npz")
    return spec2net.load_weights(tmp_path / "torch.npz")


@pytest.mark.parametrize("case", list(CASES))
def test_two_epochs_match_the_generated_torch_fit(torch, case, tmp_path):
    net = spec2net.loads(CASES[case])
    start = init_weights(net.ir, seed=5)
    data = _data(net.ir, np.random.default_rng(7))
    ours, _ = fit(net.ir, data, start, epochs=2, batch_size=8, shuffle=False)
    theirs = torch_fit(torch, net, start, data, tmp_path)
    worst = max(float(np.max(np.abs(ours[k] - theirs[k]))) for k in ours)
    print(f"{case}: max |numpy - torch| weight diff {worst:.2e}")
    assert worst <= 1e-4, f"{case}: weights differ from the torch module's by {worst:.3g}"


@pytest.mark.parametrize("case", list(CASES))
def test_two_epochs_match_keras_fit(keras, case, tmp_path):
    net = spec2net.loads(CASES[case])
    rng = np.random.default_rng(7)
    start = init_weights(net.ir, seed=5)
    data = _data(net.ir, rng)
    ours, history = fit(net.ir, data, start, epochs=2, batch_size=8, shuffle=False)
    theirs, khist = keras_fit(keras, net, start, data, tmp_path)
    assert set(ours) == set(theirs)
    worst = max(float(np.max(np.abs(ours[k] - theirs[k]))) for k in ours)
    moved = max(float(np.max(np.abs(ours[k] - start[k]))) for k in ours)
    print(f"{case}: max |numpy - keras| weight diff {worst:.2e} (weights moved up to {moved:.2e}); "
          f"losses numpy {history['loss']} keras {khist['loss']}")
    assert moved > 1e-3
    assert worst <= 1e-4, f"{case}: weights differ from Keras's by {worst:.3g}"
    np.testing.assert_allclose(history["loss"], khist["loss"], atol=1e-5, rtol=0)


def test_history_with_validation_split_matches_keras(keras, tmp_path):
    """Per-epoch loss and accuracy, and their val_ twins from the last 25% of the data, as Keras logs them."""
    net = spec2net.loads(CASES["adam-clipnorm-batchnorm"])
    start = init_weights(net.ir, seed=1)
    data = _data(net.ir, np.random.default_rng(3), n=40)
    _, history = fit(net.ir, data, start, epochs=3, batch_size=8, shuffle=False, validation_split=0.25)
    _, khist = keras_fit(keras, net, start, data, tmp_path, epochs=3, validation_split=0.25)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(history[key], khist[key], atol=1e-5, rtol=0, err_msg=key)


def test_net_train_uses_the_fit_block_and_shuffles_deterministically():
    net = spec2net.loads(CASES["sgd-nesterov-l1l2"].replace("compile", "fit { epochs = 3; batch_size = 5 }\n compile"))
    data = _data(net.ir, np.random.default_rng(0), n=23)
    w0 = net.init_weights(seed=2)
    w1, h1 = net.train(data, w0, seed=4)
    w2, h2 = net.train(data, w0, seed=4)
    _, h3 = net.train(data, w0, seed=5)
    assert len(h1["loss"]) == 3
    assert all(np.array_equal(w1[k], w2[k]) for k in w1) and h1 == h2
    assert h3["loss"] != h1["loss"]  # another seed, another shuffle
    _, h_fixed = net.train(data, w0, shuffle=False, epochs=1)
    _, h_fixed2 = net.train(data, w0, shuffle=False, epochs=1, seed=9)
    assert h_fixed == h_fixed2  # without shuffle or dropout the seed changes nothing
