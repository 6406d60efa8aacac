"""RepeatVector, Permute, Masking, SpatialDropout1D, ReLU, ELU, Softmax, PReLU and Dense(activation=none)
against real Keras: every registry sample through NumPy and the generated torch module from one
weights file (inference and training-mode forward), parameter counts and automatic names, masks
made by Masking and carried (or dropped) on to an LSTM, two epochs of training, and the refusals
as located diagnostics. (The registry-parametrized suites run these samples too; this file adds
the training-mode torch forward, the weights file, the masks and the refusals.)"""

from __future__ import annotations

import numpy as np
import pytest
from numpy_keras_helpers import DiffTable, chain_spec, keras_chain, max_diff, random_inputs, random_weights
from registry_samples import layer_samples
from spec2net.backends import numpy as nb
from spec2net.backends.numpy.backprop import loss_and_grads
from spec2net.backends.numpy.train import fit
from test_numpy_training import _data, keras_fit, torch_fit

import spec2net
from spec2net.registry import LAYERS, deterministic

TYPES = ("RepeatVector", "Permute", "Masking", "SpatialDropout1D", "ReLU", "ELU", "Softmax", "PReLU")
TOL = 1e-5
DIFFS = DiffTable()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    DIFFS.report(request.config, "simple layers, worst |diff| vs Keras:")


def _torch_module(net):
    ns = {"__name__": "generated"}
    exec(compile(net.build("torch"), "<generated torch>", "exec"), ns)
    return ns


def _torch_run(torch, ns, path, x, training):
    model = ns["build_model"](0)
    ns["load_weights"](model, path)
    model.train(training)
    with torch.no_grad():
        out = model(*[torch.as_tensor(x[n]) for n in ns["INPUT_NAMES"]])
    return [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]


def _check(group, got, want, tol=TOL):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        d = max_diff(g, w)
        DIFFS.add(group, d)
        assert d <= tol, f"{group}: max |diff| {d:.3g} > {tol}"


def _filled(layer, args):
    return {**{a.name: a.default for a in LAYERS[layer].args}, **args}


@pytest.mark.parametrize("layer, args, inputs", layer_samples(types=set(TYPES)))
def test_sample_numpy_and_torch_equal_keras_from_one_weights_file(keras, torch, layer, args, inputs, tmp_path):
    from keras_twins import set_weights

    net = spec2net.loads(chain_spec(inputs, [(layer, args)]))
    path = tmp_path / "w.npz"
    spec2net.save_weights(path, random_weights(net.ir))
    weights = spec2net.load_weights(path)
    x = random_inputs(net.ir)
    kmodel = keras_chain(keras, inputs, [(layer, args)])
    set_weights(kmodel, weights)
    ns = _torch_module(net)
    # training mode draws random numbers where a rate is above 0: compared for its shape only
    modes = (False, True) if deterministic(LAYERS[layer], _filled(layer, args)) else (False,)
    for training in modes:
        want = [np.asarray(kmodel([x["x0"]], training=training))]
        mode = " (training)" if training else ""
        _check(f"{layer} NumPy{mode}", [nb.run(net.ir, x, weights, training=training, seed=0)["o0"]], want)
        _check(f"{layer} torch{mode}", _torch_run(torch, ns, path, x, training), want)


@pytest.mark.parametrize("layer, args, inputs", layer_samples(types=set(TYPES)))
def test_parameter_counts_and_names_are_keras(keras, layer, args, inputs):
    """Two of each layer in one model: Keras's automatic names (``re_lu``, ``re_lu_1``) and counts."""
    spec = chain_spec(inputs, [(layer, args)])
    twice = spec.replace("    output o0 = h0_0", f"    h1 = {layer}({_kw(args)})(x0)\n    output o0 = h0_0\n"
                                                  "    output o1 = h1")
    net = spec2net.loads(twice)
    kmodel = keras_chain(keras, inputs, [(layer, args)])
    second = getattr(keras.layers, layer)(**args)
    second(kmodel.inputs[0])
    assert [ly.name for ly in net.ir.layers] == [kmodel.layers[1].name, second.name]
    counts = [sum(int(np.prod(p.shape)) for p in ly.params) for ly in net.ir.layers]
    assert counts == [kmodel.layers[1].count_params(), second.count_params()]


def _kw(args):
    from numpy_keras_helpers import spec_value

    return ", ".join(f"{k}={spec_value(v)}" for k, v in args.items())


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_spatial_dropout_drops_whole_channels_at_keras_rate(torch, backend):
    """Training mode: each (sample, channel) is kept at every step or at none, at rate 1 - rate,
    and kept values are scaled by 1 / (1 - rate): what Keras's noise shape (batch, 1, channels) does.
    (Keras's random stream cannot be matched, so this is checked for what it is, not against Keras.)"""
    net = spec2net.loads(chain_spec([("float32", (5, 40))], [("SpatialDropout1D", {"rate": 0.25})]))
    x = np.ones((50, 5, 40), np.float32)
    if backend == "numpy":
        y = nb.run(net.ir, {"x0": x}, {}, training=True, seed=3)["o0"]
        assert np.array_equal(nb.run(net.ir, {"x0": x}, {}, seed=3)["o0"], x)  # inference: the identity
    else:
        model = _torch_module(net)["build_model"](0)
        assert torch.equal(model.eval()(torch.as_tensor(x)), torch.as_tensor(x))
        y = model.train()(torch.as_tensor(x)).numpy()
    assert np.all((y == 0).all(axis=1) | (y == y[:, :1, :]).all(axis=1))  # one draw per channel
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((y[:, 0, :] == 0).mean() - 0.25) < 0.05


# Masking -> ... -> LSTM: post-, pre- and mid-padded rows and a fully padded one
MASKED_X = np.array([[[1, 2], [3, 4], [0, 0], [0, 0]], [[0, 0], [0.5, 1], [2, 0], [1, 1]],
                     [[1, 1], [0, 0], [0, 3], [0, 0]], [[0, 0], [0, 0], [0, 0], [0, 0]]], np.float32)
MASK_CHAINS = {
    "Masking-LSTM": [("Masking", {}), ("LSTM", {"units": 3, "return_sequences": True})],
    "value-0.1-GRU": [("Masking", {"mask_value": 0.1}), ("GRU", {"units": 3})],
    "through-ReLU-ELU-PReLU": [("Masking", {}), ("ReLU", {"negative_slope": 0.1}), ("ELU", {}),
                               ("PReLU", {}), ("SpatialDropout1D", {"rate": 0.3}), ("LSTM", {"units": 2})],
    "dropped-by-Permute": [("Masking", {}), ("Permute", {"dims": (2, 1)}), ("Permute", {"dims": (2, 1)}),
                           ("LSTM", {"units": 2})],
}


@pytest.mark.parametrize("name", list(MASK_CHAINS))
def test_masks_through_masking_equal_keras(keras, torch, name, tmp_path):
    from keras_twins import set_weights

    chain, inputs = MASK_CHAINS[name], [("float32", (4, 2))]
    x = {"x0": MASKED_X.copy()}
    if name == "value-0.1-GRU":  # the padding is 0.1 (in float32) on every feature; a lone one masks nothing
        x["x0"][(x["x0"] == 0).all(-1)] = 0.1
        x["x0"][0, 0, 0] = 0.1
    net = spec2net.loads(chain_spec(inputs, chain))
    path = tmp_path / "w.npz"
    spec2net.save_weights(path, random_weights(net.ir))
    weights = spec2net.load_weights(path)
    kmodel = keras_chain(keras, inputs, chain)
    set_weights(kmodel, weights)
    want = [np.asarray(kmodel([x["x0"]], training=False))]
    got = nb.run(net.ir, x, weights)["o0"]
    _check("masked " + name + " NumPy", [got], want, 1e-4)
    _check("masked " + name + " torch", _torch_run(torch, _torch_module(net), path, x, False), want, 1e-4)
    last = got if got.ndim == 2 else got[:, -1]
    # the fully padded row: the mask keeps the state at zero, unless a layer dropped the mask
    assert np.all(last[3] == 0) != (name == "dropped-by-Permute")


def test_masking_gradients_by_finite_differences():
    """float64: the masked steps send no gradient to the weights before Masking."""
    spec = chain_spec([("float32", (4, 2))], [("Dense", {"units": 2}), ("Masking", {"mask_value": 0.0}),
                                                ("PReLU", {}), ("LSTM", {"units": 2})])
    net = spec2net.loads(spec.rsplit("}", 1)[0] + "    compile { optimizer = sgd; loss = mse }\n}")
    w = {k: v.astype(np.float64) for k, v in random_weights(net.ir).items()}
    w["dense/bias"][:] = 0  # so that Dense keeps the all-zero steps at zero: masked
    x = {"x0": MASKED_X.astype(np.float64)}
    y = {"o0": np.random.default_rng(0).normal(size=(4, 2))}
    _, _, grads, _, _ = loss_and_grads(net.ir, w, x, y, dtype=np.float64)
    for key in ("dense/kernel", "p_re_lu/alpha", "lstm/kernel"):
        for idx in np.ndindex(w[key].shape):
            plus, minus = {k: v.copy() for k, v in w.items()}, {k: v.copy() for k, v in w.items()}
            plus[key][idx] += 1e-6
            minus[key][idx] -= 1e-6
            fd = (loss_and_grads(net.ir, plus, x, y, dtype=np.float64)[0]
                  - loss_and_grads(net.ir, minus, x, y, dtype=np.float64)[0]) / 2e-6
            assert abs(fd - grads[key][idx]) <= 1e-6 * max(1.0, abs(fd)), (key, idx, fd, grads[key][idx])


TRAINING = """model m {
    input x: float32[4, 2]
    h = Masking()(x)
    h = PReLU(alpha_initializer=constant(0.25), alpha_regularizer=l2(0.05))(h) -> SpatialDropout1D(0.0) -> ELU(alpha=0.5)
    h = LSTM(3)(h) -> RepeatVector(2) -> Permute((2, 1)) -> ReLU(max_value=2.0, negative_slope=0.1, threshold=0.1)
    output y = Flatten()(h) -> Dense(3, activation=none) -> Softmax()
    compile { optimizer = adam(learning_rate=0.02); loss = categorical_crossentropy }
}"""


def test_two_epochs_of_training_match_keras_and_torch(keras, torch, tmp_path):
    net = spec2net.loads(TRAINING)
    start = nb.init_weights(net.ir, seed=2)
    data = _data(net.ir, np.random.default_rng(4))
    data["x"][::3, 2:] = 0  # padded steps that Masking masks
    ours, _ = fit(net.ir, data, start, epochs=2, batch_size=8, shuffle=False)
    moved = max(float(np.max(np.abs(ours[k] - start[k]))) for k in ours)
    assert moved > 1e-3
    for name, theirs in (("Keras", keras_fit(keras, net, start, data, tmp_path)[0]),
                         ("torch", torch_fit(torch, net, start, data, tmp_path))):
        worst = max(float(np.max(np.abs(ours[k] - theirs[k]))) for k in ours)
        DIFFS.add(f"2 epochs, weights vs {name}", worst)
        assert worst <= 1e-4, f"weights differ from {name}'s by {worst:.3g}"


def test_dense_activation_none_is_linear(keras):
    net = spec2net.loads("model m { input x: float32[3]; output y = Dense(2, activation=none)(x) }")
    assert net.ir.layers[0].args["activation"].name == "linear"
    assert "activation" not in net.build("keras").split("layers.Dense(", 1)[1].split(")")[0]
    assert keras.activations.get(None) is keras.activations.linear
    act = spec2net.loads("model m { input x: float32[3]; output y = Activation(none)(x) }")
    assert act.ir.layers[0].args["activation"].name == "linear"


REFUSALS = [
    ("ReLU(negative_slope=-0.1)(s)", "arg-range", "expected a number >= 0", "-0.1"),
    ("ReLU(max_value=-1)(s)", "arg-range", "Received: max_value=-1", "-1"),
    ("ReLU(threshold=-2.0)(s)", "arg-range", "a ReLU layer takes no negative argument", "-2.0"),
    ("Permute((1, 3))(s)", "arg-range", "a permutation of 1..n", "1, 3"),
    ("Permute((1, 2, 3))(s)", "shape", "dims (1, 2, 3) order 3 axes but the input (None, 4, 3) has 2", "s"),
    ("RepeatVector(2)(s)", "shape", "needs a rank-1 input per sample (features)", "s"),
    ("RepeatVector(0)(v)", "arg-range", "positive integer", "0"),
    ("Masking()(v)", "shape", "Masking needs a sequence", "v"),
    ("SpatialDropout1D(0.5)(v)", "shape", "needs a rank-2 input per sample", "v"),
    ("SpatialDropout1D(1.0)(s)", "arg-range", "between 0 and 1", "1.0"),
    ("Softmax(axis=0)(s)", "shape", "axis 0 is the batch axis", "s"),
    ("Softmax(axis=[1, -2])(s)", "shape", "axis -2 is given twice", "s"),
    ("Softmax()(m)", "shape", "Softmax cannot take a masked input", "m"),
    ("PReLU(shared_axes=[0])(s)", "shape", "shared_axes count the per-sample axes from 1 to 2", "s"),
    ("PReLU()(q)", "shape", "needs a known size on axis 1", "q"),
]


@pytest.mark.parametrize("call, code, text, under", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_are_located_diagnostics(call, code, text, under):
    line = f"    output y = {call}"
    spec = ("model m {\n    input s: float32[4, 3]\n    input v: float32[3]\n    input q: float32[?, 3]\n"
            "    m = Masking()(s)\n" + line + "\n}")
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.loads(spec)
    (d,) = [d for d in info.value.diagnostics if d.severity == "error"]
    assert d.code == code and text in d.message, d.message
    col = line.rindex(under)
    assert (d.span.line, d.span.col) == (6, col + 1), (d.span, d.message)


SOFTMAX_OUTPUTS = {
    # saturated: probabilities below the 1e-7 clip, where only the logits give Keras's loss
    "saturated": ("input x: float32[4]", "Dense(3, kernel_initializer=random_normal(stddev=20.0))(x) -> Softmax()"),
    # over the steps, not the last axis: Keras's cross-entropy still takes log_softmax of the
    # kept logits over the last axis (bug for bug)
    "axis-1": ("input x: float32[3, 2]", "Dense(4)(x) -> Softmax(axis=1)"),
}


@pytest.mark.parametrize("case", list(SOFTMAX_OUTPUTS))
def test_softmax_output_gives_its_logits_to_the_cross_entropy(keras, torch, case, tmp_path):
    """Keras's Softmax layer keeps its input on its output (``_keras_logits``) and
    categorical_crossentropy reads it: the loss and weights after training match Keras's."""
    inputs, body = SOFTMAX_OUTPUTS[case]
    net = spec2net.loads(f"model m {{\n    {inputs}\n    output y = {body}\n"
                         "    compile { optimizer = sgd(learning_rate=0.1); loss = categorical_crossentropy }\n}")
    start = nb.init_weights(net.ir, seed=3)
    rng = np.random.default_rng(5)
    data = _data(net.ir, rng, n=16)
    data["y"] = np.eye(4 if case == "axis-1" else 3, dtype=np.float32)[rng.integers(0, 3, (16, 3)[:data["x"].ndim - 1])]
    ours, history = fit(net.ir, data, start, epochs=2, batch_size=8, shuffle=False)
    theirs, khist = keras_fit(keras, net, start, data, tmp_path)
    np.testing.assert_allclose(history["loss"], khist["loss"], rtol=1e-5)
    for name, other in (("Keras", theirs), ("torch", torch_fit(torch, net, start, data, tmp_path))):
        worst = max(float(np.max(np.abs(ours[k] - other[k]))) for k in ours)
        DIFFS.add(f"Softmax output {case}, weights vs {name}", worst)
        assert worst <= 1e-4, f"weights differ from {name}'s by {worst:.3g}"


def test_layers_named_like_maskings_operations_build_in_keras(keras):
    """Keras names the operations of Masking's mask `not_equal` and `any`, skipping only names it
    handed out: the module reserves the spec's, so Keras does not refuse the model."""
    net = spec2net.loads("""model m {
        input x: float32[4, 3]
        h = Masking()(x) -> Dense(3, name="any") -> Masking(name="not_equal")
        output y = LSTM(2)(h)
    }""")
    ns = {}
    exec(compile(net.build("keras"), "generated_keras.py", "exec"), ns)
    assert [layer.name for layer in ns["build_model"]().layers][1:] == ["masking", "any", "not_equal", "lstm"]
