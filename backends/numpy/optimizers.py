"""Keras 3's optimizers in NumPy, formula for formula (keras/src/optimizers/*.py).

An Embedding's gradient arrives as sparse.SparseRows, so that ``square(g)``
and clipping see its occurrences as TensorFlow's IndexedSlices do.

Order of one step, as Keras's BaseOptimizer.apply does it: clip the
gradients (per-variable ``clipnorm``, else ``global_clipnorm``, else
``clipvalue`` -- Keras applies only the first that is set), apply AdamW's
decoupled weight decay to the variables, then each variable's update rule.
"""

from __future__ import annotations

import numpy as np

from spec2net import ir
from spec2net.tables import Table

from .sparse import dense, map_values, square, values

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


@OPTIMIZERS.register("adam")
def adam(a, w, g, s, step):
    b1, b2, lr = a["beta_1"], a["beta_2"], a["learning_rate"]
    m = s.setdefault("m", np.zeros_like(w))
    v = s.setdefault("v", np.zeros_like(w))
    alpha = lr * np.sqrt(1 - b2**step) / (1 - b1**step)
    m += (dense(g) - m) * (1 - b1)
    v += (square(g) - v) * (1 - b2)
    if a["amsgrad"]:
        vhat = s.setdefault("vhat", np.zeros_like(w))
        np.maximum(vhat, v, out=vhat)
        v = vhat
    # epsilon outside the square root, after the bias correction folded into alpha
    return w - (m * alpha) / (np.sqrt(v) + a["epsilon"])


@OPTIMIZERS.register("adamw")
def adamw(a, w, g, s, step):
    # decoupled weight decay of the variable, then Adam's update of the decayed variable
    w = w - w * np.asarray(a["weight_decay"] * a["learning_rate"], w.dtype)
    return adam(a, w, g, s, step)


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


class Optimizer:
    """One optimizer's state over a dict of variables.

    ``opt = Optimizer(Ref("optimizer", "adam", ...)); weights = opt.apply(weights, grads)``
    """

    def __init__(self, ref: ir.Ref):
        self.name, self.a = ref.name, ref.kwargs
        self.rule = OPTIMIZERS[ref.name]
        self.iterations = 0
        self.slots: dict[str, dict] = {}
        self.learning_rate = self.a["learning_rate"]  # Keras's optimizer.learning_rate: a callback sets it

    def apply(self, weights: dict, grads: dict) -> dict:
        """Update the variables named in ``grads`` (trainable ones) and return all weights."""
        keys = list(grads)
        a = {**self.a, "learning_rate": self.learning_rate}
        clipped = clip([grads[k] for k in keys], a)
        self.iterations += 1
        out = dict(weights)
        for k, g in zip(keys, clipped):
            w = weights[k]
            new = self.rule(a, w, g.astype(w.dtype), self.slots.setdefault(k, {}), self.iterations)
            out[k] = new.astype(w.dtype)
        return out
