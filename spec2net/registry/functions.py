"""Activations, initializers, regularizers, optimizers, losses and metrics:
one entry each, with Keras 3's argument names, defaults and aliases."""

from __future__ import annotations

from dataclasses import dataclass

from .types import Arg, Bool, Float, Int, Optional


@dataclass(frozen=True)
class FuncDef:
    kind: str
    name: str  # canonical spec name
    args: tuple = ()
    aliases: tuple = ()
    keras_name: str = ""  # Keras class or identifier, for the Keras backend and tests


REGISTRIES: dict[str, dict[str, FuncDef]] = {}


def _add(kind: str, name: str, *args: Arg, aliases=(), keras=""):
    entry = FuncDef(kind, name, tuple(args), tuple(aliases), keras or name)
    table = REGISTRIES.setdefault(kind, {})
    for key in (name, *aliases):
        table[key] = entry
    return entry


def canonical(kind: str) -> dict[str, FuncDef]:
    """Entries of a kind without their aliases, in registration order."""
    return {k: v for k, v in REGISTRIES[kind].items() if k == v.name}


SEED = Arg("seed", Optional(Int(0)), None)
POS = Float(0, lo_open=True, what="a positive number")
NONNEG = Float(0, what="a number >= 0")

# -- activations (no arguments; LeakyReLU's slope lives on the layer) ------------
for _name in ["linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu", "swish", "softplus", "softsign", "hard_sigmoid", "exponential"]:
    _add("activation", _name, aliases=("silu",) if _name == "swish" else ())

# -- initializers (Keras 3 defaults) -------------------------------------------
_add("initializer", "zeros", keras="Zeros")
_add("initializer", "ones", keras="Ones")
_add("initializer", "constant", Arg("value", Float(), 0.0), keras="Constant")
_add("initializer", "random_uniform", Arg("minval", Float(), -0.05), Arg("maxval", Float(), 0.05), SEED,
     aliases=("uniform",), keras="RandomUniform")
_add("initializer", "random_normal", Arg("mean", Float(), 0.0), Arg("stddev", POS, 0.05), SEED,
     aliases=("normal",), keras="RandomNormal")
_add("initializer", "truncated_normal", Arg("mean", Float(), 0.0), Arg("stddev", POS, 0.05), SEED,
     keras="TruncatedNormal")
for _name, _keras in (("glorot_uniform", "GlorotUniform"), ("glorot_normal", "GlorotNormal"),
                      ("he_uniform", "HeUniform"), ("he_normal", "HeNormal"),
                      ("lecun_uniform", "LecunUniform"), ("lecun_normal", "LecunNormal")):
    _add("initializer", _name, SEED, keras=_keras)
_add("initializer", "orthogonal", Arg("gain", Float(), 1.0), SEED, keras="Orthogonal")
_add("initializer", "identity", Arg("gain", Float(), 1.0), keras="Identity")

# -- regularizers (Keras: l2 adds l2 * sum(w**2), no 1/2) ------------------------
_add("regularizer", "l1", Arg("l1", NONNEG, 0.01), keras="L1")
_add("regularizer", "l2", Arg("l2", NONNEG, 0.01), keras="L2")
_add("regularizer", "l1_l2", Arg("l1", NONNEG, 0.0), Arg("l2", NONNEG, 0.0), keras="L1L2")

# -- optimizers ----------------------------------------------------------------
_CLIP = (Arg("clipnorm", Optional(POS), None), Arg("clipvalue", Optional(POS), None),
         Arg("global_clipnorm", Optional(POS), None))
_LR = lambda default: Arg("learning_rate", POS, default, aliases=("lr",))
_EPS = Arg("epsilon", POS, 1e-7)
_BETAS = (Arg("beta_1", Float(0, 1, hi_open=True), 0.9), Arg("beta_2", Float(0, 1, hi_open=True), 0.999))
_add("optimizer", "sgd", _LR(0.01), Arg("momentum", Float(0, 1), 0.0), Arg("nesterov", Bool(), False), *_CLIP,
     keras="SGD")
_add("optimizer", "adam", _LR(0.001), *_BETAS, _EPS, Arg("amsgrad", Bool(), False), *_CLIP, keras="Adam")
_add("optimizer", "adamw", _LR(0.001), Arg("weight_decay", NONNEG, 0.004), *_BETAS, _EPS,
     Arg("amsgrad", Bool(), False), *_CLIP, keras="AdamW")
_add("optimizer", "rmsprop", _LR(0.001), Arg("rho", Float(0, 1), 0.9), Arg("momentum", Float(0, 1), 0.0), _EPS,
     Arg("centered", Bool(), False), *_CLIP, keras="RMSprop")
_add("optimizer", "adagrad", _LR(0.001), Arg("initial_accumulator_value", NONNEG, 0.1), _EPS, *_CLIP,
     keras="Adagrad")

# -- losses ----------------------------------------------------------------------
_LOGITS = Arg("from_logits", Bool(), False)
_add("loss", "mean_squared_error", aliases=("mse",), keras="MeanSquaredError")
_add("loss", "mean_absolute_error", aliases=("mae",), keras="MeanAbsoluteError")
_add("loss", "binary_crossentropy", _LOGITS, keras="BinaryCrossentropy")
_add("loss", "categorical_crossentropy", _LOGITS, keras="CategoricalCrossentropy")
_add("loss", "sparse_categorical_crossentropy", _LOGITS, keras="SparseCategoricalCrossentropy")

# -- metrics ---------------------------------------------------------------------
_add("metric", "accuracy", aliases=("acc",), keras="accuracy")
_add("metric", "binary_accuracy", keras="binary_accuracy")
_add("metric", "categorical_accuracy", keras="categorical_accuracy")
_add("metric", "sparse_categorical_accuracy", keras="sparse_categorical_accuracy")
_add("metric", "mean_squared_error", aliases=("mse",), keras="mean_squared_error")
_add("metric", "mean_absolute_error", aliases=("mae",), keras="mean_absolute_error")
