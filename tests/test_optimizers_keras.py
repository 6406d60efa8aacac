"""Optimizers of language 0.2 (adadelta, adamax, nadam, lion, ftrl), every optimizer's weight decay
and EMA, and the learning-rate schedules, against real Keras 3: the NumPy optimizer after one step
and after several steps of the same gradients (within 1e-6), and each schedule's rate per step."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from spec2net.backends.numpy.optimizers import Optimizer
from spec2net.backends.numpy.schedules import schedule

from spec2net import ir
from spec2net.registry import REGISTRIES, canonical

SHAPES = {"a/kernel": (3, 4), "a/bias": (4,), "b/kernel": (4, 2)}
STEPS = 6


def ref(kind: str, name: str, **kw) -> ir.Ref:
    """A Ref with the registry's defaults filled, as the checker fills them."""
    entry = REGISTRIES[kind][name]
    args = {a.name: a.default for a in entry.args}
    args.update(kw)
    return ir.Ref(kind, entry.name, tuple(args.items()))


def keras_object(keras, r: ir.Ref):
    """The Keras optimizer or schedule a Ref stands for (arguments that are none left to Keras)."""
    module = keras.optimizers.schedules if r.kind == "schedule" else keras.optimizers
    kwargs = {k: keras_object(keras, v) if isinstance(v, ir.Ref) else list(v) if isinstance(v, tuple) else v
              for k, v in r.kwargs.items() if v is not None}
    return getattr(module, REGISTRIES[r.kind][r.name].keras_name)(**kwargs)


SCHEDULE_CASES = [
    ("exponential_decay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5}),
    ("exponential_decay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5, "staircase": True}),
    ("inverse_time_decay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.7}),
    ("inverse_time_decay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.7, "staircase": True}),
    ("piecewise_constant_decay", {"boundaries": (2, 5), "values": (0.1, 0.05, 0.01)}),
    ("polynomial_decay", {"initial_learning_rate": 0.1, "decay_steps": 7, "power": 2.0}),
    ("polynomial_decay", {"initial_learning_rate": 0.1, "decay_steps": 4, "end_learning_rate": 0.01, "cycle": True}),
    ("cosine_decay", {"initial_learning_rate": 0.1, "decay_steps": 9, "alpha": 0.1}),
    ("cosine_decay", {"initial_learning_rate": 0.01, "decay_steps": 8, "warmup_target": 0.1, "warmup_steps": 4}),
    ("cosine_decay_restarts", {"initial_learning_rate": 0.1, "first_decay_steps": 3}),
    ("cosine_decay_restarts", {"initial_learning_rate": 0.1, "first_decay_steps": 2, "t_mul": 1.0, "m_mul": 0.5,
                               "alpha": 0.2}),
    ("cosine_decay_restarts", {"initial_learning_rate": 0.1, "first_decay_steps": 3, "t_mul": 1.5, "m_mul": 0.8}),
]


def _ids(cases):
    return [f"{n}-{'-'.join(k for k in kw if k not in ('initial_learning_rate', 'decay_steps')) or 'default'}"
            for n, kw in cases]


@pytest.mark.parametrize("name,kw", SCHEDULE_CASES, ids=_ids(SCHEDULE_CASES))
def test_schedule_matches_keras(keras, name, kw):
    r = ref("schedule", name, **kw)
    theirs = keras_object(keras, r)
    ours = schedule(r)
    steps = range(40)  # past every boundary, period and decay end above
    want = np.array([float(theirs(keras.ops.convert_to_tensor(s, "int64"))) for s in steps])
    got = np.array([ours(s) for s in steps])
    assert len(set(np.round(want, 9))) > 2, "the schedule does not change the rate"
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


def test_every_schedule_is_compared():
    assert {name for name, _ in SCHEDULE_CASES} == set(canonical("schedule"))


def _schedule(i: int) -> ir.Ref:
    name, kw = SCHEDULE_CASES[i]
    return ref("schedule", name, **kw)


# (optimizer, its arguments): each new optimizer plain; every optimizer with weight decay, with EMA
# and with a schedule (the schedules in turn, the weight decay under one of them)
OPTIMIZER_CASES = [
    ("adadelta", {"learning_rate": 0.5}),  # the default 0.001 moves a weight by 1e-5 in 6 steps
    ("adadelta", {"learning_rate": 1.0, "rho": 0.9}),
    ("adamax", {"learning_rate": 0.05}),
    ("nadam", {"learning_rate": 0.05}),
    ("lion", {"learning_rate": 0.01, "beta_1": 0.8}),
    ("ftrl", {"learning_rate": 0.1}),
    ("ftrl", {"learning_rate": 0.1, "learning_rate_power": -0.3, "l1_regularization_strength": 0.01,
              "l2_regularization_strength": 0.1, "l2_shrinkage_regularization_strength": 0.05, "beta": 0.5}),
    ("sgd", {"momentum": 0.5, "weight_decay": 0.1}),
    ("adam", {"learning_rate": 0.1, "weight_decay": 0.1}),
    ("adamw", {"learning_rate": 0.1}),
    ("rmsprop", {"weight_decay": 0.2, "clipnorm": 0.5}),
    ("adagrad", {"learning_rate": 0.1, "weight_decay": 0.05}),
    ("adadelta", {"learning_rate": 1.0, "weight_decay": 0.1}),
    ("adamax", {"weight_decay": 0.1, "global_clipnorm": 1.0}),
    ("nadam", {"weight_decay": 0.1, "clipvalue": 0.5}),
    ("lion", {"weight_decay": 0.5}),
    ("ftrl", {"learning_rate": 0.1, "weight_decay": 0.1}),
    ("sgd", {"learning_rate": 0.1, "use_ema": True}),
    ("adam", {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.5}),
    ("adamw", {"use_ema": True, "ema_momentum": 0.8}),
    ("rmsprop", {"use_ema": True, "ema_momentum": 0.6}),
    ("adagrad", {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.7}),
    ("adadelta", {"learning_rate": 1.0, "use_ema": True, "ema_momentum": 0.5}),
    ("adamax", {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.5}),
    ("nadam", {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.5}),
    ("lion", {"use_ema": True, "ema_momentum": 0.5}),
    ("ftrl", {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.5}),
    *((opt, {"learning_rate": _schedule(i)}) for i, opt in enumerate(
        ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "lion", "ftrl", "sgd", "adam"))),
    ("adamw", {"learning_rate": _schedule(8), "weight_decay": 0.5}),
]


def _case_id(name, kw):
    parts = [f"{k}={v.name}" if isinstance(v, ir.Ref) else k for k, v in kw.items() if k != "learning_rate"]
    if isinstance(kw.get("learning_rate"), ir.Ref):
        parts.insert(0, kw["learning_rate"].name)
    return "-".join([name, *parts])


def _steps(seed=0):
    rng = np.random.default_rng(seed)
    start = {k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}
    grads = [{k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()} for _ in range(STEPS)]
    return start, grads


CHECKED = (1, STEPS)  # one step, then several steps of the same gradients


@functools.cache
def keras_run(case: int) -> dict:
    """Keras's variables after each step in CHECKED, and ("final") after finalize_variable_values."""
    import keras

    name, kw = OPTIMIZER_CASES[case]
    start, grads = _steps()
    opt = keras_object(keras, ref("optimizer", name, **kw))
    kvars = {k: keras.Variable(v.copy()) for k, v in start.items()}
    out = {}
    for step, g in enumerate(grads, 1):
        opt.apply_gradients([(g[k], kvars[k]) for k in SHAPES])
        if step in CHECKED:
            out[step] = {k: np.asarray(v).copy() for k, v in kvars.items()}
    opt.finalize_variable_values([kvars[k] for k in SHAPES])
    out["final"] = {k: np.asarray(v) for k, v in kvars.items()}
    return out


def _check(case: int, step, ours: dict) -> None:
    theirs = keras_run(case)[step]
    worst = max(float(np.max(np.abs(ours[k] - theirs[k]))) for k in SHAPES)
    assert worst <= 1e-6, f"at {step}: max |ours - keras| = {worst:.3g}"


CASE_IDS = [_case_id(*c) for c in OPTIMIZER_CASES]


@pytest.mark.parametrize("case", range(len(OPTIMIZER_CASES)), ids=CASE_IDS)
def test_numpy_optimizer_steps_match_keras(keras, case):
    name, kw = OPTIMIZER_CASES[case]
    start, grads = _steps()
    ours, weights = Optimizer(ref("optimizer", name, **kw)), dict(start)
    for step, g in enumerate(grads, 1):
        weights = ours.apply(weights, g)
        if step in CHECKED:
            _check(case, step, weights)
    assert max(float(np.max(np.abs(weights[k] - start[k]))) for k in SHAPES) > 1e-4, "the weights did not move"
    final = ours.finalize(weights)  # fit's end: with use_ema the moving averages replace the variables
    _check(case, "final", final)
    if kw.get("use_ema"):
        assert max(float(np.max(np.abs(final[k] - weights[k]))) for k in SHAPES) > 1e-4


def runtime_optimizer(rt, r: ir.Ref, params):
    """The torch runtime's optimizer (and schedule) for a Ref, as the generated module builds it."""
    def value(v):
        if isinstance(v, ir.Ref):
            return getattr(rt, REGISTRIES[v.kind][v.name].keras_name)(**{k: value(x) for k, x in v.kwargs.items()})
        return v

    return value(ir.Ref(r.kind, r.name, (("params", params), *r.args)))


@pytest.mark.parametrize("case", range(len(OPTIMIZER_CASES)), ids=CASE_IDS)
def test_torch_optimizer_steps_match_keras(keras, torch, case):
    from spec2net.runtime import torch as rt

    name, kw = OPTIMIZER_CASES[case]
    start, grads = _steps()
    params = {k: torch.nn.Parameter(torch.tensor(v)) for k, v in start.items()}
    opt = runtime_optimizer(rt, ref("optimizer", name, **kw), list(params.values()))
    for step, g in enumerate(grads, 1):
        for k, p in params.items():
            p.grad = torch.tensor(g[k])
        opt.step()
        opt.zero_grad()
        if step in CHECKED:
            _check(case, step, {k: p.detach().numpy() for k, p in params.items()})
    opt.finalize_variable_values()
    _check(case, "final", {k: p.detach().numpy() for k, p in params.items()})


def test_every_optimizer_is_compared_with_decay_ema_and_a_schedule():
    names = set(canonical("optimizer"))
    assert {n for n, kw in OPTIMIZER_CASES if kw.get("weight_decay") is not None or n == "adamw"} == names
    assert {n for n, kw in OPTIMIZER_CASES if kw.get("use_ema")} == names
    assert {n for n, kw in OPTIMIZER_CASES if isinstance(kw.get("learning_rate"), ir.Ref)} == names
    used = {kw["learning_rate"].name for _, kw in OPTIMIZER_CASES if isinstance(kw.get("learning_rate"), ir.Ref)}
    assert used == set(canonical("schedule"))


# 2 epochs of fit (batch 8, 32 samples, no shuffle: 8 steps) from the same weights: the NumPy
# trainer and the generated torch module against the generated Keras module's model.fit. The
# Embedding cases feed repeated tokens, so the optimizers see per-occurrence rows.
FIT_CASES = {
    "nadam-decay-embedding-gru": """model m {
        input t: int32[6]
        h = Embedding(20, 4)(t) -> GRU(5)
        output y = Dense(3, activation=softmax)(h)
        compile { optimizer = nadam(learning_rate=0.02, weight_decay=0.05); loss = sparse_categorical_crossentropy }
    }""",
    "adadelta-cosine-embedding-lstm": """model m {
        input t: int32[6]
        h = Embedding(20, 4)(t) -> LSTM(4)
        output y = Dense(1, activation=sigmoid)(h)
        compile { optimizer = adadelta(learning_rate=cosine_decay(2.0, decay_steps=6, alpha=0.1))
                  loss = binary_crossentropy }
    }""",
    "ftrl-l1-embedding-simplernn": """model m {
        input t: int32[6]
        h = Embedding(20, 4)(t) -> SimpleRNN(4)
        output y = Dense(2)(h)
        compile { optimizer = ftrl(learning_rate=0.2, l1_regularization_strength=0.001, beta=0.1); loss = mse }
    }""",
    "adamax-ema-embedding-batchnorm": """model m {
        input t: int32[6]
        h = Embedding(20, 4)(t) -> GRU(5) -> Dense(6, use_bias=false)
        h = BatchNormalization(momentum=0.8)(h)
        output y = Dense(1)(h)
        compile { optimizer = adamax(learning_rate=0.05, use_ema=true, ema_momentum=0.6); loss = mse }
    }""",
    "lion-piecewise-decay": """model m {
        input x: float32[6]
        output y = Dense(8, activation=tanh)(x) -> Dense(3, activation=softmax)
        compile { optimizer = lion(learning_rate=piecewise_constant_decay([3, 5], [0.01, 0.005, 0.002]),
                                   weight_decay=0.5)
                  loss = categorical_crossentropy }
    }""",
    "sgd-ema-exponential-layernorm": """model m {
        input x: float32[6]
        h = Dense(8, activation=relu)(x) -> LayerNormalization()
        output y = Dense(2)(h)
        compile { optimizer = sgd(learning_rate=exponential_decay(0.1, decay_steps=2, decay_rate=0.5), momentum=0.9,
                                  use_ema=true, ema_momentum=0.5)
                  loss = mse }
    }""",
    "adamw-warmup-restarts-clipnorm": """model m {
        input x: float32[6]
        output y = Dense(8, activation=relu)(x) -> Dense(1)
        compile { optimizer = adamw(learning_rate=cosine_decay_restarts(0.05, first_decay_steps=3), clipnorm=0.5)
                  loss = mae }
    }""",
}


@pytest.fixture(scope="module")
def fit_runs():
    """Each case's start, data and NumPy result, computed once for the Keras and the torch test."""
    from spec2net.backends.numpy import init_weights
    from spec2net.backends.numpy.train import fit
    from test_numpy_training import _data

    import spec2net

    runs = {}

    def run(case):
        if case not in runs:
            net = spec2net.loads(FIT_CASES[case])
            start = init_weights(net.ir, seed=5)
            data = _data(net.ir, np.random.default_rng(7))
            ours, history = fit(net.ir, data, start, epochs=2, batch_size=8, shuffle=False)
            runs[case] = net, start, data, ours, history
        return runs[case]

    return run


def _compare(ours, theirs, start, what):
    assert set(ours) == set(theirs)
    worst = max(float(np.max(np.abs(ours[k] - theirs[k]))) for k in ours)
    moved = max(float(np.max(np.abs(ours[k] - start[k]))) for k in ours)
    print(f"max |numpy - {what}| weight diff {worst:.2e} (weights moved up to {moved:.2e})")
    assert moved > 1e-3, "training did not move the weights"
    assert worst <= 1e-4, f"weights differ from {what}'s by {worst:.3g}"


@pytest.mark.parametrize("case", list(FIT_CASES))
def test_two_epochs_match_keras_fit(keras, fit_runs, case, tmp_path):
    from test_numpy_training import keras_fit

    net, start, data, ours, history = fit_runs(case)
    theirs, khist = keras_fit(keras, net, start, data, tmp_path)
    _compare(ours, theirs, start, "keras")
    # with use_ema the epochs' losses are the raw weights': the averages arrive only at the end
    np.testing.assert_allclose(history["loss"], khist["loss"], atol=1e-5, rtol=0)


def test_ema_validation_uses_the_raw_weights_as_keras(keras, tmp_path):
    """validation_split with use_ema: each epoch's val_loss is the raw weights' (as Keras's), the
    finalized weights are the averages."""
    from spec2net.backends.numpy import init_weights
    from spec2net.backends.numpy.train import fit
    from test_numpy_training import _data, keras_fit

    import spec2net

    net = spec2net.loads(FIT_CASES["sgd-ema-exponential-layernorm"])
    start = init_weights(net.ir, seed=5)
    data = _data(net.ir, np.random.default_rng(7), n=40)
    ours, history = fit(net.ir, data, start, epochs=3, batch_size=8, shuffle=False, validation_split=0.2)
    theirs, khist = keras_fit(keras, net, start, data, tmp_path, epochs=3, validation_split=0.2)
    _compare(ours, theirs, start, "keras")
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(history[key], khist[key], atol=1e-5, rtol=0, err_msg=key)


@pytest.mark.parametrize("case", list(FIT_CASES))
def test_two_epochs_match_the_generated_torch_fit(torch, fit_runs, case, tmp_path):
    from test_numpy_training import torch_fit

    net, start, data, ours, _ = fit_runs(case)
    _compare(ours, torch_fit(torch, net, start, data, tmp_path), start, "torch")
