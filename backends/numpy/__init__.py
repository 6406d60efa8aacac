"""The NumPy reference interpreter: runs a checked model with Keras 3's mathematics.

``init_weights(model, seed)`` draws every weight from its initializer;
``run(model, inputs, weights, training=False, seed=None, dtype=np.float32, trace=False)``
runs a batch. Kernels live by family (core, recurrent, normalization, merge), each module declaring and
filling its own table; kernels.py gathers them into ``KERNELS``.
"""

from .base import Kernel, KernelCall
from .initializers import init_weights
from .interpreter import InputError, forward, run
from .kernels import KERNELS

__all__ = ["KERNELS", "InputError", "Kernel", "KernelCall", "forward", "init_weights", "run"]
