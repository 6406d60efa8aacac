"""Activations, initializers, regularizers, optimizers, losses and metrics:
one entry each, with Keras 3's argument names, defaults and aliases."""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import Ref
from .types import Arg, ArgError, ArgType, Bool, Fixed, Float, Func, Int, Optional


@dataclass(frozen=True)
class FuncDef:
    kind: str
    name: str  # canonical spec name
    args: tuple = ()
    aliases: tuple = ()
    keras_name: str = ""  # Keras class or identifier, for the Keras backend and tests
    # an initializer that is Keras's VarianceScaling: (scale, mode, distribution)
    variance_scaling: tuple = ()
    # a loss's targets, as Keras reads them: "real", "binary" (0/1), "one_hot", "class_ids"
    target: str = ""
    # a cross-entropy's activation whose logits Keras (TensorFlow backend) reads instead of its
    # probabilities (keras/src/backend/tensorflow/nn.py, _get_logits)
    logits_of: str = ""
    # a loss that takes the log of its predictions unclipped (poisson): they must be positive, so
    # tests feed it a softplus output
    positive: bool = False

    @property
    def class_axis(self) -> bool:
        """A loss that reads a class axis: an output of one unit cannot feed it."""
        return self.target in ("one_hot", "class_ids")


REGISTRIES: dict[str, dict[str, FuncDef]] = {}
# Initializers a layer declares for one of its parameters but a spec cannot name: Keras builds them
# inside the layer (LSTMCell.build's unit_forget_bias). Backends implement them like the others.
LAYER_INITIALIZERS: dict[str, FuncDef] = {}


def _add(kind: str, name: str, *args: Arg, aliases=(), keras="", **facts):
    entry = FuncDef(kind, name, tuple(args), tuple(aliases), keras or name, **facts)
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

# -- activations -------------------------------------------------------------------
# Keras's activation *names* take no arguments; the functions behind them have defaults that a name
# fixes. leaky_relu's slope is such a default (0.2; the LeakyReLU layer's own is 0.3): the checker
# fills it into the Ref so every backend reads it from the IR, and a spec cannot change it.
for _name in ["linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu", "swish", "softplus",
              "softsign", "hard_sigmoid", "exponential"]:
    _add("activation", _name, aliases=("silu",) if _name == "swish" else ())
_add("activation", "leaky_relu",
     Arg("negative_slope", Fixed(0.2, "the LeakyReLU layer takes another slope"), 0.2))
# language 0.2; celu's alpha is its function's default (1.0), fixed by the name as leaky_relu's slope
for _name in ["relu6", "mish", "log_softmax", "hard_silu", "log_sigmoid", "hard_tanh"]:
    _add("activation", _name, aliases=("hard_swish",) if _name == "hard_silu" else ())
_add("activation", "celu", Arg("alpha", Fixed(1.0, "the celu name fixes it"), 1.0))

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
# Keras's VarianceScaling family (keras/src/initializers/random_initializers.py): its normal
# distribution is the truncated one
for _name, _keras, _vs in (("glorot_uniform", "GlorotUniform", (1.0, "fan_avg", "uniform")),
                           ("glorot_normal", "GlorotNormal", (1.0, "fan_avg", "truncated_normal")),
                           ("he_uniform", "HeUniform", (2.0, "fan_in", "uniform")),
                           ("he_normal", "HeNormal", (2.0, "fan_in", "truncated_normal")),
                           ("lecun_uniform", "LecunUniform", (1.0, "fan_in", "uniform")),
                           ("lecun_normal", "LecunNormal", (1.0, "fan_in", "truncated_normal"))):
    _add("initializer", _name, SEED, keras=_keras, variance_scaling=_vs)
_add("initializer", "orthogonal", Arg("gain", Float(), 1.0), SEED, keras="Orthogonal")
_add("initializer", "identity", Arg("gain", Float(), 1.0), keras="Identity")
# LSTMCell.build with unit_forget_bias: the bias's forget-gate quarter (gates i f c o) starts at one,
# the other three from bias_initializer. LSTM.params declares its bias with it.
LAYER_INITIALIZERS["unit_forget_bias"] = FuncDef(
    "initializer", "unit_forget_bias", (Arg("bias_initializer", Func("initializer"), Ref("initializer", "zeros")),))

# -- regularizers (Keras: l2 adds l2 * sum(w**2), no 1/2) ------------------------
_add("regularizer", "l1", Arg("l1", NONNEG, 0.01), keras="L1")
_add("regularizer", "l2", Arg("l2", NONNEG, 0.01), keras="L2")
_add("regularizer", "l1_l2", Arg("l1", NONNEG, 0.0), Arg("l2", NONNEG, 0.0), keras="L1L2")

# -- learning-rate schedules (keras.optimizers.schedules; steps counted from 0) --------------
class Rate(ArgType):
    """An optimizer's ``learning_rate``: a positive number, or a schedule by name or call."""

    kind = "schedule"  # the binder lets a bare name through to ``coerce`` (args._takes_symbols)
    expected = "a positive number or a learning-rate schedule"

    def coerce(self, v, resolve):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            try:
                return POS.coerce(v, resolve)
            except ArgError as e:
                raise ArgError(e.code, self.expected) from None
        ref = resolve("schedule", v)
        if ref.name == "piecewise_constant_decay" and len(ref.kwargs["values"]) != len(ref.kwargs["boundaries"]) + 1:
            # Keras's constructor refuses it too; two arguments, so checked once both are bound
            raise ArgError("arg-range", "a piecewise_constant_decay with one value more than it has boundaries")
        return ref


class Numbers(ArgType):
    """A non-empty list of numbers (PiecewiseConstantDecay's boundaries and values); with
    ``keep_ints`` an int stays an int (boundaries count steps: written back as a Keras user
    writes them), else every item is a float (Keras takes the rates' dtype from the first)."""

    expected = "a list of numbers"

    def __init__(self, keep_ints=False):
        self.keep_ints = keep_ints

    def coerce(self, v, resolve):
        if not isinstance(v, (list, tuple)) or not v:
            raise ArgError("arg-type", self.expected)
        return tuple(x if self.keep_ints and type(x) is int else Float().coerce(x, resolve) for x in v)


_INITIAL = Arg("initial_learning_rate", POS)
_STEPS = Arg("decay_steps", Int(1))
for _name, _keras in (("exponential_decay", "ExponentialDecay"), ("inverse_time_decay", "InverseTimeDecay")):
    _add("schedule", _name, _INITIAL, _STEPS, Arg("decay_rate", NONNEG), Arg("staircase", Bool(), False),
         keras=_keras)
_add("schedule", "piecewise_constant_decay", Arg("boundaries", Numbers(keep_ints=True)), Arg("values", Numbers()),
     keras="PiecewiseConstantDecay")
_add("schedule", "polynomial_decay", _INITIAL, _STEPS, Arg("end_learning_rate", NONNEG, 0.0001),
     Arg("power", Float(), 1.0), Arg("cycle", Bool(), False), keras="PolynomialDecay")
_add("schedule", "cosine_decay", _INITIAL, _STEPS, Arg("alpha", Float(0, 1), 0.0),
     Arg("warmup_target", Optional(NONNEG), None), Arg("warmup_steps", Int(0), 0), keras="CosineDecay")
_add("schedule", "cosine_decay_restarts", _INITIAL, Arg("first_decay_steps", Int(1)), Arg("t_mul", POS, 2.0),
     Arg("m_mul", NONNEG, 1.0), Arg("alpha", Float(0, 1), 0.0), keras="CosineDecayRestarts")

# -- optimizers: each one's own arguments (Keras 3's order), then BaseOptimizer's ---------------
_BASE = (Arg("weight_decay", Optional(NONNEG), None), Arg("clipnorm", Optional(POS), None),
         Arg("clipvalue", Optional(POS), None), Arg("global_clipnorm", Optional(POS), None),
         Arg("use_ema", Bool(), False), Arg("ema_momentum", Float(0, 1), 0.99))
_LR = lambda default: Arg("learning_rate", Rate(), default, aliases=("lr",))
_EPS = Arg("epsilon", POS, 1e-7)
_BETA = lambda name, default: Arg(name, Float(0, 1, hi_open=True), default)
_BETAS = (_BETA("beta_1", 0.9), _BETA("beta_2", 0.999))
_add("optimizer", "sgd", _LR(0.01), Arg("momentum", Float(0, 1), 0.0), Arg("nesterov", Bool(), False), *_BASE,
     keras="SGD")
_add("optimizer", "adam", _LR(0.001), *_BETAS, _EPS, Arg("amsgrad", Bool(), False), *_BASE, keras="Adam")
# AdamW: weight_decay second and 0.004, as in Keras's signature
_add("optimizer", "adamw", _LR(0.001), Arg("weight_decay", NONNEG, 0.004), *_BETAS, _EPS,
     Arg("amsgrad", Bool(), False), *_BASE[1:], keras="AdamW")
_add("optimizer", "rmsprop", _LR(0.001), Arg("rho", Float(0, 1), 0.9), Arg("momentum", Float(0, 1), 0.0), _EPS,
     Arg("centered", Bool(), False), *_BASE, keras="RMSprop")
_add("optimizer", "adagrad", _LR(0.001), Arg("initial_accumulator_value", NONNEG, 0.1), _EPS, *_BASE,
     keras="Adagrad")
_add("optimizer", "adadelta", _LR(0.001), Arg("rho", Float(0, 1), 0.95), _EPS, *_BASE, keras="Adadelta")
_add("optimizer", "adamax", _LR(0.001), *_BETAS, _EPS, *_BASE, keras="Adamax")
_add("optimizer", "nadam", _LR(0.001), *_BETAS, _EPS, *_BASE, keras="Nadam")
# Lion: beta_1 in (0, 1] (Keras refuses 0: the optimizer would be SignSGD)
_add("optimizer", "lion", _LR(0.001), Arg("beta_1", Float(0, 1, lo_open=True), 0.9), _BETA("beta_2", 0.99),
     *_BASE, keras="Lion")
_add("optimizer", "ftrl", _LR(0.001), Arg("learning_rate_power", Float(hi=0), -0.5),
     Arg("initial_accumulator_value", NONNEG, 0.1), Arg("l1_regularization_strength", NONNEG, 0.0),
     Arg("l2_regularization_strength", NONNEG, 0.0), Arg("l2_shrinkage_regularization_strength", NONNEG, 0.0),
     Arg("beta", Float(), 0.0), *_BASE, keras="Ftrl")

# -- losses ----------------------------------------------------------------------
_LOGITS = Arg("from_logits", Bool(), False)
_SMOOTHING = Arg("label_smoothing", Float(0, 1, what="a fraction in [0, 1]"), 0.0)
_add("loss", "mean_squared_error", aliases=("mse",), keras="MeanSquaredError", target="real")
_add("loss", "mean_absolute_error", aliases=("mae",), keras="MeanAbsoluteError", target="real")
_add("loss", "binary_crossentropy", _LOGITS, _SMOOTHING, keras="BinaryCrossentropy", target="binary",
     logits_of="sigmoid")
_add("loss", "categorical_crossentropy", _LOGITS, _SMOOTHING, keras="CategoricalCrossentropy", target="one_hot",
     logits_of="softmax")
_add("loss", "sparse_categorical_crossentropy", _LOGITS, keras="SparseCategoricalCrossentropy",
     target="class_ids", logits_of="softmax")
_add("loss", "huber", Arg("delta", POS, 1.0), keras="Huber", target="real")
_add("loss", "log_cosh", keras="LogCosh", target="real")
_add("loss", "kl_divergence", aliases=("kld",), keras="KLDivergence", target="one_hot")  # rows of distributions
_add("loss", "poisson", keras="Poisson", target="real", positive=True)
# "signed": -1/1 labels; Keras maps 0/1 ones to -1/1 when the whole batch is 0/1
_add("loss", "hinge", keras="Hinge", target="signed")
_add("loss", "squared_hinge", keras="SquaredHinge", target="signed")
_add("loss", "categorical_hinge", keras="CategoricalHinge", target="one_hot")
# the axis counts the batch, as Keras's do; compile_check fits it to the output's rank
_add("loss", "cosine_similarity", Arg("axis", Int(-64, 64, what="an axis of the output"), -1), keras="CosineSimilarity",
     target="real")
_add("loss", "mean_absolute_percentage_error", aliases=("mape",), keras="MeanAbsolutePercentageError",
     target="real")
_add("loss", "mean_squared_logarithmic_error", aliases=("msle",), keras="MeanSquaredLogarithmicError",
     target="real")

# -- metrics ---------------------------------------------------------------------
_add("metric", "accuracy", aliases=("acc",), keras="accuracy")
_add("metric", "binary_accuracy", keras="binary_accuracy")
_add("metric", "categorical_accuracy", keras="categorical_accuracy")
_add("metric", "sparse_categorical_accuracy", keras="sparse_categorical_accuracy")
_add("metric", "mean_squared_error", aliases=("mse",), keras="mean_squared_error")
_add("metric", "mean_absolute_error", aliases=("mae",), keras="mean_absolute_error")
_TOP_K = Arg("k", Int(1), 5)
_add("metric", "top_k_categorical_accuracy", _TOP_K, keras="top_k_categorical_accuracy")
_add("metric", "sparse_top_k_categorical_accuracy", _TOP_K, keras="sparse_top_k_categorical_accuracy")
_add("metric", "root_mean_squared_error", keras="root_mean_squared_error")
# stateful: confusion counts accumulated over the epoch (Keras's default threshold 0.5)
_add("metric", "precision", keras="precision")
_add("metric", "recall", keras="recall")
_add("metric", "auc", Arg("num_thresholds", Int(2, what="an integer > 1"), 200), keras="auc")

# -- callbacks (fit's `callbacks`; Keras 3's arguments and defaults, verbose left out) -------------
class Word(ArgType):
    """A word, bare or quoted: a history key (``monitor=val_loss``), or one of ``words`` (``mode=min``)."""

    kind = "word"  # the binder lets a bare name through to ``coerce`` (args._takes_symbols)

    def __init__(self, *words: str):
        self.words = words
        self.expected = " or ".join(f'"{w}"' for w in words) or "a history key such as val_loss"

    def coerce(self, v, resolve):
        v = getattr(v, "name", v)  # a Sym's name
        if not isinstance(v, str):
            raise ArgError("arg-type", self.expected)
        if self.words and v not in self.words:
            raise ArgError("arg-range", self.expected)
        return v


_MONITOR = (Arg("monitor", Word(), "val_loss"),)
_MODE = Arg("mode", Word("auto", "min", "max"), "auto")
_add("callback", "early_stopping", *_MONITOR, Arg("min_delta", Float(), 0.0), Arg("patience", Int(0), 0), _MODE,
     Arg("baseline", Optional(Float()), None), Arg("restore_best_weights", Bool(), False),
     Arg("start_from_epoch", Int(0), 0), keras="EarlyStopping")
# Keras refuses factor >= 1 (ReduceLROnPlateau.__init__)
_add("callback", "reduce_lr_on_plateau", *_MONITOR, Arg("factor", Float(0, 1, hi_open=True), 0.1),
     Arg("patience", Int(0), 10), _MODE, Arg("min_delta", Float(), 1e-4), Arg("cooldown", Int(0), 0),
     Arg("min_lr", NONNEG, 0.0), keras="ReduceLROnPlateau")
_add("callback", "terminate_on_nan", keras="TerminateOnNaN")
