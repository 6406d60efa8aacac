"""Keras 3's regularizers (keras/src/regularizers/regularizers.py): each gives its penalty on a
weight and the penalty's gradient. Keras's l2 adds ``l2 * sum(w ** 2)``, no 1/2."""

from __future__ import annotations

import numpy as np

from spec2net import ir
from spec2net.tables import Table

REGULARIZERS = Table("NumPy regularizer")


def _l1(w, c):
    return c * float(np.sum(np.abs(w))), c * np.sign(w)


def _l2(w, c):
    return c * float(np.sum(np.square(w))), 2 * c * w


@REGULARIZERS.register("l1")
def l1_penalty(w, l1):
    return _l1(w, l1)


@REGULARIZERS.register("l2")
def l2_penalty(w, l2):
    return _l2(w, l2)


@REGULARIZERS.register("l1_l2")
def l1_l2_penalty(w, l1, l2):
    # as Keras's L1L2, a zero factor adds no term at all
    terms = [term(w, c) for term, c in ((_l1, l1), (_l2, l2)) if c]
    return sum(v for v, _ in terms), sum((g for _, g in terms), np.zeros_like(w))


def penalty(ref: ir.Ref | None, w: np.ndarray):
    """A regularizer's value and gradient, ``(0.0, None)`` without one: ``penalty(Ref("regularizer",
    "l2", (("l2", 0.01),)), w)``."""
    if ref is None:
        return 0.0, None
    return REGULARIZERS[ref.name](w, **ref.kwargs)
