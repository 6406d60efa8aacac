"""Learning-rate schedules for the NumPy trainer: Keras 3's formulas, shared with the torch
runtime in spec2net/runtime/schedules.py (plain Python, one copy)."""

from __future__ import annotations

from spec2net import ir
from spec2net.runtime import schedules as rs
from spec2net.tables import Table

# spec name -> the schedule's class, called with the Ref's filled arguments
SCHEDULES = Table("NumPy learning-rate schedule", instantiate=False)
for _name, _cls in (("exponential_decay", rs.ExponentialDecay), ("inverse_time_decay", rs.InverseTimeDecay),
                    ("piecewise_constant_decay", rs.PiecewiseConstantDecay), ("polynomial_decay", rs.PolynomialDecay),
                    ("cosine_decay", rs.CosineDecay), ("cosine_decay_restarts", rs.CosineDecayRestarts)):
    SCHEDULES.add(_cls, _name)


def schedule(ref: ir.Ref) -> rs.LearningRateSchedule:
    """``schedule(Ref("schedule", "cosine_decay", ...))(step)`` -> the rate after ``step`` steps."""
    return SCHEDULES[ref.name](**ref.kwargs)
