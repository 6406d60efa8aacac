"""Every layer type's kernel, gathered from the family modules that declare them."""

from __future__ import annotations

from . import conv, core, merge, normalization, pooling, recurrent, simple, wrappers
from .base import merged

KERNELS = merged("NumPy kernel", core.KERNELS, merge.KERNELS, normalization.KERNELS, recurrent.KERNELS, conv.KERNELS,
                 pooling.KERNELS, simple.KERNELS, wrappers.KERNELS)
