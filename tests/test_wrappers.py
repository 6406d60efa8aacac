"""Bidirectional, TimeDistributed and a recurrent call's ``initial_state`` against real Keras:
every registry sample and each initial_state case through NumPy and the generated torch module
from one weights file (inference and training mode), masks through Bidirectional, Keras's names,
weights keys and parameter counts, gradients by finite differences, two epochs of training
against Keras and torch, and the refusals as located diagnostics."""

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

TYPES = ("Bidirectional", "TimeDistributed")
TOL = 1e-5
DIFFS = DiffTable()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    DIFFS.report(request.config, "wrappers and initial_state, worst |diff| vs Keras:")


def _torch_run(torch, net, path, x, training):
    ns = {"__name__": "generated"}
    exec(compile(net.build("torch"), "<generated torch>", "exec"), ns)
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


def _compare(keras, torch, net, kmodel, x, tmp_path, group, modes=(False, True), tol=TOL):
    """NumPy and the torch module against ``kmodel``, all from one weights file."""
    from keras_twins import set_weights

    path = tmp_path / "w.npz"
    spec2net.save_weights(path, random_weights(net.ir))
    weights = spec2net.load_weights(path)
    set_weights(kmodel, weights)
    for training in modes:
        want = kmodel([x[n] for n in net.input_names], training=training)
        want = [np.asarray(w) for w in (want if isinstance(want, (list, tuple)) else [want])]
        mode = " (training)" if training else ""
        ours = nb.run(net.ir, x, weights, training=training, seed=0)
        _check(f"{group} NumPy{mode}", [ours[n] for n in net.output_names], want, tol)
        _check(f"{group} torch{mode}", _torch_run(torch, net, path, x, training), want, tol)


def _filled(layer, args):
    return {**{a.name: a.default for a in LAYERS[layer].args}, **args}


@pytest.mark.parametrize("layer, args, inputs", layer_samples(types=set(TYPES)))
def test_sample_numpy_and_torch_equal_keras_from_one_weights_file(keras, torch, layer, args, inputs, tmp_path):
    net = spec2net.loads(chain_spec(inputs, [(layer, args)]))
    kmodel = keras_chain(keras, inputs, [(layer, args)])
    modes = (False, True) if deterministic(LAYERS[layer], net.ir.layers[0].args) else (False,)
    _compare(keras, torch, net, kmodel, random_inputs(net.ir), tmp_path, layer, modes, LAYERS[layer].tolerance)


# -- initial_state ------------------------------------------------------------------------------
# (spec body, the same model in Keras, built from keras.layers as a user writes it)
def _seq2seq(L, keras, cls, n_states, go_backwards=False):
    enc, dec = keras.Input((5, 3), name="enc"), keras.Input((4, 2), name="dec")
    states = getattr(L, cls)(4, return_state=True)(enc)[1:]
    out = getattr(L, cls)(4, return_sequences=True, go_backwards=go_backwards)(dec, initial_state=list(states))
    return keras.Model([enc, dec], L.Dense(2)(out))


def _masked(L, keras):
    ids, h = keras.Input((6,), dtype="int32", name="ids"), keras.Input((3,), name="h")
    e = L.Embedding(10, 2, mask_zero=True)(ids)
    return keras.Model([ids, h], L.GRU(3, return_sequences=True)(e, initial_state=[L.Dense(3)(h)]))


def _bidirectional(L, keras):
    x, h = keras.Input((5, 3), name="x"), keras.Input((2,), name="h")
    states = [L.Dense(3, activation="tanh")(h) for _ in range(4)]
    out = L.Bidirectional(L.LSTM(3, return_sequences=True, return_state=True))(x, initial_state=states)
    return keras.Model([x, h], list(out))


SEQ2SEQ = """input enc: float32[5, 3]
    input dec: float32[4, 2]
    _o, {states} = {cls}(4, return_state=true)(enc)
    s = {cls}(4, return_sequences=true{back})(dec, initial_state=[{states}])
    output y = Dense(2)(s)"""
INIT_CASES = {
    "LSTM": (SEQ2SEQ.format(cls="LSTM", states="h, c", back=""), lambda L, k: _seq2seq(L, k, "LSTM", 2)),
    "GRU-go-backwards": (SEQ2SEQ.format(cls="GRU", states="h", back=", go_backwards=true"),
                         lambda L, k: _seq2seq(L, k, "GRU", 1, True)),
    "SimpleRNN": (SEQ2SEQ.format(cls="SimpleRNN", states="h", back=""), lambda L, k: _seq2seq(L, k, "SimpleRNN", 1)),
    # Keras 3.15 ignores the Embedding's mask once initial_state is given (and the spec warns)
    "masked-GRU": ("""input ids: int32[6]
    input h: float32[3]
    e = Embedding(10, 2, mask_zero=true)(ids)
    output y = GRU(3, return_sequences=true)(e, initial_state=[Dense(3)(h)])""", _masked),
    "Bidirectional-4-states": ("""input x: float32[5, 3]
    input h: float32[2]
    s1 = Dense(3, activation=tanh)(h)
    s2 = Dense(3, activation=tanh)(h)
    s3 = Dense(3, activation=tanh)(h)
    s4 = Dense(3, activation=tanh)(h)
    y, fh, fc, bh, bc = Bidirectional(LSTM(3, return_sequences=true, return_state=true))(x, initial_state=[s1, s2, s3, s4])
    output y
    output fh
    output fc
    output bh
    output bc""", _bidirectional),
}


def _ids(net, x):
    if "ids" in x:  # padding at the end of one row and the start of another
        x["ids"][0, 3:] = 0
        x["ids"][1, :2] = 0
    return x


@pytest.mark.parametrize("case", list(INIT_CASES))
def test_initial_state_equals_keras(keras, torch, case, tmp_path):
    body, build = INIT_CASES[case]
    net = spec2net.loads(f"model m {{\n    {body}\n}}")
    keras.backend.clear_session(free_memory=False)
    kmodel = build(keras.layers, keras)
    x = _ids(net, random_inputs(net.ir, vocab=10))
    _compare(keras, torch, net, kmodel, x, tmp_path, f"initial_state {case}", tol=1e-4)


def test_initial_state_on_a_masked_input_warns_at_the_call():
    from spec2net.loader import check_text

    _, diags = check_text(f"model m {{\n    {INIT_CASES['masked-GRU'][0]}\n}}", "<string>", None)
    (w,) = diags
    assert (w.severity, w.code) == ("warning", "mask-ignored") and "ignores its input's mask" in w.message
    line = INIT_CASES["masked-GRU"][0].splitlines()[-1]
    assert (w.span.line, w.span.col) == (5, line.index("initial_state") + 1)  # at the keyword


# -- masks through Bidirectional ----------------------------------------------------------------
MASK_CASES = {
    "LSTM-sequences-concat": {"layer": ("LSTM", {"units": 3, "return_sequences": True})},
    "GRU-last-sum": {"layer": ("GRU", {"units": 3}), "merge_mode": "sum"},
    "SimpleRNN-sequences-none": {"layer": ("SimpleRNN", {"units": 2, "return_sequences": True}), "merge_mode": None},
    "LSTM-states-mul": {"layer": ("LSTM", {"units": 2, "return_sequences": True, "return_state": True}),
                        "merge_mode": "mul"},
}


@pytest.mark.parametrize("case", list(MASK_CASES))
def test_masks_through_bidirectional_equal_keras(keras, torch, case, tmp_path):
    """Masked steps: zeros in both halves of a returned sequence, states held; then a
    TimeDistributed(Dense) and a masked mean (through GlobalAveragePooling1D) keep the mask."""
    from spec2net.registry.wrappers import Inner

    spec_args = dict(MASK_CASES[case])
    inner_type, inner_args = spec_args.pop("layer")
    args = {"layer": Inner(inner_type, tuple(inner_args.items())), **spec_args}
    chain = [("Embedding", {"input_dim": 10, "output_dim": 3, "mask_zero": True}), ("Bidirectional", args)]
    inputs = [("int32", (6,))]
    net = spec2net.loads(chain_spec(inputs, chain))
    kmodel = keras_chain(keras, inputs, chain)
    x = random_inputs(net.ir, vocab=10)
    x["x0"][0, 3:], x["x0"][1, :2], x["x0"][2, :] = 0, 0, 0  # post-, pre- and fully padded rows
    _compare(keras, torch, net, kmodel, x, tmp_path, f"masked {case}", tol=1e-4)


# -- names, weights keys and counts ---------------------------------------------------------------
NAMES = """model names {
    input x: float32[5, 3]
    a = Bidirectional(LSTM(4, return_sequences=true))(x)
    b = LSTM(2)(x)
    c = Bidirectional(GRU(3, name="encoder"), backward_layer=GRU(3, go_backwards=true), merge_mode="ave")(a)
    d = TimeDistributed(Dense(2))(a)
    e = Bidirectional(SimpleRNN(2, return_sequences=true), merge_mode=none)(d)
    output y = concatenate([b, c, Dense(1)(GlobalAveragePooling1D()(d))])
    output z = add(e)
}"""


def _names_twin(keras):
    L = keras.layers
    keras.backend.clear_session(free_memory=False)
    x = keras.Input((5, 3), name="x")
    a = L.Bidirectional(L.LSTM(4, return_sequences=True))(x)
    b = L.LSTM(2)(x)
    c = L.Bidirectional(L.GRU(3, name="encoder"), backward_layer=L.GRU(3, go_backwards=True), merge_mode="ave")(a)
    d = L.TimeDistributed(L.Dense(2))(a)
    e = L.Bidirectional(L.SimpleRNN(2, return_sequences=True), merge_mode=None)(d)
    y = L.Concatenate()([b, c, L.Dense(1)(L.GlobalAveragePooling1D()(d))])
    return keras.Model(x, {"y": y, "z": L.Add()(list(e))})


def test_names_weights_keys_and_counts_are_keras(keras):
    from keras_twins import get_weights

    net = spec2net.loads(NAMES)
    twin = _names_twin(keras)
    # the wrapped LSTM used up `lstm` and the wrapped Dense `dense`: then lstm_1, dense_1
    assert sorted(ly.name for ly in net.ir.layers) == sorted(ly.name for ly in twin.layers if ly.name != "x")
    ours = {k: p.shape for k, p in net.ir.weight_keys()}
    assert ours == {k: v.shape for k, v in get_weights(twin).items()}
    assert "bidirectional_1/forward_encoder/kernel" in ours and "bidirectional_1/gru/kernel" in ours
    assert "time_distributed/dense/kernel" in ours and "lstm_1/kernel" in ours
    assert sum(net.ir.count_params()) == twin.count_params()
    shapes = {ly.name: [tuple(t.shape) for t in ly.output] if isinstance(ly.output, list) else [tuple(ly.output.shape)]
              for ly in twin.layers}
    for node in net.ir.nodes:
        assert [(None, *t.type.shape) for t in node.outputs] == shapes[node.layer.name], node.layer.name


# -- gradients ------------------------------------------------------------------------------------
GRAD_SPECS = {
    "initial_state-through-the-encoder": INIT_CASES["LSTM"][0],
    "bidirectional-initial_state": INIT_CASES["Bidirectional-4-states"][0].replace(
        "    output fh\n    output fc\n    output bh\n    output bc", "    output fh"),
    "masked-bidirectional": """input ids: int32[6]
    e = Embedding(10, 2, mask_zero=true)(ids)
    s = Bidirectional(GRU(2, return_sequences=true, reset_after=false), merge_mode="mul")(e)
    output y = TimeDistributed(Dense(2))(s)""",
}


@pytest.mark.parametrize("case", list(GRAD_SPECS))
def test_gradients_by_finite_differences(case):
    """float64, every weight: BPTT through the wrapper and into the states' producers."""
    net = spec2net.loads(f"model m {{\n    {GRAD_SPECS[case]}\n    compile {{ optimizer = sgd; loss = mse }}\n}}")
    w = {k: v.astype(np.float64) for k, v in random_weights(net.ir).items()}
    x = _ids(net, random_inputs(net.ir, batch=2, vocab=10))
    x = {k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in x.items()}
    preds = nb.run(net.ir, x, w, dtype=np.float64)
    rng = np.random.default_rng(0)
    y = {n: rng.normal(size=preds[n].shape) for n in net.output_names}
    _, _, grads, _, _ = loss_and_grads(net.ir, w, x, y, dtype=np.float64)
    grads = {k: g.dense() if hasattr(g, "dense") else g for k, g in grads.items()}  # Embedding's rows
    for key in grads:
        for idx in list(np.ndindex(w[key].shape))[::7]:  # a spread of entries keeps it fast
            plus, minus = dict(w), dict(w)
            plus[key], minus[key] = w[key].copy(), w[key].copy()
            plus[key][idx] += 1e-6
            minus[key][idx] -= 1e-6
            fd = (loss_and_grads(net.ir, plus, x, y, dtype=np.float64)[0]
                  - loss_and_grads(net.ir, minus, x, y, dtype=np.float64)[0]) / 2e-6
            assert abs(fd - grads[key][idx]) <= 1e-6 * max(1.0, abs(fd)), (key, idx, fd, grads[key][idx])


# -- training --------------------------------------------------------------------------------------
TRAINING = {
    "bidirectional-text-classifier": """model m {
    input text: int32[6]
    x = Embedding(20, 4, mask_zero=true)(text)
    x = Bidirectional(LSTM(3, return_sequences=true))(x)
    x = Bidirectional(GRU(2), merge_mode="sum")(x)
    output y = Dense(1, activation=sigmoid)(x)
    compile { optimizer = adam(learning_rate=0.02); loss = binary_crossentropy }
}""",
    # unmasked: the torch module's one nn.LSTM / nn.GRU(bidirectional=True) per wrapper, initial states in
    "bidirectional-fused-with-states": """model m {
    input x: float32[5, 3]
    input h: float32[2]
    s = Dense(4, activation=tanh)(h)
    q = Dense(4, activation=tanh)(h)
    x1 = Bidirectional(LSTM(4, return_sequences=true))(x, initial_state=[s, q, q, s])
    output y = Bidirectional(GRU(2), merge_mode="ave")(x1) -> Dense(2)
    compile { optimizer = adam(learning_rate=0.02); loss = mse }
}""",
    "encoder-decoder": """model m {
    input enc: float32[5, 3]
    input dec: float32[4, 3]
    _o, h, c = LSTM(4, return_state=true)(enc)
    s = LSTM(4, return_sequences=true)(dec, initial_state=[h, c])
    output y = TimeDistributed(Dense(3, activation=softmax))(s)
    compile { optimizer = rmsprop(learning_rate=0.01); loss = categorical_crossentropy }
}""",
}


@pytest.mark.parametrize("case", list(TRAINING))
def test_two_epochs_of_training_match_keras_and_torch(keras, torch, case, tmp_path):
    net = spec2net.loads(TRAINING[case])
    start = nb.init_weights(net.ir, seed=2)
    data = _data(net.ir, np.random.default_rng(4))
    if case == "encoder-decoder":  # one-hot targets per step
        data["y"] = np.eye(3, dtype=np.float32)[np.random.default_rng(5).integers(0, 3, (len(data["y"]), 4))]
    ours, _ = fit(net.ir, data, start, epochs=2, batch_size=8, shuffle=False)
    assert max(float(np.max(np.abs(ours[k] - start[k]))) for k in ours) > 1e-3
    for name, theirs in (("Keras", keras_fit(keras, net, start, data, tmp_path)[0]),
                         ("torch", torch_fit(torch, net, start, data, tmp_path))):
        worst = max(float(np.max(np.abs(ours[k] - theirs[k]))) for k in ours)
        DIFFS.add(f"{case}: 2 epochs, weights vs {name}", worst)
        assert worst <= 1e-4, f"weights differ from {name}'s by {worst:.3g}"


# -- refusals --------------------------------------------------------------------------------------
REFUSALS = [
    ("LSTM(4)(s, initial_state=[h])", "shape", "LSTM takes 2 initial state tensor(s) (h, c), got 1", "h]"),
    ("GRU(3)(s, initial_state=[h])", "shape", "initial state h must have shape (None, 3), got (None, 4)", "h]"),
    ("GRU(4)(s, initial_state=3)", "not-tensor", "initial_state is a list of tensors", "3)"),
    ("GRU(4)(s, initial_sate=[h])", "unknown-arg", "did you mean 'initial_state'?", "initial_sate"),
    ("Bidirectional(LSTM(4))(s, initial_state=[h, h])", "shape", "takes 4 initial state tensor(s)", "h, h]"),
    ("Dense(4)(s, initial_state=[h])", "not-tensor", "applied to exactly one tensor", "Dense"),
    ("TimeDistributed(Dense(2))(m4)", "shape", "TimeDistributed cannot take a masked input", "m4"),
    ("Bidirectional(Dense(2))(s)", "arg-type", "Bidirectional wraps a recurrent layer", "Bidirectional"),
    ("Bidirectional(LSTM(2), backward_layer=LSTM(2))(s)", "arg-range", "run the other way", "Bidirectional"),
    ("Bidirectional(LSTM(2), merge_mode=\"max\")(s)", "arg-range", "\"concat\" or \"sum\"", "\"max\""),
    ("Bidirectional(s)(s)", "arg-type", "a recurrent layer written inline", "s)"),
    ("TimeDistributed(Dense(2))(h)", "shape", "needs an input of steps", "h"),
    ("TimeDistributed(Softmax())(Masking()(s))", "shape", "Softmax cannot take a masked input", "Masking"),
    ("TimeDistributed(BatchNormalization())(s)", "arg-type", "cannot wrap BatchNormalization", "TimeDistributed"),
]


@pytest.mark.parametrize("call, code, text, under", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_are_located_diagnostics(call, code, text, under):
    line = f"    output y = {call}"
    spec = ("model m {\n    input s: float32[5, 3]\n    input h: float32[4]\n    input q: float32[2, 3, 4]\n"
            "    m4 = Masking()(q)\n" + line + "\n}")
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.loads(spec)
    (d,) = [d for d in info.value.diagnostics if d.severity == "error"]
    assert d.code == code and text in d.message, d.message
    col = line.index(under, line.index("=") + 1)
    assert (d.span.line, d.span.col) == (6, col + 1), (d.span, d.message)


def test_a_wrapped_layer_is_not_applied_on_its_own():
    spec = ("model m {\n    input s: float32[5, 3]\n    inner = LSTM(2)\n    a = Bidirectional(inner)(s)\n"
            "    output y = concatenate([a, inner(s)])\n}")
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.loads(spec)
    (d,) = [d for d in info.value.diagnostics if d.severity == "error"]
    assert "wrapped by 'bidirectional'" in d.message and (d.span.line, d.span.col) == (5, 32)


def test_memory_estimate_counts_both_directions():
    """The budget sees a Bidirectional as its two recurrent layers: weights, outputs and the
    per-step gates and states that backprop through time keeps, for each direction."""
    from spec2net.budget import costs

    both = spec2net.loads("model m { input x: float32[5, 3]; output y = Bidirectional(LSTM(4, "
                          "return_sequences=true))(x) }").ir
    apart = spec2net.loads("model m {\n input x: float32[5, 3]\n a = LSTM(4, return_sequences=true)(x)\n"
                           " b = LSTM(4, return_sequences=true, go_backwards=true)(x)\n"
                           " output y = concatenate([a, b])\n}").ir
    for task in ("init", "run", "train"):
        (bi,) = costs(both, task, batch=8, fill=1)
        lstms = [c for c in costs(apart, task, batch=8, fill=1) if c.layer.type == "LSTM"]
        assert bi.total == sum(c.total for c in lstms) > 0, task
