"""The NumPy reference interpreter: runs a checked model with Keras 3's mathematics.

``init_weights(model, seed)`` draws every weight from its initializer;
``run(model, inputs, weights, training=False, seed=None, dtype=np.float32, trace=False)``
runs a batch. Kernels live by family: core, recurrent, normalization, merge.
"""

from . import core, merge, normalization, recurrent  # noqa: F401  (importing registers the kernels)
from .base import KERNELS, Call, Kernel, get_kernel, kernel
from .initializers import init_weights
from .interpreter import InputError, forward, run

__all__ = ["KERNELS", "Call", "InputError", "Kernel", "forward", "get_kernel", "init_weights", "kernel", "run"]
