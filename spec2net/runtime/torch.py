"""The torch runtime of generated modules: ``from spec2net.runtime import torch as rt``.

One namespace over the runtime's files (optimizers, losses, metrics, initializers, layers, the
recurrent loop, weight layouts, fit/evaluate, data checks); ``build --standalone`` pastes those
files into the generated module instead of importing them.
"""

from .callbacks import EarlyStopping, ReduceLROnPlateau, TerminateOnNaN
from .data import DataError, DataSpec, InputSpec, OutputSpec, check_data
from .schedules import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
)
from .torch_fit import (
    Training,
    as_tensors,
    evaluate_model,
    fit_model,
    output_losses,
    train_batch,
    training_loss,
)
from .torch_init import (
    fans,
    generator,
    orthogonal,
    random_normal,
    random_uniform,
    truncated_normal,
    variance_scaling,
)
from .torch_layers import (
    KerasBatchNorm,
    KerasLayerNorm,
    KerasMaskedBatchNorm,
    LayerDict,
    dropout_mask,
    dropout_noise_shape,
    keep_rows,
    sequence_dropout,
    single_bias,
)
from .torch_losses import (
    LOSSES,
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    masked_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    regularization,
    same_rank,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from .torch_metrics import METRICS, Mean, resolve, tracker
from .torch_optim import SGD, Adagrad, Adam, AdamW, KerasOptimizer, RMSprop
from .torch_optim_extra import Adadelta, Adamax, Ftrl, Lion, Nadam
from .torch_rnn import gru_step, lstm_step, rnn_loop, simple_rnn_step
from .torch_weights import (
    CONVERSIONS,
    keras_variables,
    load_weights_file,
    read_weights,
    save_weights_file,
    weights_api,
    write_weights,
)

__all__ = [
    "CONVERSIONS", "LOSSES", "METRICS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax",
    "CosineDecay", "CosineDecayRestarts", "DataError", "DataSpec", "EarlyStopping", "ExponentialDecay",
    "Ftrl", "InputSpec", "InverseTimeDecay", "KerasBatchNorm", "KerasLayerNorm", "KerasMaskedBatchNorm",
    "KerasOptimizer", "LayerDict", "LearningRateSchedule", "Lion", "Mean", "Nadam", "OutputSpec",
    "PiecewiseConstantDecay", "PolynomialDecay", "RMSprop", "ReduceLROnPlateau", "TerminateOnNaN", "Training",
    "as_tensors", "binary_crossentropy", "categorical_crossentropy", "categorical_hinge", "check_data",
    "cosine_similarity", "dropout_mask", "dropout_noise_shape", "evaluate_model", "fans", "fit_model",
    "generator", "gru_step", "hinge", "huber", "keep_rows", "keras_variables", "kl_divergence",
    "load_weights_file", "log_cosh", "lstm_step", "masked_loss", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "orthogonal",
    "output_losses", "poisson", "random_normal", "random_uniform", "read_weights", "regularization",
    "resolve", "rnn_loop", "same_rank", "save_weights_file", "sequence_dropout", "simple_rnn_step",
    "single_bias", "sparse_categorical_crossentropy", "squared_hinge", "tracker", "train_batch",
    "training_loss", "truncated_normal", "variance_scaling", "weights_api", "write_weights",
]
