"""Dense, Embedding, Dropout, Activation, LeakyReLU, Flatten, Reshape."""

from __future__ import annotations

from onnx import TensorProto

from .activations import activate
from .emitter import EMITTERS, Call, Emitter


@EMITTERS.register("Dense")
class Dense(Emitter):
    def emit(self, c: Call):
        y = c.op("MatMul", [c.ins[0], c.w("kernel")])
        if c.a["use_bias"]:
            y = c.op("Add", [y, c.w("bias")])
        activate(c.g, c.a["activation"], y, c.hint, c.outs[0])


@EMITTERS.register("Embedding")
class Embedding(Emitter):
    def emit(self, c: Call):
        ids = c.ins[0]
        if c.in_types[0].dtype not in ("int32", "int64"):
            # Keras casts other integer ids; Gather (and onnxruntime's Equal) take int32 and int64
            ids = c.op("Cast", [ids], to=TensorProto.INT64)
        c.scratch["ids"] = ids
        c.op("Gather", [c.w("embeddings"), ids], out=0, axis=0)

    def out_masks(self, c):
        if not c.a["mask_zero"]:
            return [None]
        ids = c.scratch["ids"]
        zero = c.g.const(0, "int32" if ids == c.ins[0] and c.in_types[0].dtype == "int32" else "int64")
        return [c.op("Not", [c.op("Equal", [ids, zero])])]


@EMITTERS.register("Dropout", "SpatialDropout1D")
class Identity(Emitter):
    """Inference: dropout passes its input through."""

    def emit(self, c: Call):
        c.op("Identity", [c.ins[0]], out=0)


@EMITTERS.register("Activation")
class Activation(Emitter):
    def emit(self, c: Call):
        activate(c.g, c.a["activation"], c.ins[0], c.hint, c.outs[0])


@EMITTERS.register("LeakyReLU")
class LeakyReLU(Emitter):
    def emit(self, c: Call):
        c.op("LeakyRelu", [c.ins[0]], out=0, alpha=float(c.a["negative_slope"]))


@EMITTERS.register("Flatten")
class Flatten(Emitter):
    def emit(self, c: Call):
        if not c.in_types[0].shape:  # a per-sample scalar: Keras makes (batch,) (batch, 1)
            c.op("Unsqueeze", [c.ins[0], c.g.const([1])], out=0)
        else:
            c.op("Flatten", [c.ins[0]], out=0, axis=1)


@EMITTERS.register("Reshape")
class Reshape(Emitter):
    def emit(self, c: Call):
        # 0 keeps the batch dimension as it is
        c.op("Reshape", [c.ins[0], c.g.const([0, *c.a["target_shape"]])], out=0)
