"""Keras 3's optimizers as ``torch.optim.Optimizer`` subclasses.

torch.optim differs from Keras in each rule (SGD's momentum buffer, Adam's epsilon under the
bias correction, RMSprop's and Adagrad's epsilon outside the square root, Adagrad's starting
accumulator), so these carry Keras's update rules (keras/src/optimizers/*.py) behind torch's
interface: ``param_groups`` (``lr`` is Keras's ``learning_rate``, so ``torch.optim.lr_scheduler``
works), ``state_dict``, ``zero_grad``, ``step(closure)``, AMP's ``GradScaler`` and DDP.

>>> opt = Adam(model.parameters(), learning_rate=1e-3, clipnorm=1.0)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch


def f32_power(base: float, t: float) -> np.float32:
    """``base ** t`` in float32 as Keras's tensors compute it. float64 would move ``1 - 0.999**t``
    by 1e-5 of itself (1e-6 on a weight at lr=0.1), and torch's own pow multiplies out small
    integer powers, which rounds otherwise than TensorFlow's pow (and NumPy's)."""
    return np.float32(base) ** np.float32(t)


def bias_corrected(lr: float, b1: float, b2: float, t: float) -> float:
    """Adam's step size ``lr * sqrt(1 - b2**t) / (1 - b1**t)``, in float32 as Keras computes it."""
    one = np.float32(1)
    return float(np.float32(lr) * np.sqrt(one - f32_power(b2, t)) / (one - f32_power(b1, t)))


class KerasOptimizer(torch.optim.Optimizer):
    """Keras 3's step (optimizers/base_optimizer.py): clip the gradients, apply the weight decay
    ``w -= w * weight_decay * lr``, then the update rule of the subclass, then with ``use_ema``
    the moving averages (``finalize_variable_values()`` writes them into the parameters).

    ``params`` is what torch's optimizers take (tensors or param groups), or one list of tensors
    per Keras variable (``[[gru.bias_ih_l0, gru.bias_hh_l0], [dense.weight]]``): ``clipnorm``
    clips each Keras variable by its own norm, and a GRU's bias is one Keras variable held in
    two torch tensors. At most one of clipnorm, clipvalue and global_clipnorm, as in Keras 3.
    """

    def __init__(self, params: Iterable, defaults: dict, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99):
        if not 0 <= ema_momentum <= 1:
            raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
        clipping = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(v is not None for v in clipping.values()) > 1:
            given = ", ".join(f"{k}={v}" for k, v in clipping.items() if v is not None)
            raise ValueError(f"only one of clipnorm, clipvalue and global_clipnorm can be set; got {given}")
        params = list(params)
        if params and all(isinstance(v, (list, tuple)) for v in params):
            self.variables = [list(v) for v in params]
            params = [p for v in self.variables for p in v]
        else:
            self.variables = None  # every tensor its own Keras variable
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        # use_ema: a moving average of every parameter, which finalize_variable_values() writes
        # into the parameters (Keras's fit calls it at its end)
        self.use_ema, self.ema_momentum = use_ema, ema_momentum
        self.rows: dict = {}  # tensor -> its clipped Embedding (ids, rows) in this step, where recorded
        # a learning-rate schedule (a callable of the step, as Keras's LearningRateSchedule) sets
        # each group's lr before every step, as Keras evaluates optimizer.learning_rate
        self.schedule = defaults["lr"] if callable(defaults["lr"]) else None
        if self.schedule is not None:
            defaults = {**defaults, "lr": float(self.schedule(0))}
        super().__init__(params, defaults)

    @property
    def iterations(self) -> int:
        """Keras's ``optimizer.iterations``: the steps taken so far."""
        return max((int(s["step"]) for s in self.state.values() if "step" in s), default=0)

    def zero_grad(self, set_to_none: bool = True) -> None:
        super().zero_grad(set_to_none)
        for p in self._params():
            p.__dict__.pop("lookup_rows", None)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if self.schedule is not None:
            for group in self.param_groups:
                group["lr"] = float(self.schedule(self.iterations))
        first = self.iterations == 0
        params = self._params()
        grads, squares = self._gradients(params)
        scales = self._clip_scales(params, squares)
        if scales is not None:
            grads = {p: grads[p] * scales[p] for p in params}
            squares = {p: squares[p] * (scales[p] * scales[p]) for p in params}
            self.rows = {p: (ids, r * scales[p]) for p, (ids, r) in self.rows.items()}
        for group in self.param_groups:
            lr, decay = group["lr"], group.get("weight_decay")
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["step"] = torch.zeros(())
                    self.init_state(p, state, group)
                if decay:  # decoupled, before the update
                    p.sub_(p * decay * lr)
                state["step"] += 1
                self.update(p, grads[p], squares[p], state, group)
        if self.use_ema:
            self._average(params, first)
        return loss

    def _average(self, params: list, first: bool) -> None:
        # Keras's momentum is 0 on the first step: the average starts as a copy of the weights
        momentum = 0.0 if first else self.ema_momentum
        for p in params:
            average = self.state[p].setdefault("ema", torch.zeros_like(p))
            average.copy_(momentum * average + (1 - momentum) * p)

    @torch.no_grad()
    def finalize_variable_values(self) -> None:
        """Keras's ``finalize_variable_values``, which ``fit`` calls at its end: with ``use_ema``,
        each parameter takes its moving average; otherwise nothing."""
        if self.use_ema:
            for p in self._params():
                if "ema" in self.state[p]:
                    p.copy_(self.state[p]["ema"])

    def init_state(self, p: torch.Tensor, state: dict, group: dict) -> None:
        """Create the slots of one tensor (Keras's ``build``)."""

    def update(self, p: torch.Tensor, g: torch.Tensor, g2: torch.Tensor, state: dict, group: dict) -> None:
        """Keras's ``update_step`` for one tensor; ``g2`` is the square Keras takes of ``g``."""
        raise NotImplementedError

    def _params(self) -> list:
        return [p for group in self.param_groups for p in group["params"]]

    def _gradients(self, params: list) -> tuple[dict, dict]:
        """(gradient, the square Keras takes of it) per tensor, clipped by value where asked.

        An Embedding's gradient recorded as rows (``keep_rows``) is clipped and squared one
        lookup at a time before the rows are summed, as Keras's optimizers treat IndexedSlices.
        """
        grads, squares, self.rows = {}, {}, {}
        clip = (lambda t: t.clamp(-self.clipvalue, self.clipvalue)) if self.clipvalue else (lambda t: t)
        for p in params:
            rows = p.__dict__.pop("lookup_rows", None)
            if rows is None:
                g = clip(p.grad if p.grad is not None else torch.zeros_like(p))
                grads[p], squares[p] = g, g.square()
                continue
            ids, r = torch.cat([i for i, _ in rows]), torch.cat([r for _, r in rows])
            r = clip(r * _unscaled(p, ids, r))
            grads[p], self.rows[p] = torch.zeros_like(p).index_add_(0, ids, r), (ids, r)
            squares[p] = torch.zeros_like(p).index_add_(0, ids, r.square())
        return grads, squares

    def _clip_scales(self, params: list, squares: dict) -> dict | None:
        """Per tensor, Keras's factor clipnorm / max(norm, clipnorm) with the norm of its Keras
        variable; or the global_clipnorm factor; None without norm clipping."""
        if self.clipnorm:
            scales = {}
            for v in self.variables or [[p] for p in params]:
                norm = torch.sqrt(sum(squares[p].sum() for p in v))
                scales.update(dict.fromkeys(v, self.clipnorm / torch.clamp(norm, min=self.clipnorm)))
            return scales
        if self.global_clipnorm:
            norm = torch.sqrt(sum(q.sum() for q in squares.values()))
            scale = self.global_clipnorm * torch.clamp(1.0 / norm, max=1.0 / self.global_clipnorm)
            return dict.fromkeys(params, scale)
        return None


def _unscaled(p: torch.Tensor, ids: torch.Tensor, rows: torch.Tensor) -> float:
    """The factor by which ``p.grad`` was scaled after the rows were recorded: AMP's GradScaler
    unscales ``p.grad`` in place (by a power of two) but cannot see the rows. 1 otherwise (a
    mere difference in rounding between torch's sum of the rows and this one is left alone)."""
    if p.grad is None:
        return 1.0
    dense = torch.zeros_like(p).index_add_(0, ids, rows).abs().sum()
    ratio = float(p.grad.abs().sum() / dense) if dense > 0 else 1.0
    return ratio if abs(ratio - 1.0) > 1e-3 else 1.0


class SGD(KerasOptimizer):
    """Keras's SGD: m = momentum * m - lr * g; w += m, or with nesterov w += momentum * m - lr * g."""

    def __init__(self, params: Iterable, learning_rate: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float | None = None, **clipping):
        super().__init__(params, {"lr": learning_rate, "momentum": momentum, "nesterov": nesterov,
                                  "weight_decay": weight_decay}, **clipping)

    def init_state(self, p, state, group):
        if group["momentum"]:
            state["m"] = torch.zeros_like(p)

    def update(self, p, g, g2, state, group):
        lr, mom = group["lr"], group["momentum"]
        if not mom:
            p.sub_(g * lr)
            return
        m = state["m"]
        m.copy_(m * mom - g * lr)
        p.add_(m * mom - g * lr if group["nesterov"] else m)


class Adam(KerasOptimizer):
    """Keras's Adam: the bias corrections go into the step size, epsilon outside them:
    w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)."""

    def __init__(self, params: Iterable, learning_rate: float = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False,
                 weight_decay: float | None = None, **clipping):
        super().__init__(params, {"lr": learning_rate, "beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon,
                                  "amsgrad": amsgrad, "weight_decay": weight_decay}, **clipping)

    def init_state(self, p, state, group):
        state["m"], state["v"] = torch.zeros_like(p), torch.zeros_like(p)
        if group["amsgrad"]:
            state["v_hat"] = torch.zeros_like(p)

    def update(self, p, g, g2, state, group):
        t, b1, b2 = float(state["step"]), group["beta_1"], group["beta_2"]
        alpha = bias_corrected(group["lr"], b1, b2, t)
        m, v = state["m"], state["v"]
        # Keras's forms and order of operations (lerp_ and addcdiv_ round otherwise: 1e-6 at lr=0.1)
        m.add_((g - m) * (1 - b1))
        v.add_((g2 - v) * (1 - b2))
        if group["amsgrad"]:
            v = torch.maximum(state["v_hat"], v, out=state["v_hat"])
        p.sub_((m * alpha) / (v.sqrt() + group["epsilon"]))


class AdamW(Adam):
    """Keras's AdamW: Adam with the decoupled weight decay, 0.004 unless told."""

    def __init__(self, params: Iterable, learning_rate: float = 0.001, weight_decay: float = 0.004, **kwargs):
        super().__init__(params, learning_rate, weight_decay=weight_decay, **kwargs)


class RMSprop(KerasOptimizer):
    """Keras's RMSprop: epsilon inside the square root; centered subtracts the mean gradient squared."""

    def __init__(self, params: Iterable, learning_rate: float = 0.001, rho: float = 0.9,
                 momentum: float = 0.0, epsilon: float = 1e-7, centered: bool = False,
                 weight_decay: float | None = None, **clipping):
        super().__init__(params, {"lr": learning_rate, "rho": rho, "momentum": momentum, "epsilon": epsilon,
                                  "centered": centered, "weight_decay": weight_decay}, **clipping)

    def init_state(self, p, state, group):
        state["v"] = torch.zeros_like(p)
        if group["centered"]:
            state["mean_g"] = torch.zeros_like(p)
        if group["momentum"] > 0:
            state["m"] = torch.zeros_like(p)

    def update(self, p, g, g2, state, group):
        rho, v = group["rho"], state["v"]
        v.copy_(rho * v + (1 - rho) * g2)
        if group["centered"]:
            mean_g = state["mean_g"]
            mean_g.copy_(rho * mean_g + (1 - rho) * g)
            denominator = v - mean_g.square() + group["epsilon"]
        else:
            denominator = v + group["epsilon"]
        increment = group["lr"] * g / denominator.sqrt()
        if group["momentum"] > 0:
            state["m"].copy_(group["momentum"] * state["m"] + increment)
            increment = state["m"]
        p.sub_(increment)


class Adagrad(KerasOptimizer):
    """Keras's Adagrad: the accumulator starts at initial_accumulator_value; epsilon inside the root."""

    def __init__(self, params: Iterable, learning_rate: float = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, weight_decay: float | None = None, **clipping):
        super().__init__(params, {"lr": learning_rate, "initial_accumulator_value": initial_accumulator_value,
                                  "epsilon": epsilon, "weight_decay": weight_decay}, **clipping)

    def init_state(self, p, state, group):
        state["accumulator"] = torch.full_like(p, group["initial_accumulator_value"])

    def update(self, p, g, g2, state, group):
        acc = state["accumulator"]
        acc.add_(g2)
        p.sub_(group["lr"] * g / (acc + group["epsilon"]).sqrt())
