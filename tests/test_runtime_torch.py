"""The torch runtime (spec2net.runtime.torch) on its own, against real Keras 3.

Each optimizer steps the same variables on the same gradients as Keras's optimizer
(``apply_gradients``), clipping modes included; then torch's machinery around them: a
``torch.optim.lr_scheduler.StepLR`` schedule (Keras given the same learning rates), an AMP
``GradScaler`` step, a ``state_dict`` round trip. Each loss and metric against Keras's on the
same arrays, the (n,) vs (n, 1) rank alignment included.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy_keras_helpers import DiffTable, max_diff

from spec2net.registry import REGISTRIES

TOL = 1e-6
STEPS = 4
DIFFS = DiffTable()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    DIFFS.report(request.config, "runtime vs Keras, worst |diff|:")


@pytest.fixture(scope="module")
def rt(torch):
    from spec2net.runtime import torch as runtime

    return runtime


# Keras optimizer name -> (runtime class name, arguments in Keras's names)
OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.1}),
    "sgd-momentum-clipvalue": ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "clipvalue": 0.3}),
    "sgd-nesterov-clipnorm": ("SGD", {"learning_rate": 0.1, "momentum": 0.8, "nesterov": True,
                                      "clipnorm": 0.5}),
    "adam": ("Adam", {"learning_rate": 0.01}),
    "adam-amsgrad-global_clipnorm": ("Adam", {"learning_rate": 0.01, "amsgrad": True,
                                              "global_clipnorm": 0.7}),
    "adamw": ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.1}),
    "rmsprop": ("RMSprop", {"learning_rate": 0.01}),
    "rmsprop-centered-momentum": ("RMSprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5}),
    "adagrad": ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.2, "epsilon": 1e-5}),
    # language 0.2 (weight decay, EMA and schedules on every optimizer: tests/test_optimizers_keras.py)
    "adadelta-clipvalue": ("Adadelta", {"learning_rate": 1.0, "clipvalue": 0.5}),
    "adamax-global_clipnorm": ("Adamax", {"learning_rate": 0.01, "global_clipnorm": 0.7}),
    "nadam-weight_decay": ("Nadam", {"learning_rate": 0.01, "weight_decay": 0.1}),
    "lion-clipnorm": ("Lion", {"learning_rate": 0.01, "clipnorm": 0.5}),
    "ftrl-l1-l2": ("Ftrl", {"learning_rate": 0.1, "l1_regularization_strength": 0.01,
                            "l2_regularization_strength": 0.1}),
    "adam-ema": ("Adam", {"learning_rate": 0.01, "use_ema": True, "ema_momentum": 0.5}),
}


def _problem(seed=0):
    """Two variables and STEPS gradients for each (varied signs and sizes, some beyond the clips)."""
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)]
    grads = [[(rng.standard_normal(v.shape) * (k + 1)).astype(np.float32) for v in start]
             for k in range(STEPS)]
    return start, grads


def _keras_steps(keras, cls, args, start, grads, rates=None):
    opt = getattr(keras.optimizers, cls)(**args)
    variables = [keras.Variable(v) for v in start]
    for k, g in enumerate(grads):
        if rates is not None:
            opt.learning_rate.assign(rates[k])
        opt.apply_gradients(zip([keras.ops.convert_to_tensor(x) for x in g], variables))
    return [np.asarray(v) for v in variables]


def _torch_params(torch, start):
    return [torch.nn.Parameter(torch.tensor(v)) for v in start]


def _torch_step(torch, opt, params, g):
    for p, x in zip(params, g):
        p.grad = torch.tensor(x)
    opt.step()
    opt.zero_grad()


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_matches_keras(keras, torch, rt, name):
    cls, args = OPTIMIZERS[name]
    start, grads = _problem()
    want = _keras_steps(keras, cls, args, start, grads)
    params = _torch_params(torch, start)
    opt = getattr(rt, cls)(params, **args)
    for g in grads:
        _torch_step(torch, opt, params, g)
    assert opt.iterations == STEPS
    d = max(max_diff(p.detach().numpy(), w) for p, w in zip(params, want))
    moved = max(max_diff(p.detach().numpy(), s) for p, s in zip(params, start))
    DIFFS.add(f"optimizer {name}", d)
    assert moved > 100 * TOL and d <= TOL, (name, d)


def test_clipnorm_per_keras_variable(keras, torch, rt):
    """One Keras variable held in two torch tensors (a GRU's bias) is clipped by its joint norm."""
    start, grads = _problem(1)
    args = {"learning_rate": 0.1, "clipnorm": 0.5}
    joint = _keras_steps(keras, "SGD", args, [np.concatenate([s.ravel() for s in start])],
                         [[np.concatenate([x.ravel() for x in g])] for g in grads])[0]
    params = _torch_params(torch, start)
    opt = rt.SGD([params], **args)  # one list per Keras variable
    for g in grads:
        _torch_step(torch, opt, params, g)
    got = np.concatenate([p.detach().numpy().ravel() for p in params])
    assert max_diff(got, joint) <= TOL


def test_keras_refuses_two_clipping_modes(torch, rt):
    params = _torch_params(torch, _problem()[0])
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue and global_clipnorm.*clipnorm=0.1"):
        rt.SGD(params, clipnorm=0.1, clipvalue=0.1)


def test_step_lr_schedule(keras, torch, rt):
    """torch's StepLR drives the runtime's Adam through param_groups' lr, as Keras's Adam with the
    same rates: halved every two steps."""
    start, grads = _problem(2)
    params = _torch_params(torch, start)
    opt = rt.Adam(params, learning_rate=0.02)
    schedule = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    rates = []
    for g in grads:
        rates.append(opt.param_groups[0]["lr"])
        _torch_step(torch, opt, params, g)
        schedule.step()
    assert rates == [0.02, 0.02, 0.01, 0.01]
    want = _keras_steps(keras, "Adam", {"learning_rate": 0.02}, start, grads, rates)
    d = max(max_diff(p.detach().numpy(), w) for p, w in zip(params, want))
    DIFFS.add("Adam under StepLR", d)
    assert d <= TOL


def test_grad_scaler_step(keras, torch, rt):
    """AMP's GradScaler unscales the gradients before the runtime's step (clipping sees the real
    gradients), so a scaled step equals Keras's plain one."""
    scaler_cls = getattr(getattr(torch, "amp", None), "GradScaler", None)
    if scaler_cls is None:
        pytest.skip("this torch has no torch.amp.GradScaler")
    try:
        scaler = scaler_cls("cpu", init_scale=1024.0)
    except (RuntimeError, TypeError) as e:
        pytest.skip(f"GradScaler on the CPU is not supported here: {e}")
    assert scaler.is_enabled()  # the gradients really arrive scaled by 1024
    start, grads = _problem(3)
    params = _torch_params(torch, start)
    args = {"learning_rate": 0.01, "clipnorm": 0.5}
    opt = rt.Adam(params, **args)
    for g in grads:
        # a loss whose gradient is g: sum(p * g); the scaler multiplies it by its scale
        loss = sum((p * torch.tensor(x)).sum() for p, x in zip(params, g))
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
    want = _keras_steps(keras, "Adam", args, start, grads)
    d = max(max_diff(p.detach().numpy(), w) for p, w in zip(params, want))
    DIFFS.add("Adam under GradScaler", d)
    assert d <= TOL


@pytest.mark.parametrize("name", ["adam-amsgrad-global_clipnorm", "rmsprop-centered-momentum", "adagrad",
                                  "nadam-weight_decay", "ftrl-l1-l2", "adam-ema"])
def test_state_dict_round_trip(torch, rt, name):
    """Two steps, the state saved and loaded into a new optimizer, two more: the same weights as
    four steps of one optimizer."""
    cls, args = OPTIMIZERS[name]
    start, grads = _problem(4)
    params = _torch_params(torch, start)
    opt = getattr(rt, cls)(params, **args)
    for g in grads:
        _torch_step(torch, opt, params, g)
    again = _torch_params(torch, start)
    first = getattr(rt, cls)(again, **args)
    for g in grads[:2]:
        _torch_step(torch, first, again, g)
    state = first.state_dict()
    second = getattr(rt, cls)(again, **args)
    second.load_state_dict(state)
    assert second.iterations == 2
    for g in grads[2:]:
        _torch_step(torch, second, again, g)
    assert all(torch.equal(a, b) for a, b in zip(params, again))


def _arrays(seed=5):
    rng = np.random.default_rng(seed)
    normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    p = rng.uniform(0.05, 0.95, (6, 4)).astype(np.float32)
    return {
        "real": (normal(6, 4), normal(6, 4)),
        "binary": (rng.integers(0, 2, (6, 4)).astype(np.float32), p),
        "one_hot": (np.eye(4, dtype=np.float32)[rng.integers(0, 4, 6)], p / p.sum(-1, keepdims=True)),
        "ids": (rng.integers(0, 4, 6).astype(np.int64), p / p.sum(-1, keepdims=True)),
        "ids_column": (rng.integers(0, 4, (6, 1)).astype(np.int64), p / p.sum(-1, keepdims=True)),
        "vector_vs_column": (normal(6), normal(6, 1)),
        "binary_vector_vs_column": (rng.integers(0, 2, 6).astype(np.float32), p[:, :1]),
    }


LOSS_CASES = [
    ("mean_squared_error", "real"), ("mean_squared_error", "vector_vs_column"),
    ("mean_absolute_error", "real"), ("mean_absolute_error", "vector_vs_column"),
    ("binary_crossentropy", "binary"), ("binary_crossentropy", "binary_vector_vs_column"),
    ("categorical_crossentropy", "one_hot"),
    ("sparse_categorical_crossentropy", "ids"), ("sparse_categorical_crossentropy", "ids_column"),
]


@pytest.mark.parametrize("loss, data", LOSS_CASES)
def test_loss_matches_keras(keras, torch, rt, loss, data):
    y, p = _arrays()[data]
    # Keras's loss class, as compile() makes it: ranks aligned, then "sum_over_batch_size"
    want = float(getattr(keras.losses, REGISTRIES["loss"][loss].keras_name)()(y, p))
    got = float(rt.LOSSES[loss](torch.tensor(y), torch.tensor(p)))
    DIFFS.add(f"loss {loss} ({data})", abs(got - want))
    assert abs(got - want) <= TOL, (got, want)


def test_vector_targets_are_not_broadcast(torch, rt):
    """(n,) targets for an (n, 1) output: Keras aligns the ranks; a broadcast would make (n, n)."""
    y, p = _arrays()["vector_vs_column"]
    want = float(np.mean((y - p[:, 0]) ** 2))
    assert abs(float(rt.mean_squared_error(torch.tensor(y), torch.tensor(p))) - want) <= TOL


METRIC_CASES = [
    ("binary_accuracy", "binary"), ("binary_accuracy", "binary_vector_vs_column"),
    ("categorical_accuracy", "one_hot"), ("sparse_categorical_accuracy", "ids"),
    ("sparse_categorical_accuracy", "ids_column"), ("mean_squared_error", "real"),
    ("mean_absolute_error", "real"),
]


@pytest.mark.parametrize("metric, data", METRIC_CASES)
def test_metric_matches_keras(keras, torch, rt, metric, data):
    """Two batches accumulated as Keras's metric objects accumulate them."""
    y, p = _arrays()[data]
    m = keras.metrics.get(metric)
    m = m if isinstance(m, keras.metrics.Metric) else keras.metrics.MeanMetricWrapper(m)
    mean = rt.Mean()
    for part in (slice(0, 4), slice(4, 6)):
        m.update_state(y[part], p[part])
        mean.update(rt.METRICS[metric](torch.tensor(y[part]), torch.tensor(p[part])))
    want = float(m.result())
    DIFFS.add(f"metric {metric} ({data})", abs(mean.result() - want))
    assert abs(mean.result() - want) <= TOL, (mean.result(), want)


@pytest.mark.parametrize("data, chosen", [("binary_vector_vs_column", "binary_accuracy"),
                                          ("ids", "sparse_categorical_accuracy"),
                                          ("ids_column", "sparse_categorical_accuracy"),
                                          ("one_hot", "categorical_accuracy")])
def test_accuracy_resolves_as_keras(torch, rt, data, chosen):
    y, p = _arrays()[data]
    assert rt.resolve("accuracy", torch.tensor(y), torch.tensor(p)) is rt.METRICS[chosen]


def test_regularization_is_keras_l1l2(keras, torch, rt):
    w = _problem()[0][0]
    want = float(keras.regularizers.L1L2(l1=0.01, l2=0.02)(w))
    assert abs(float(rt.regularization([torch.tensor(w)], l1=0.01, l2=0.02)) - want) <= TOL


def test_layer_dict_takes_any_name(torch, rt):
    """nn.ModuleDict refuses keys that are nn.Module attributes; the runtime's LayerDict holds them."""
    names = ["forward", "training", "register_forward_hook", "to_empty", "keys", "state_dict"]
    layers = rt.LayerDict({n: torch.nn.Linear(2, 2) for n in names})
    assert list(layers) == names and isinstance(layers["forward"], torch.nn.Linear)
    assert sorted(k.split(".")[0] for k in layers.state_dict()) == sorted(names * 2)
    with pytest.raises(KeyError, match="without '.'"):
        rt.LayerDict({"a.b": torch.nn.Linear(2, 2)})


def test_grad_scaler_with_embedding_rows(torch, rt):
    """An Embedding's gradient recorded as rows (Keras's IndexedSlices) under GradScaler: the
    rows are unscaled as the dense gradient is, so the step equals the unscaled one."""
    scaler_cls = getattr(getattr(torch, "amp", None), "GradScaler", None)
    if scaler_cls is None:
        pytest.skip("this torch has no torch.amp.GradScaler")
    ids = torch.tensor([[1, 2, 2], [3, 1, 0]])
    after = []
    for scale in (None, 4096.0):
        torch.manual_seed(0)
        table = torch.nn.Embedding(5, 3)
        opt = rt.SGD([table.weight], learning_rate=0.01)  # the step is proportional to the gradient
        out = table(ids)
        rt.keep_rows(table.weight, ids, out)
        loss = (out * torch.arange(1.0, 4.0)).sum()
        if scale is None:
            loss.backward()
            opt.step()
        else:
            scaler = scaler_cls("cpu", init_scale=scale)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        after.append(table.weight.detach().clone())
    assert torch.allclose(after[0], after[1], atol=1e-7)


DDP_SCRIPT = """
import copy
import sys
import torch
import torch.distributed as dist
from spec2net.runtime import torch as rt
dist.init_process_group("gloo", init_method="tcp://127.0.0.1:" + sys.argv[1], rank=0, world_size=1)
torch.manual_seed(0)
plain = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
start = copy.deepcopy(plain)
wrapped = torch.nn.parallel.DistributedDataParallel(copy.deepcopy(plain))
x, y = torch.randn(8, 4), torch.randn(8, 1)
for model in (plain, wrapped):
    opt = rt.Adam(model.parameters(), learning_rate=0.05, clipnorm=0.5)
    for _ in range(3):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
inner = wrapped.module
print(max(float((a - b).abs().max()) for a, b in zip(plain.parameters(), start.parameters())))
print(max(float((a - b).abs().max()) for a, b in zip(plain.parameters(), inner.parameters())))
dist.destroy_process_group()
"""


def test_ddp_step(torch):
    """A runtime optimizer over a DistributedDataParallel module (gloo, one process) steps as over
    the module itself."""
    import socket
    import subprocess
    import sys

    if not torch.distributed.is_available():
        pytest.skip("this torch has no torch.distributed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = subprocess.run([sys.executable, "-c", DDP_SCRIPT, str(port)], capture_output=True, text=True,
                       check=False, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    moved, diff = (float(v) for v in r.stdout.split()[-2:])
    assert moved > 1e-2 and diff <= 1e-7


def test_learning_rate_schedule(keras, torch, rt):
    """A callable learning rate is Keras's LearningRateSchedule: evaluated at the step count
    before each update (0 first), as Keras evaluates optimizer.learning_rate."""
    start, grads = _problem(6)
    schedule = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=1, decay_rate=0.5)
    want = _keras_steps(keras, "SGD", {"learning_rate": schedule, "momentum": 0.5}, start, grads)
    params = _torch_params(torch, start)
    opt = rt.SGD(params, learning_rate=lambda step: 0.05 * 0.5**step, momentum=0.5)
    for g in grads:
        _torch_step(torch, opt, params, g)
    assert opt.param_groups[0]["lr"] == 0.05 * 0.5**3
    d = max(max_diff(p.detach().numpy(), w) for p, w in zip(params, want))
    DIFFS.add("SGD with a schedule", d)
    assert d <= TOL
