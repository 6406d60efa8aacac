"""The graph under construction: unique readable names, nodes, constants and initializers.

Every name comes from ``Graph.name`` (the spec's name first, then ``name_1``, ...), constants
are cached by value, and nothing depends on dict order of a run or on ids: the same IR gives
the same nodes in the same order, hence the same bytes.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INT64_MIN = np.iinfo(np.int64).min
ONNX_DTYPES = {"float16": TensorProto.FLOAT16, "float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE,
               "bfloat16": TensorProto.BFLOAT16, "int8": TensorProto.INT8, "int16": TensorProto.INT16,
               "int32": TensorProto.INT32, "int64": TensorProto.INT64, "uint8": TensorProto.UINT8,
               "bool": TensorProto.BOOL}


class Graph:
    """Nodes in emission order; ``op`` adds one and returns its output name(s).

    >>> g = Graph(used={"x"})
    >>> g.op("Relu", ["x"], hint="dense")
    'dense/Relu'
    """

    def __init__(self, used=(), outer: Graph | None = None):
        self.nodes: list = []
        self.initializers: dict = {}  # name -> TensorProto
        self.outer = outer  # a Scan body's enclosing graph: names are unique across both
        self._used = set(used) if outer is None else outer._used
        self._consts: dict = {}

    def name(self, base: str) -> str:
        """``base`` if free, else ``base_1``, ``base_2``, ...; reserved once returned."""
        name, k = base, 0
        while name in self._used:
            k += 1
            name = f"{base}_{k}"
        self._used.add(name)
        return name

    def op(self, op_type: str, inputs: list, hint: str = "", outs=None, n_out: int = 1, **attrs):
        """Add a node; ``outs`` names its outputs, else they are named ``hint/op_type``."""
        stem = f"{hint}/{op_type}" if hint else op_type
        if outs is None:
            outs = [self.name(stem if n_out == 1 else f"{stem}_{i}") for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outs), name=self.name(f"{stem}_node"),
                                           **attrs))
        return outs[0] if len(outs) == 1 else list(outs)

    def const(self, value, dtype=np.int64) -> str:
        """A constant tensor, one per distinct value (in the outermost graph, which bodies see)."""
        if self.outer is not None:
            return self.outer.const(value, dtype)
        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self._consts:
            name = self.name(f"const/{_const_stem(arr)}")
            self.initializers[name] = numpy_helper.from_array(arr, name)
            self._consts[key] = name
        return self._consts[key]

    def initializer(self, name: str, arr: np.ndarray) -> str:
        if name not in self.initializers:
            self.name(name)
            self.initializers[name] = numpy_helper.from_array(np.ascontiguousarray(arr, np.float32), name)
        return name

    # -- small compositions every family uses --------------------------------------------------
    def reverse(self, x: str, axis: int, hint: str) -> str:
        """``x`` with ``axis`` reversed: a Slice with step -1."""
        return self.op("Slice", [x, self.const([-1]), self.const([INT64_MIN]), self.const([axis]),
                                 self.const([-1])], hint)

    def shape_slice(self, x: str, start: int, end: int | None, hint: str) -> str:
        """The run-time dims ``start:end`` of ``x``, as an int64 vector."""
        kw = {"start": start} if end is None else {"start": start, "end": end}
        return self.op("Shape", [x], hint, **kw)

    def as_float(self, mask: str, hint: str) -> str:
        return self.op("Cast", [mask], hint, to=TensorProto.FLOAT)


def _const_stem(arr: np.ndarray) -> str:
    if arr.size <= 4:
        text = "_".join(str(v) for v in arr.ravel().tolist()).replace("-", "m").replace(".", "p")
        return text or "empty"
    return f"{arr.dtype.name}_{arr.size}"


def value_info(name: str, dtype: str, dims) -> onnx.ValueInfoProto:
    """A graph input or output: ``dims`` holds ints and dim-param strings."""
    return helper.make_tensor_value_info(name, ONNX_DTYPES[dtype], list(dims))
