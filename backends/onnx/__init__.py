"""The ONNX backend: the IR written as an ONNX graph with the onnx package (docs/onnx.md).

``model_bytes(net.ir, weights)`` is what ``spec2net build --backend onnx`` writes; the per-layer
emitters are in ``emit_*.py`` (the ``EMITTERS`` table), the layout conversions in ``weights.py``.
"""

from .emitter import EMITTERS
from .export import DEFAULT_OPSET, MIN_OPSET, build_model, check_size, model_bytes, traced_model

__all__ = ["DEFAULT_OPSET", "EMITTERS", "MIN_OPSET", "build_model", "check_size", "model_bytes",
           "traced_model"]
