"""Keras 3's optimizers in NumPy, formula for formula (keras/src/optimizers/*.py).

An Embedding's gradient arrives as sparse.SparseRows, so that ``square(g)``
and clipping see its occurrences as TensorFlow's IndexedSlices do.

Order of one step, as Keras's BaseOptimizer.apply does it: read the learning
rate (a schedule's value at the count of steps taken, 0 for the first),
clip the gradients (per-variable ``clipnorm``, else ``global_clipnorm``, else
``clipvalue`` -- Keras applies only the first that is set), apply the
decoupled weight decay ``w -= w * weight_decay * lr`` to the variables, each
variable's update rule, then (``use_ema``) the moving averages, which
``finalize`` writes into the variables at the end of ``fit``.
"""

from __future__ import annotations

import numpy as np

from spec2net import ir
from spec2net.runtime.schedules import current_rate
from spec2net.tables import Table

from .schedules import schedule
from .sparse import SparseRows, dense, map_values, square, values

# name -> update rule ``rule(args, w, g, slots, step) -> new w`` (slots: that variable's state)
OPTIMIZERS = Table("NumPy optimizer")


def clip(grads: list, a: dict) -> list:
    """Keras's ``_clip_gradients``: ``clip([g1, g2], {"clipnorm": 1.0, ...})``."""
    if a["clipnorm"] is not None:
        c = a["clipnorm"]
        out = []
        for g in grads:
            norm = np.sqrt(np.sum(np.square(values(g))))
            out.append(map_values(g, lambda v, norm=norm: v * c / max(norm, c)))
        return out
    if a["global_clipnorm"] is not None:
        c = a["global_clipnorm"]
        norm = np.sqrt(sum(np.sum(np.square(values(g))) for g in grads))
        scale = c * min(1.0 / norm if norm else np.inf, 1.0 / c)
        return [map_values(g, lambda v: v * np.asarray(scale, v.dtype)) for g in grads]
    if a["clipvalue"] is not None:
        cv = a["clipvalue"]
        return [map_values(g, lambda v: np.clip(v, -cv, cv)) for g in grads]
    return grads


@OPTIMIZERS.register("sgd")
def sgd(a, w, g, s, step):
    lr, mom = a["learning_rate"], a["momentum"]
    g = dense(g)
    if mom == 0:
        return w - lr * g
    m = s.setdefault("m", np.zeros_like(w))
    m[...] = m * mom - g * lr
    return w + (m * mom - g * lr if a["nesterov"] else m)


def _bias_corrected(lr: float, b1: float, b2: float, step: int) -> np.float32:
    """Adam's ``lr * sqrt(1 - b2**t) / (1 - b1**t)`` in float32, as Keras computes it: in float64,
    ``1 - 0.999**1`` differs from float32's by 1e-5 of itself, which moves a weight 1e-6 at lr=0.1."""
    f32 = np.float32
    return f32(lr) * np.sqrt(f32(1) - f32(b2) ** f32(step)) / (f32(1) - f32(b1) ** f32(step))


@OPTIMIZERS.register("adam")
def adam(a, w, g, s, step):
    b1, b2 = a["beta_1"], a["beta_2"]
    m = s.setdefault("m", np.zeros_like(w))
    v = s.setdefault("v", np.zeros_like(w))
    m += (dense(g) - m) * (1 - b1)
    v += (square(g) - v) * (1 - b2)
    alpha = _bias_corrected(a["learning_rate"], b1, b2, step)
    if a["amsgrad"]:
        vhat = s.setdefault("vhat", np.zeros_like(w))
        np.maximum(vhat, v, out=vhat)
        v = vhat
    # epsilon outside the square root, after the bias correction folded into alpha
    return w - (m * alpha) / (np.sqrt(v) + a["epsilon"])


# AdamW is Adam with a default weight decay: the decay itself is every optimizer's (Optimizer.apply)
OPTIMIZERS.add(adam, "adamw")


@OPTIMIZERS.register("rmsprop")
def rmsprop(a, w, g, s, step):
    rho, lr, eps = a["rho"], a["learning_rate"], a["epsilon"]
    vel = s.setdefault("v", np.zeros_like(w))
    vel[...] = rho * vel + (1 - rho) * square(g)
    g = dense(g)
    if a["centered"]:
        avg = s.setdefault("avg", np.zeros_like(w))
        avg[...] = rho * avg + (1 - rho) * g
        denom = vel - np.square(avg) + eps
    else:
        denom = vel + eps  # epsilon inside the square root
    inc = lr * g / np.sqrt(denom)
    if a["momentum"] > 0:
        mom = s.setdefault("m", np.zeros_like(w))
        mom[...] = a["momentum"] * mom + inc
        return w - mom
    return w - inc


@OPTIMIZERS.register("adagrad")
def adagrad(a, w, g, s, step):
    acc = s.setdefault("acc", np.full_like(w, a["initial_accumulator_value"]))
    acc += square(g)
    return w - a["learning_rate"] * dense(g) / np.sqrt(acc + a["epsilon"])


def _rows_times(g, factor: np.ndarray):
    """``g * factor`` kept per occurrence where ``g`` is sparse (TensorFlow gathers ``factor``'s rows)."""
    return g.with_values(g.values * factor[g.indices]) if isinstance(g, SparseRows) else g * factor


@OPTIMIZERS.register("adadelta")
def adadelta(a, w, g, s, step):
    rho, eps = a["rho"], a["epsilon"]
    acc_g = s.setdefault("acc_g", np.zeros_like(w))
    acc_d = s.setdefault("acc_d", np.zeros_like(w))
    acc_g[...] = rho * acc_g + (1 - rho) * square(g)
    # Keras's -(rms(acc_d) * g) / rms(acc_g): on sparse rows one delta per occurrence, so the
    # accumulated squares below add each occurrence's square
    delta = _rows_times(g, -np.sqrt(acc_d + eps) / np.sqrt(acc_g + eps))
    acc_d[...] = rho * acc_d + (1 - rho) * square(delta)
    return w + a["learning_rate"] * dense(delta)


@OPTIMIZERS.register("adamax")
def adamax(a, w, g, s, step):
    b1 = a["beta_1"]
    m = s.setdefault("m", np.zeros_like(w))
    u = s.setdefault("u", np.zeros_like(w))
    m += (dense(g) - m) * (1 - b1)
    # abs(g) per occurrence, then summed, where g is sparse (TensorFlow's IndexedSlices)
    np.maximum(a["beta_2"] * u, dense(map_values(g, np.abs)), out=u)
    b1_power = np.float32(b1) ** np.float32(step)  # float32, as Keras's
    return w - (a["learning_rate"] * m) / ((1 - b1_power) * (u + a["epsilon"]))


@OPTIMIZERS.register("nadam")
def nadam(a, w, g, s, step):
    f32 = np.float32  # Keras keeps the momentum schedule's product in a float32 variable
    b1, b2 = f32(a["beta_1"]), f32(a["beta_2"])
    u_t = b1 * (f32(1.0) - f32(0.5) * f32(0.96) ** f32(step))
    u_next = b1 * (f32(1.0) - f32(0.5) * f32(0.96) ** f32(step + 1))
    u_product = s["u_product"] = s.get("u_product", f32(1.0)) * u_t
    m = s.setdefault("m", np.zeros_like(w))
    v = s.setdefault("v", np.zeros_like(w))
    g_dense = dense(g)
    m += (g_dense - m) * (1 - b1)
    v += (square(g) - v) * (1 - b2)
    m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g_dense / (1 - u_product)
    v_hat = v / (1 - b2**f32(step))
    return w - (m_hat * a["learning_rate"]) / (np.sqrt(v_hat) + a["epsilon"])


@OPTIMIZERS.register("lion")
def lion(a, w, g, s, step):
    b1, b2 = a["beta_1"], a["beta_2"]
    m = s.setdefault("m", np.zeros_like(w))
    g = dense(g)
    w = w - a["learning_rate"] * np.sign(m * b1 + g * (1.0 - b1))
    m[...] = m * b2 + g * (1.0 - b2)
    return w


@OPTIMIZERS.register("ftrl")
def ftrl(a, w, g, s, step):
    lr, power, l1 = a["learning_rate"], -a["learning_rate_power"], a["l1_regularization_strength"]
    l2 = a["l2_regularization_strength"] + a["beta"] / (2.0 * lr)
    accum = s.setdefault("accum", np.full_like(w, a["initial_accumulator_value"]))
    linear = s.setdefault("linear", np.zeros_like(w))
    new_accum = accum + square(g)
    linear += dense(g) + 2 * a["l2_shrinkage_regularization_strength"] * w \
        - (new_accum**power - accum**power) / lr * w
    quadratic = new_accum**power / lr + 2 * l2
    accum[...] = new_accum
    return (np.clip(linear, -l1, l1) - linear) / quadratic


class Optimizer:
    """One optimizer's state over a dict of variables.

    ``opt = Optimizer(Ref("optimizer", "adam", ...)); weights = opt.apply(weights, grads)``

    ``opt.learning_rate`` is Keras's ``optimizer.learning_rate``: the rate of the next step (a
    schedule's value at ``iterations``); a callback may set a new number, unless the rate is a
    schedule (Keras refuses that too).
    """

    def __init__(self, ref: ir.Ref):
        self.name, self.a = ref.name, ref.kwargs
        self.rule = OPTIMIZERS[ref.name]
        lr = self.a["learning_rate"]
        self.rate = schedule(lr) if isinstance(lr, ir.Ref) else lr  # a number, or step -> rate
        self.iterations = 0
        self.slots: dict[str, dict] = {}
        self.averages: dict[str, np.ndarray] = {}  # use_ema: the moving averages of the variables

    def apply(self, weights: dict, grads: dict) -> dict:
        """Update the variables named in ``grads`` (trainable ones) and return all weights."""
        keys = list(grads)
        lr = self.learning_rate
        a = {**self.a, "learning_rate": lr}
        clipped = clip([grads[k] for k in keys], a)
        self.iterations += 1
        out = dict(weights)
        decay = a["weight_decay"]
        for k, g in zip(keys, clipped):
            w = weights[k]
            if decay is not None:  # Keras decays even at 0.0 (a no-op): only None skips it
                w = w - w * np.asarray(decay, w.dtype) * np.asarray(lr, w.dtype)
            # no copies where the dtypes agree (a step's largest overhead after its GEMMs); no rule
            # writes into its gradient
            new = self.rule(a, w, g.astype(w.dtype, copy=False), self.slots.setdefault(k, {}), self.iterations)
            out[k] = new.astype(w.dtype, copy=False)
        if a["use_ema"]:
            self._average({k: out[k] for k in keys})
        return out

    @property
    def learning_rate(self) -> float:
        return current_rate(self.rate, self.iterations)

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        if callable(self.rate):
            raise TypeError("the optimizer's learning_rate is a schedule: it cannot be set")
        self.rate = value

    def _average(self, variables: dict) -> None:
        # the first step copies the variables (Keras: momentum 0 while iterations == 0)
        first = not self.averages
        for k, w in variables.items():
            m = np.asarray(0.0 if first else self.a["ema_momentum"], w.dtype)
            self.averages[k] = m * self.averages.get(k, w) + (1 - m) * w

    def finalize(self, weights: dict) -> dict:
        """Keras's ``finalize_variable_values`` at the end of ``fit``: with ``use_ema``, the
        variables take their moving averages; otherwise ``weights`` unchanged."""
        return {**weights, **self.averages} if self.a["use_ema"] else weights
