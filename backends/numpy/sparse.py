"""An embedding gradient as TensorFlow keeps it: one row per token occurrence.

Keras (TensorFlow backend) never sums an Embedding's gradient rows before the
optimizer sees them: ``tf.IndexedSlices`` keeps duplicates, and element-wise
ops act on each occurrence before a later op scatter-adds them. So Adam's and
RMSprop's ``square(g)`` and Adagrad's accumulator add the *sum of squares* of
the occurrences, not the square of their sum, and clipping measures the
occurrences' norm. To land on Keras's weights, the NumPy trainer keeps such a
gradient sparse until the optimizer has applied those quirks. Adding a dense
gradient (a regularizer's) makes it dense, as in TensorFlow.
"""

from __future__ import annotations

import numpy as np


class SparseRows:
    """``SparseRows(indices, values, shape)``: rows ``values[i]`` to add at ``indices[i]``."""

    def __init__(self, indices, values, shape):
        self.indices, self.values, self.shape = np.asarray(indices), values, tuple(shape)

    @property
    def dtype(self):
        return self.values.dtype

    def dense(self) -> np.ndarray:
        out = np.zeros(self.shape, self.values.dtype)
        np.add.at(out, self.indices, self.values)
        return out

    def square_dense(self) -> np.ndarray:
        """``square(g)`` as TensorFlow computes it on IndexedSlices: per occurrence, then summed."""
        return SparseRows(self.indices, np.square(self.values), self.shape).dense()

    def with_values(self, values) -> SparseRows:
        return SparseRows(self.indices, values, self.shape)

    def astype(self, dtype, copy=True):
        return self.with_values(self.values.astype(dtype, copy=copy))

    def __add__(self, other):
        if isinstance(other, SparseRows):  # TF concatenates IndexedSlices
            return SparseRows(np.concatenate([self.indices, other.indices]),
                              np.concatenate([self.values, other.values]), self.shape)
        if isinstance(other, (int, float)) and other == 0:
            return self
        return self.dense() + other

    __radd__ = __add__

    def __array__(self, dtype=None, copy=None):
        out = self.dense()
        return out if dtype is None else out.astype(dtype)


def dense(g) -> np.ndarray:
    return g.dense() if isinstance(g, SparseRows) else g


def square(g) -> np.ndarray:
    return g.square_dense() if isinstance(g, SparseRows) else np.square(g)


def values(g) -> np.ndarray:
    """The numbers TensorFlow's clipping sees: the occurrences of a sparse gradient."""
    return g.values if isinstance(g, SparseRows) else g


def map_values(g, fn):
    return g.with_values(fn(g.values)) if isinstance(g, SparseRows) else fn(g)
