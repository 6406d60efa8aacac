"""The optimizers language 0.2 adds (Keras 3's Adadelta, Adamax, Nadam, Lion, Ftrl) on
torch_optim's KerasOptimizer: its step clips, decays, schedules and averages (EMA); these hold
each one's update rule (keras/src/optimizers/*.py).

Adadelta and Adamax act on an Embedding's gradient one lookup at a time where Keras (TensorFlow's
IndexedSlices) does: ``self.rows`` holds a tensor's clipped (ids, rows) when it has them.

>>> opt = Nadam(model.parameters(), learning_rate=2e-3, weight_decay=0.01)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from .torch_optim import KerasOptimizer, f32_power


def _summed(p: torch.Tensor, ids: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(p).index_add_(0, ids, rows)


class Adadelta(KerasOptimizer):
    """Keras's Adadelta: delta = -sqrt(acc_delta + eps) * g / sqrt(acc_g + eps); both accumulators
    are decayed with rho; w += lr * delta."""

    def __init__(self, params: Iterable, learning_rate=0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 weight_decay: float | None = None, **options):
        super().__init__(params, {"lr": learning_rate, "rho": rho, "epsilon": epsilon,
                                  "weight_decay": weight_decay}, **options)

    def init_state(self, p, state, group):
        state["accumulated_grad"], state["accumulated_delta_var"] = torch.zeros_like(p), torch.zeros_like(p)

    def update(self, p, g, g2, state, group):
        rho, eps = group["rho"], group["epsilon"]
        acc_g, acc_d = state["accumulated_grad"], state["accumulated_delta_var"]
        acc_g.copy_(rho * acc_g + (1 - rho) * g2)
        factor = -(acc_d + eps).sqrt() / (acc_g + eps).sqrt()
        rows = self.rows.get(p)
        if rows is None:
            delta = factor * g
            delta2 = delta.square()
        else:  # one delta per lookup: their squares, not the square of their sum, accumulate
            ids, r = rows
            d = r * factor[ids]
            delta, delta2 = _summed(p, ids, d), _summed(p, ids, d.square())
        acc_d.copy_(rho * acc_d + (1 - rho) * delta2)
        p.add_(group["lr"] * delta)


class _AdamFamily(KerasOptimizer):
    """The constructor Adamax and Nadam share with Keras's Adam: its arguments and defaults."""

    def __init__(self, params: Iterable, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, weight_decay: float | None = None, **options):
        super().__init__(params, {"lr": learning_rate, "beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon,
                                  "weight_decay": weight_decay}, **options)


class Adamax(_AdamFamily):
    """Keras's Adamax: u = max(beta_2 * u, |g|); w -= lr * m / ((1 - beta_1^t) * (u + eps))."""

    def init_state(self, p, state, group):
        state["m"], state["u"] = torch.zeros_like(p), torch.zeros_like(p)

    def update(self, p, g, g2, state, group):
        b1, m, u = group["beta_1"], state["m"], state["u"]
        rows = self.rows.get(p)
        # |g| per lookup, then summed, where Keras takes abs of IndexedSlices
        magnitude = g.abs() if rows is None else _summed(p, rows[0], rows[1].abs())
        m.add_((g - m) * (1 - b1))
        torch.maximum(group["beta_2"] * u, magnitude, out=u)
        b1_power = float(f32_power(b1, float(state["step"])))
        p.sub_(group["lr"] * m / ((1 - b1_power) * (u + group["epsilon"])))


class Nadam(_AdamFamily):
    """Keras's Nadam: Adam with Nesterov momentum under the momentum schedule
    u_t = beta_1 * (1 - 0.5 * 0.96^t), whose running product Keras keeps in float32."""

    def init_state(self, p, state, group):
        state["m"], state["v"] = torch.zeros_like(p), torch.zeros_like(p)
        state["u_product"] = torch.ones((), dtype=torch.float32)

    def update(self, p, g, g2, state, group):
        t, f32 = float(state["step"]), np.float32
        b1, b2 = f32(group["beta_1"]), f32(group["beta_2"])
        u_t = float(b1 * (f32(1) - f32(0.5) * f32_power(0.96, t)))
        u_next = float(b1 * (f32(1) - f32(0.5) * f32_power(0.96, t + 1)))
        u_product = state["u_product"].mul_(u_t)
        m, v = state["m"], state["v"]
        m.add_((g - m) * float(1 - b1))
        v.add_((g2 - v) * float(1 - b2))
        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
        v_hat = v / float(1 - f32_power(b2, t))
        p.sub_(m_hat * group["lr"] / (v_hat.sqrt() + group["epsilon"]))


class Lion(KerasOptimizer):
    """Keras's Lion: w -= lr * sign(beta_1 * m + (1 - beta_1) * g); m = beta_2 * m + (1 - beta_2) * g."""

    def __init__(self, params: Iterable, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.99,
                 weight_decay: float | None = None, **options):
        if not 0 < beta_1 <= 1:
            raise ValueError(f"Argument `beta_1` must be in the (0, 1] range. Received: beta_1={beta_1}.")
        super().__init__(params, {"lr": learning_rate, "beta_1": beta_1, "beta_2": beta_2,
                                  "weight_decay": weight_decay}, **options)

    def init_state(self, p, state, group):
        state["m"] = torch.zeros_like(p)

    def update(self, p, g, g2, state, group):
        b1, b2, m = group["beta_1"], group["beta_2"], state["m"]
        p.sub_(group["lr"] * torch.sign(m * b1 + g * (1.0 - b1)))
        m.copy_(m * b2 + g * (1.0 - b2))


class Ftrl(KerasOptimizer):
    """Keras's FTRL-proximal: the linear term gathers the gradient (with the l2 shrinkage) less the
    change of sigma; the weight is its soft-threshold by l1 over the quadratic term."""

    def __init__(self, params: Iterable, learning_rate=0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1, l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, l2_shrinkage_regularization_strength: float = 0.0,
                 beta: float = 0.0, weight_decay: float | None = None, **options):
        super().__init__(params, {"lr": learning_rate, "learning_rate_power": learning_rate_power,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "l1": l1_regularization_strength, "l2": l2_regularization_strength,
                                  "l2_shrinkage": l2_shrinkage_regularization_strength, "beta": beta,
                                  "weight_decay": weight_decay}, **options)

    def init_state(self, p, state, group):
        state["accumulator"] = torch.full_like(p, group["initial_accumulator_value"])
        state["linear"] = torch.zeros_like(p)

    def update(self, p, g, g2, state, group):
        lr, power, l1 = group["lr"], -group["learning_rate_power"], group["l1"]
        l2 = group["l2"] + group["beta"] / (2.0 * lr)
        accum, linear = state["accumulator"], state["linear"]
        new_accum = accum + g2
        linear.add_(g + 2 * group["l2_shrinkage"] * p - (new_accum.pow(power) - accum.pow(power)) / lr * p)
        quadratic = new_accum.pow(power) / lr + 2 * l2
        accum.copy_(new_accum)
        p.copy_((linear.clamp(-l1, l1) - linear) / quadratic)
