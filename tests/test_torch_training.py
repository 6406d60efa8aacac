"""Training parity: the generated torch ``fit`` against real Keras ``fit``.

From the same start weights and data (32 samples, batch 8, 2 epochs, no shuffle), every
weight, BatchNormalization's moving statistics included, and the per-epoch loss must land
within 1e-4 of Keras's. One case per optimizer and clipping mode, with regularizers,
BN, LN, LSTM, GRU, SimpleRNN, Embedding masks (into BN: masked moments; on an output: the
loss over the unmasked steps) and two-output models with loss_weights."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT
from numpy_keras_helpers import DiffTable, max_diff
from spec2net.backends import numpy as nb
from test_torch_backend import load_module

import spec2net

TOL = 1e-4
N, BATCH, EPOCHS = 32, 8, 2
DIFFS = DiffTable()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    DIFFS.report(request.config, "torch fit vs Keras fit (2 epochs), worst |diff| over all weights:")


CASES = {
    "sgd-nesterov+l1+BN": """model m {
        input x: float32[6]
        h = Dense(8, activation=tanh, kernel_regularizer=l1(0.01))(x)
        h = BatchNorm(momentum=0.9)(h)
        output y = Dense(1, activation=sigmoid)(h)
        compile { optimizer = sgd(learning_rate=0.05, momentum=0.9, nesterov=true); loss = binary_crossentropy }
    }""",
    "sgd-plain+bce-on-probabilities": """model m {
        input x: float32[6]
        output y = Dense(2, activation=hard_sigmoid, bias_regularizer=l2(0.05))(x)
        compile { optimizer = sgd(learning_rate=0.5); loss = binary_crossentropy }
    }""",
    "adam-clipnorm+LSTM+l2": """model m {
        input s: float32[5, 3]
        h = LSTM(6, kernel_regularizer=l2(0.01), recurrent_regularizer=l2(0.01))(s)
        output y = Dense(2)(h)
        compile { optimizer = adam(learning_rate=0.01, clipnorm=0.1); loss = mse }
    }""",
    "adamw+LN+softmax": """model m {
        input x: float32[6]
        h = Dense(8, activation=relu)(x)
        h = LayerNorm(epsilon=1e-5)(h)
        output y = Dense(3, activation=softmax)(h)
        compile { optimizer = adamw(learning_rate=0.01, weight_decay=0.1); loss = categorical_crossentropy }
    }""",
    "rmsprop-centered-momentum-global_clipnorm+GRU": """model m {
        input s: float32[5, 3]
        h = GRU(5, kernel_regularizer=l1_l2(l1=0.001, l2=0.01))(s)
        output y = Dense(3, activation=softmax)(h)
        compile {
            optimizer = rmsprop(learning_rate=0.01, momentum=0.5, centered=true, global_clipnorm=0.1)
            loss = sparse_categorical_crossentropy
        }
    }""",
    "adagrad-clipvalue+Embedding+SimpleRNN": """model m {
        input t: int32[6]
        e = Embedding(20, 4, embeddings_regularizer=l2(0.01))(t)
        h = SimpleRNN(5, bias_regularizer=l1_l2(l1=0.01, l2=0.01))(e)
        output y = Dense(1)(h)
        compile { optimizer = adagrad(learning_rate=0.1, clipvalue=0.01); loss = mae }
    }""",
    "adam-GRU-reset-before+masked-LSTM": """model m {
        input t: int32[7]
        e = Embedding(15, 4, mask_zero=true)(t)
        h = GRU(4, reset_after=false, return_sequences=true)(e)
        output y = LSTM(3, go_backwards=true)(h)
        compile { optimizer = adam(learning_rate=0.02, amsgrad=true); loss = mse }
    }""",
    "sgd-clipvalue+Embedding-rows+activity-regularizer": """model m {
        input t: int32[6]
        e = Embedding(10, 3)(t)
        h = Dense(5, activation=relu, activity_regularizer=l2(0.05))(Flatten()(e))
        output y = Dense(1)(h)
        compile { optimizer = sgd(learning_rate=0.1, momentum=0.5, clipvalue=0.02); loss = mse }
    }""",
    "rmsprop-clipnorm+Embedding-rows": """model m {
        input t: int32[6]
        e = Embedding(10, 3)(t)
        output y = Dense(2, activation=sigmoid)(Flatten()(e))
        compile { optimizer = rmsprop(learning_rate=0.05, clipnorm=0.05); loss = binary_crossentropy }
    }""",
    "adam-masked-BN+LSTM": """model m {
        input t: int32[7]
        e = Embedding(15, 4, mask_zero=true)(t)
        h = BatchNorm(momentum=0.8)(e)
        h = LSTM(4)(h)
        output y = Dense(2)(h)
        compile { optimizer = adam(learning_rate=0.02); loss = mse }
    }""",
    "sgd-masked-output-GRU-seq": """model m {
        input t: int32[7]
        e = Embedding(15, 4, mask_zero=true)(t)
        output y = GRU(3, return_sequences=true)(e)
        compile { optimizer = sgd(learning_rate=0.2, momentum=0.5); loss = mse }
    }""",
    "rmsprop-masked-BN+masked-softmax-output+unmasked-output": """model m {
        input t: int32[7]
        e = Embedding(15, 4, mask_zero=true)(t)
        h = BatchNorm(momentum=0.7, center=false)(e)
        seq = GRU(5, reset_after=false, return_sequences=true)(h)
        output tags = Dense(3, activation=softmax)(seq)
        output score = Dense(1, activation=sigmoid)(LSTM(3)(seq))
        compile {
            optimizer = rmsprop(learning_rate=0.01)
            loss = {tags: sparse_categorical_crossentropy, score: binary_crossentropy}
            loss_weights = {tags: 1.0, score: 0.5}
            metrics = [accuracy]
        }
    }""",
    "adagrad-masked-sigmoid-output": """model m {
        input t: int32[7]
        e = Embedding(15, 4, mask_zero=true)(t)
        output y = Dense(2, activation=sigmoid)(SimpleRNN(4, return_sequences=true)(e))
        compile { optimizer = adagrad(learning_rate=0.2); loss = binary_crossentropy; metrics = [accuracy] }
    }""",
}
EXAMPLE_CASES = ("multi_output", "normalized", "gru", "shared", "logistic_regression", "spam")  # no Dropout: its draws differ


def _data(net, seed=0):
    rng = np.random.default_rng(seed)
    x = {}
    for t in net.ir.inputs:
        shape = (N, *(5 if d is None else d for d in t.type.shape))
        if t.type.is_float:
            x[t.input_name] = rng.standard_normal(shape).astype(np.float32)
        else:
            vocab = min(layer.args["input_dim"] for layer in net.ir.layers if layer.type == "Embedding")
            ids = rng.integers(1, vocab, shape)
            ids[::3, :2] = 0  # padding, where a mask is on
            ids[1::4, -3:] = 0
            ids[-1] = 0  # one row padded throughout: Keras's masks leave it out of moments and losses
            x[t.input_name] = ids.astype(t.type.dtype)
    y = {}
    for o in net.ir.outputs:
        shape = (N, *o.tensor.type.shape)
        loss = net.ir.compile.loss[o.name].name
        if loss == "binary_crossentropy":
            y[o.name] = rng.integers(0, 2, shape).astype(np.float32)
        elif loss == "categorical_crossentropy":
            y[o.name] = np.eye(shape[-1], dtype=np.float32)[rng.integers(0, shape[-1], shape[:-1])]
        elif loss == "sparse_categorical_crossentropy":  # one class id per step of a sequence output
            y[o.name] = rng.integers(0, shape[-1], shape[:-1]).astype(np.int32)
        else:
            y[o.name] = rng.standard_normal(shape).astype(np.float32)
    return x, y


def _parity(case, net, history_tol=TOL):
    from keras_twins import get_weights, set_weights

    start = nb.init_weights(net.ir, 0)
    x, y = _data(net)
    kmod = load_module(net.build("keras"))
    kmodel = kmod["compile_model"](kmod["build_model"]())
    set_weights(kmodel, start)
    names = net.input_names
    kx = x[names[0]] if len(names) == 1 else x
    split = net.ir.fit["validation_split"]  # the spec's: both validate on the same last samples
    history = kmodel.fit(kx, y, epochs=EPOCHS, batch_size=BATCH, shuffle=False, verbose=0,
                         validation_split=split).history
    want = get_weights(kmodel)

    tmod = load_module(net.build("torch"))
    model = tmod["build_model"]()
    tmod["set_weights"](model, start)
    mine = tmod["fit"](model, x, y, epochs=EPOCHS, batch_size=BATCH, shuffle=False, validation_split=split)
    got = tmod["get_weights"](model)

    assert sorted(got) == sorted(want)
    worst = max(max_diff(got[k], want[k]) for k in want)
    moved = max(max_diff(want[k], start[k]) for k in want)
    assert moved > 10 * TOL, "training left the weights where they were: the case tests nothing"
    DIFFS.add(case, worst)
    for k in want:
        d = max_diff(got[k], want[k])
        assert d <= TOL, f"{k}: torch vs Keras after fit, max |diff| {d:.3g} > {TOL}"
    # Keras's history: loss, per-output losses, metrics, val_* of each, under Keras's own keys
    assert sorted(mine) == sorted(history), (sorted(mine), sorted(history))
    d = max(max_diff(mine[k], history[k]) for k in history)
    DIFFS.add(case + " (history)", d)
    assert d <= history_tol, f"history {mine} vs Keras {history}"
    # and Keras's evaluate on the trained model: loss, per-output losses, metrics
    keval = kmodel.evaluate(kx, y, batch_size=BATCH, verbose=0, return_dict=True)
    teval = tmod["evaluate"](model, x, y, batch_size=BATCH)
    assert sorted(teval) == sorted(keval)
    d = max(abs(teval[k] - keval[k]) for k in keval)
    DIFFS.add(case + " (evaluate)", d)
    assert d <= history_tol, f"evaluate {teval} vs Keras {keval}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_matches_keras(keras, torch, case):
    _parity(case, spec2net.loads(CASES[case]))


@pytest.mark.parametrize("stem", EXAMPLE_CASES)
def test_example_fit_matches_keras(keras, torch, stem):
    # the multi-output example (two losses, accuracy, loss weights) to Keras's history within 1e-5
    _parity(f"example {stem}", spec2net.load(ROOT / "examples" / f"{stem}.net"),
            1e-5 if stem == "multi_output" else TOL)


def test_train_step_and_compute_loss(torch):
    """compute_loss is the data loss plus the penalties; train_step returns it and steps once."""
    net = spec2net.loads(CASES["sgd-plain+bce-on-probabilities"])
    mod = load_module(net.build("torch"))
    model = mod["build_model"](0)
    x, y = _data(net)
    xt, yt = torch.as_tensor(x["x"]), torch.as_tensor(y["y"])
    model.eval()
    with torch.no_grad():
        out = model(xt)
        p = out.clamp(1e-7, 1 - 1e-7)
        bce = -(yt * p.log() + (1 - yt) * (1 - p).log()).mean()
        penalty = 0.05 * model.layers["dense"].bias.square().sum()
        assert torch.allclose(mod["compute_loss"](model, out, {"y": yt}), bce + penalty, atol=1e-6)
    opt = mod["make_optimizer"](model)
    before = model.layers["dense"].weight.detach().clone()
    loss = mod["train_step"](model, opt, [xt], [yt])
    assert torch.allclose(loss, bce + penalty, atol=1e-6)
    assert opt.iterations == 1 and not torch.equal(before, model.layers["dense"].weight)


def test_masked_output_loss_matches_keras(keras, torch):
    """compute_loss over a masked sequence output is Keras's evaluate loss: the mean over the
    unmasked steps only, and 0 for a batch that is padding throughout (divide_no_nan)."""
    from keras_twins import set_weights

    net = spec2net.loads(CASES["rmsprop-masked-BN+masked-softmax-output+unmasked-output"])
    start = nb.init_weights(net.ir, 0)
    x, y = _data(net)
    kmod = load_module(net.build("keras"))
    kmodel = kmod["compile_model"](kmod["build_model"]())
    set_weights(kmodel, start)
    mod = load_module(net.build("torch"))
    model = mod["build_model"]()
    mod["set_weights"](model, start)
    model.eval()
    padded = {"t": np.zeros_like(x["t"][:4])}
    for xs, ys in ((x, y), (padded, {k: v[:4] for k, v in y.items()})):
        want = kmodel.evaluate(xs["t"], ys, batch_size=len(xs["t"]), verbose=0, return_dict=True)
        with torch.no_grad():
            out = model(torch.as_tensor(xs["t"]))
            got = float(mod["compute_loss"](model, out, ys))
        assert abs(got - want["loss"]) <= TOL, (got, want)


VECTOR_TARGETS = """model v {
    input x: float32[4]
    output y = Dense(1, kernel_regularizer=l2(0.01))(x)
    compile { optimizer = sgd(learning_rate=0.1, momentum=0.5); loss = mse; metrics = [mae] }
}"""


def test_vector_targets_align_as_keras(keras, torch):
    """Targets of shape (n,) for an (n, 1) output: Keras aligns the ranks (squeeze_or_expand_to_same_rank);
    a broadcast would train on an (n, n) loss. compute_loss, evaluate, and fit with validation_data
    (history: loss, metric, val_*) equal Keras's."""
    from keras_twins import set_weights

    net = spec2net.loads(VECTOR_TARGETS)
    start = nb.init_weights(net.ir, 0)
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((N, 4)).astype(np.float32), rng.standard_normal(N).astype(np.float32)
    vx, vy = rng.standard_normal((12, 4)).astype(np.float32), rng.standard_normal(12).astype(np.float32)
    kmod = load_module(net.build("keras"))
    kmodel = kmod["compile_model"](kmod["build_model"]())
    set_weights(kmodel, start)
    mod = load_module(net.build("torch"))
    model = mod["build_model"]()
    mod["set_weights"](model, start)

    want = kmodel.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)
    got = mod["evaluate"](model, x, y, batch_size=BATCH)
    assert sorted(got) == sorted(want) and max(abs(got[k] - want[k]) for k in want) <= 1e-6, (got, want)
    model.eval()
    with torch.no_grad():
        out = model(torch.as_tensor(x))
        loss = float(mod["compute_loss"](model, out, [y]))
        broadcast = float(((torch.as_tensor(y) - out) ** 2).mean())  # (n, n): the old bug
    penalty = 0.01 * float(model.layers["dense"].weight.detach().square().sum())
    assert abs(loss - want["loss"]) <= 1e-6 and abs(broadcast + penalty - want["loss"]) > 1e-3

    history = kmodel.fit(x, y, epochs=EPOCHS, batch_size=BATCH, shuffle=False, verbose=0,
                         validation_data=(vx, vy)).history
    mine = mod["fit"](model, x, y, epochs=EPOCHS, batch_size=BATCH, shuffle=False, validation_data=(vx, vy))
    assert sorted(mine) == sorted(history)
    d = max(max_diff(mine[k], history[k]) for k in history)
    DIFFS.add("(n,) targets, validation_data (history)", d)
    assert d <= 1e-6, (mine, history)


def test_bad_targets_are_a_data_error(torch):
    """The data checks of spec2net.runtime.data run in the module's fit: one line naming the target."""
    net = spec2net.load(ROOT / "examples" / "multi_output.net")
    mod = load_module(net.build("torch"))
    x, y = _data(net)
    message = r"^validation_data: target 'topic': categorical_crossentropy needs one-hot"
    with pytest.raises(ValueError, match=message):
        mod["fit"](mod["build_model"](), x, y, epochs=1,
                   validation_data=(x, {"topic": y["topic"][:, :1], "score": y["score"]}))
