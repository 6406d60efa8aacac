"""SimpleRNN, LSTM and GRU: one shared argument set, gates per layer."""

from __future__ import annotations

from .. import messages as M
from ..ir import Ref, TensorType
from .base import LayerDef, ShapeError, act_arg, init_arg, one, param, reg_arg, register
from .types import Arg, Bool, Float, Int, Optional

F = "float32"
_RATE = Float(0, 1, what="a float value between 0 and 1")


def _common(extra=()):
    return (
        Arg("units", Int(1)), act_arg("activation", "tanh"), *extra, Arg("use_bias", Bool(), True),
        init_arg("kernel_initializer", "glorot_uniform"), init_arg("recurrent_initializer", "orthogonal"),
        init_arg("bias_initializer", "zeros"), reg_arg("kernel_regularizer"),
        reg_arg("recurrent_regularizer"), reg_arg("bias_regularizer"), reg_arg("activity_regularizer"),
        Arg("dropout", _RATE, 0.0), Arg("recurrent_dropout", _RATE, 0.0), Arg("seed", Optional(Int(0)), None),
        Arg("return_sequences", Bool(), False), Arg("return_state", Bool(), False),
        Arg("go_backwards", Bool(), False),
    )


class _Recurrent(LayerDef):
    gates = 1
    states = 1
    state_names = ("h",)
    mask = "rnn"
    tolerance = 1e-4
    dropout_args = ("dropout", "recurrent_dropout")
    call_args = ("initial_state",)

    def n_outputs(self, a):
        return 1 + (self.states if a["return_state"] else 0)

    def state_types(self, a):
        return [(name, TensorType(F, (a["units"],))) for name in self.state_names]

    def infer(self, a, ins):
        t = one(ins, self.name)
        if len(t.shape) != 2:
            raise ShapeError(M.NEEDS_SEQUENCE, layer=self.name, shape=t)
        if t.shape[1] is None:
            raise ShapeError(M.NEEDS_FEATURES, layer=self.name, shape=t)
        u = a["units"]
        out = TensorType(F, (t.shape[0], u) if a["return_sequences"] else (u,))
        return [out] + [TensorType(F, (u,))] * (self.n_outputs(a) - 1)

    def bias_shape(self, a):
        return (self.gates * a["units"],)

    def bias_initializer(self, a) -> Ref:
        return a["bias_initializer"]

    def step_elements(self, a, ins):
        return (self.gates + 2) * a["units"]  # each step's gate values, its state and its output

    def params(self, a, ins):
        f, u = ins[0].shape[1], a["units"]
        out = [param("kernel", (f, self.gates * u), a, "kernel_initializer", "kernel_regularizer"),
               param("recurrent_kernel", (u, self.gates * u), a, "recurrent_initializer", "recurrent_regularizer")]
        if a["use_bias"]:
            out.append(param("bias", self.bias_shape(a), a, "bias_initializer", "bias_regularizer",
                             initializer=self.bias_initializer(a)))
        return out

    def out_masked(self, a, in_masked):
        keep = a["return_sequences"] and any(in_masked)
        return [keep] + [False] * (self.n_outputs(a) - 1)


def _samples(extra: dict):
    return (({"units": 4, **extra}, [(F, (5, 3))]),
            ({"units": 2, "return_sequences": True, **extra}, [(F, (None, 3))]),
            ({"units": 3, "return_state": True, "return_sequences": True, **extra}, [(F, (4, 2))]),
            ({"units": 2, "use_bias": False, "go_backwards": True, **extra}, [(F, (6, 1))]))


@register
class SimpleRNN(_Recurrent):
    name, auto_name = "SimpleRNN", "simple_rnn"
    args = _common()
    samples = _samples({})


@register
class LSTM(_Recurrent):
    name, auto_name = "LSTM", "lstm"
    gates, states = 4, 2  # kernel columns i f c o; states h, c
    state_names = ("h", "c")
    args = _common((act_arg("recurrent_activation", "sigmoid"),)) + (Arg("unit_forget_bias", Bool(), True),)
    samples = _samples({})

    def bias_initializer(self, a):
        # LSTMCell.build: with unit_forget_bias the forget gate's quarter starts at one
        if not a["unit_forget_bias"]:
            return a["bias_initializer"]
        return Ref("initializer", "unit_forget_bias", (("bias_initializer", a["bias_initializer"]),))


@register
class GRU(_Recurrent):
    name, auto_name = "GRU", "gru"
    gates = 3  # kernel columns z r h
    args = _common((act_arg("recurrent_activation", "sigmoid"),)) + (Arg("reset_after", Bool(), True),)
    samples = _samples({}) + (({"units": 3, "reset_after": False}, [(F, (4, 2))]),)

    def bias_shape(self, a):
        # reset_after keeps separate input and recurrent biases: (2, 3u)
        return (2, 3 * a["units"]) if a["reset_after"] else (3 * a["units"],)
