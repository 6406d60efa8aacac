"""Keras 3's learning-rate schedules (keras/src/optimizers/schedules/learning_rate_schedule.py)
as plain Python: ``schedule(step) -> learning rate``, with ``step`` the optimizer's count of the
steps already taken (0 for the first update), as Keras evaluates ``optimizer.learning_rate``.

Plain Python and nothing else, so the NumPy trainer and the torch runtime share one copy (and
``build --standalone`` can paste it). Keras computes in float32; these compute in float64, which
moves a rate by about 1e-8 of itself.

>>> round(CosineDecay(0.1, decay_steps=10)(5), 12)
0.05
"""

from __future__ import annotations

import math


class LearningRateSchedule:
    """A schedule: called with the step, returns the rate. Keras's arguments, checked as Keras does."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    @staticmethod
    def _positive(name: str, value) -> None:
        if value <= 0:
            raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class _Decay(LearningRateSchedule):
    """The arguments ExponentialDecay and InverseTimeDecay share, and how ``staircase`` counts."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False):
        self._positive("decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase = decay_rate, staircase


class ExponentialDecay(_Decay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; ``staircase`` floors the power."""

    def __call__(self, step):
        p = step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate ** (math.floor(p) if self.staircase else p)


class InverseTimeDecay(_Decay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; ``staircase`` floors the ratio."""

    def __call__(self, step):
        p = step / self.decay_steps
        return self.initial_learning_rate / (1 + self.decay_rate * (math.floor(p) if self.staircase else p))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` after ``boundaries[i - 1]``: a boundary step still has the earlier value
    (Keras switches when ``step > boundary``)."""

    def __init__(self, boundaries, values):
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of values. Received: "
                             f"boundaries={list(boundaries)} of length {len(boundaries)}, and "
                             f"values={list(values)} of length {len(values)}.")
        self.boundaries, self.values = tuple(boundaries), tuple(values)

    def __call__(self, step):
        return self.values[sum(step > b for b in self.boundaries)]


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps`` along
    ``(1 - step / decay_steps) ** power``; ``cycle`` stretches decay_steps to the next multiple."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False):
        self._positive("decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle = end_learning_rate, power, cycle

    def __call__(self, step):
        steps = self.decay_steps
        if self.cycle:  # step 0 counts as the first cycle
            steps *= 1.0 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, steps)
        p = step / steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power + self.end_learning_rate


def _cosine(fraction: float, alpha: float) -> float:
    return (1 - alpha) * 0.5 * (1.0 + math.cos(math.pi * fraction)) + alpha


class CosineDecay(LearningRateSchedule):
    """Half a cosine from the rate down to ``alpha`` times it over ``decay_steps``; with a
    ``warmup_target``, first a straight line from ``initial_learning_rate`` to it over
    ``warmup_steps``, then the cosine from ``warmup_target``."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 warmup_target: float | None = None, warmup_steps: int = 0):
        self._positive("decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps, self.alpha = initial_learning_rate, decay_steps, alpha
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def __call__(self, step):
        if self.warmup_target is None:
            return self.initial_learning_rate * _cosine(min(step, self.decay_steps) / self.decay_steps, self.alpha)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            start = self.initial_learning_rate
            return (self.warmup_target - start) * (step / self.warmup_steps) + start
        return self.warmup_target * _cosine((step - self.warmup_steps) / self.decay_steps, self.alpha)


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decays over ``first_decay_steps``, each next period ``t_mul`` times longer
    and starting ``m_mul`` times lower."""

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0):
        self._positive("first_decay_steps", first_decay_steps)
        self.initial_learning_rate, self.first_decay_steps = initial_learning_rate, first_decay_steps
        self.t_mul, self.m_mul, self.alpha = t_mul, m_mul, alpha

    def __call__(self, step):
        fraction, t_mul = step / self.first_decay_steps, self.t_mul
        if t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:  # the periods' lengths are a geometric series: which one holds the step, and where in it
            restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            fraction = (fraction - (1.0 - t_mul**restart) / (1.0 - t_mul)) / t_mul**restart
        decayed = 0.5 * self.m_mul**restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * decayed + self.alpha)


SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay,
                                           PolynomialDecay, CosineDecay, CosineDecayRestarts)}


def current_rate(learning_rate, step: int) -> float:
    """The rate of the step after ``step`` steps: ``learning_rate`` itself, or the schedule's value."""
    return learning_rate(step) if callable(learning_rate) else learning_rate
