"""Hand-written Keras 3 twins of every example in examples/, for tests that compare
spec2net against the real framework.

Each twin is written the way a Keras user would write the spec by hand: layers
carry NO explicit ``name=`` unless the spec gives one, so the twin's layer names
come from Keras's own automatic naming (``dense``, ``dense_1``, ...). That makes
every twin an independent check of LANGUAGE.md section 9: a test compares them
with spec2net's names instead of copying them. ``build_twin`` resets Keras's name
counters first, as a fresh script would start.

Weights: ``get_weights(model)`` / ``set_weights(model, weights)`` speak
spec2net's weights-file keys (``LAYER/PARAM``, Keras layout). Keras 3 nests a
recurrent layer's weights under its cell (variable path ``lstm/lstm_cell/kernel``); the
key is the variable's path with that cell level left out (``weight_key``): ``lstm/kernel``,
and inside a wrapper ``bidirectional/forward_lstm/kernel``, ``time_distributed/dense/kernel``.

    >>> model = build_twin("mlp")
    >>> sorted(get_weights(model))
    ['dense/bias', 'dense/kernel', 'dense_1/bias', 'dense_1/kernel']
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
from keras import layers as L


def _sequential(name, input_shape, stack, dtype="float32"):
    # LANGUAGE.md 5: a sequential is the functional model with one input named `input`.
    return keras.Sequential([keras.Input(shape=input_shape, dtype=dtype, name="input"), *stack], name=name)


def mlp():
    return _sequential("mlp", (4,), [L.Dense(8, activation="relu"), L.Dense(1, activation="sigmoid")])


def news():
    return _sequential("news", (10000,), [
        L.Dense(512, activation="relu"),
        L.Dropout(0.5),
        L.Dense(46, activation="softmax"),
    ])


def linear_regression():
    return _sequential("linear_regression", (3,), [L.Dense(1)])


def logistic_regression():
    return _sequential("logistic_regression", (4,), [
        L.Dense(1, activation="sigmoid", kernel_regularizer=keras.regularizers.L2(0.01)),
    ])


def lstm_series():
    return _sequential("lstm_series", (50, 1), [L.LSTM(10), L.Dense(1)])


def spam():
    text = keras.Input(shape=(100,), dtype="int32", name="text")
    x = L.Embedding(10000, 32)(text)
    x = L.SimpleRNN(32)(x)
    y = L.Dense(1, activation="sigmoid")(x)
    return keras.Model(text, y, name="spam")


def two_inputs():
    a = keras.Input(shape=(8,), name="a")
    b = keras.Input(shape=(4,), name="b")
    x = L.Dense(16, activation="relu")(a)
    y = L.Dense(8, activation="relu")(b)
    z = L.concatenate([x, y])
    score = L.Dense(1, activation="sigmoid")(z)
    return keras.Model([a, b], score, name="two_inputs")


def ffnn():
    x = keras.Input(shape=(10,), name="x")
    h = L.Dense(64, activation="relu")(x)
    h = L.Dense(64, activation="relu")(h)
    y = L.Dense(1)(h)
    return keras.Model(x, y, name="ffnn")


def gru():
    seq = keras.Input(shape=(None, 8), name="seq")
    h = L.GRU(16, return_sequences=True)(seq)
    h = L.GRU(8, go_backwards=True)(h)
    y = L.Dense(4, activation="softmax")(h)
    return keras.Model(seq, y, name="gru_tagger")


def normalized():
    x = keras.Input(shape=(20,), name="x")
    h = L.Dense(32, use_bias=False)(x)
    h = L.BatchNormalization(momentum=0.9)(h)
    h = L.Activation("relu")(h)
    h = L.Dense(16, activation="gelu")(h)
    h = L.LayerNormalization(epsilon=1e-5)(h)
    y = L.Dense(3, activation="softmax")(h)
    return keras.Model(x, y, name="normalized")


def shared():
    left = keras.Input(shape=(12,), name="left")
    right = keras.Input(shape=(12,), name="right")
    encoder = L.Dense(8, activation="tanh", name="encoder")
    a = encoder(left)
    b = encoder(right)
    d = L.subtract([a, b])
    similar = L.Dense(1, activation="sigmoid")(d)
    return keras.Model([left, right], similar, name="siamese")


def blocks():
    def ffn(x, units, rate=0.5):
        h = L.Dense(units, activation="relu")(x)
        return L.Dropout(rate)(h)

    x = keras.Input(shape=(32,), name="x")
    h = ffn(x, 64)
    h = ffn(h, units=64, rate=0.25)
    reg = keras.regularizers.L1L2(l1=1e-5, l2=1e-4)
    y = L.Dense(1, activation="sigmoid", kernel_regularizer=reg)(h)
    return keras.Model(x, y, name="blocks")


def multi_output():
    tokens = keras.Input(shape=(20,), dtype="int32", name="tokens")
    e = L.Embedding(500, 16, mask_zero=True)(tokens)
    seq, h, c = L.LSTM(24, return_sequences=True, return_state=True)(e)
    pooled = L.LSTM(12)(seq)
    both = L.concatenate([pooled, h, c])
    topic = L.Dense(5, activation="softmax")(both)
    score = L.Dense(1)(both)
    # A list keeps the spec's output order (a dict would be flattened in key order).
    return keras.Model(tokens, [topic, score], name="multi_output")


def mnist_convnet():
    return _sequential("mnist_convnet", (28, 28, 1), [
        L.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        L.MaxPooling2D(pool_size=(2, 2)),
        L.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        L.MaxPooling2D(pool_size=(2, 2)),
        L.Flatten(),
        L.Dropout(0.5),
        L.Dense(10, activation="softmax"),
    ])


def imdb_conv1d():
    review = keras.Input(shape=(200,), dtype="int32", name="review")
    x = L.Embedding(10000, 64)(review)
    x = L.Dropout(0.5)(x)
    x = L.Conv1D(64, 7, strides=3, padding="valid", activation="relu")(x)
    x = L.Conv1D(64, 7, strides=3, padding="valid", activation="relu")(x)
    x = L.GlobalMaxPooling1D()(x)
    x = L.Dense(64, activation="relu")(x)
    x = L.Dropout(0.5)(x)
    sentiment = L.Dense(1, activation="sigmoid")(x)
    return keras.Model(review, sentiment, name="imdb_conv1d")


def imdb_bilstm():
    review = keras.Input(shape=(200,), dtype="int32", name="review")
    x = L.Embedding(20000, 128)(review)
    x = L.Bidirectional(L.LSTM(64, return_sequences=True))(x)
    x = L.Bidirectional(L.LSTM(64))(x)
    sentiment = L.Dense(1, activation="sigmoid")(x)
    return keras.Model(review, sentiment, name="imdb_bilstm")


def seq2seq():
    encoder_inputs = keras.Input(shape=(None, 71), name="encoder_inputs")
    _, state_h, state_c = L.LSTM(256, return_state=True)(encoder_inputs)
    decoder_inputs = keras.Input(shape=(None, 93), name="decoder_inputs")
    decoder_outputs, _, _ = L.LSTM(256, return_sequences=True, return_state=True)(
        decoder_inputs, initial_state=[state_h, state_c])
    next_chars = L.Dense(93, activation="softmax")(decoder_outputs)
    return keras.Model([encoder_inputs, decoder_inputs], next_chars, name="seq2seq")


def addition_rnn():
    return keras.Sequential([
        keras.Input(shape=(7, 12), name="input"),
        L.LSTM(128),
        L.RepeatVector(4),
        L.LSTM(128, return_sequences=True),
        L.TimeDistributed(L.Dense(12, activation="softmax")),
    ], name="addition_rnn")


TWINS = {f.__name__: f for f in (
    mlp, news, linear_regression, logistic_regression, lstm_series, spam, two_inputs, ffnn, gru,
    normalized, shared, blocks, multi_output, mnist_convnet, imdb_conv1d, imdb_bilstm, seq2seq, addition_rnn,
)}

# The compile block of each example, by hand (Keras 3 spellings: `lr` is `learning_rate`).
COMPILE = {
    "mlp": {"optimizer": lambda: keras.optimizers.Adam(), "loss": "binary_crossentropy", "metrics": ["accuracy"]},
    "news": {"optimizer": lambda: keras.optimizers.Adam(), "loss": "categorical_crossentropy",
                 "metrics": ["accuracy"]},
    "linear_regression": {"optimizer": lambda: keras.optimizers.SGD(learning_rate=0.01), "loss": "mse"},
    "logistic_regression": {"optimizer": lambda: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
                                "loss": "binary_crossentropy", "metrics": ["binary_accuracy"]},
    "lstm_series": {"optimizer": lambda: keras.optimizers.Adam(learning_rate=0.01), "loss": "mse",
                        "metrics": ["mae"]},
    "spam": {"optimizer": lambda: keras.optimizers.RMSprop(), "loss": "binary_crossentropy",
                 "metrics": ["accuracy"]},
    "two_inputs": {"optimizer": lambda: keras.optimizers.Adam(), "loss": "binary_crossentropy",
                       "metrics": ["accuracy"]},
    "ffnn": {"optimizer": lambda: keras.optimizers.Adam(), "loss": "mse", "metrics": ["mae"]},
    "gru": {"optimizer": lambda: keras.optimizers.Adagrad(learning_rate=0.05),
                "loss": "sparse_categorical_crossentropy", "metrics": ["acc"]},
    "normalized": {"optimizer": lambda: keras.optimizers.RMSprop(learning_rate=0.001, centered=True),
                       "loss": "categorical_crossentropy"},
    "shared": {"optimizer": lambda: keras.optimizers.SGD(learning_rate=0.05, nesterov=True, momentum=0.9),
                   "loss": "binary_crossentropy"},
    "blocks": {"optimizer": lambda: keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.01),
                   "loss": "binary_crossentropy"},
    "multi_output": {"optimizer": lambda: keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0),
                         # in output order: topic, score
                         "loss": ["categorical_crossentropy", "mse"], "loss_weights": [1.0, 0.5],
                         "metrics": [["accuracy"], ["accuracy"]]},
    "mnist_convnet": {"optimizer": lambda: keras.optimizers.Adam(), "loss": "categorical_crossentropy",
                      "metrics": ["accuracy"]},
    "imdb_conv1d": {"optimizer": lambda: keras.optimizers.Adam(), "loss": "binary_crossentropy",
                    "metrics": ["accuracy"]},
    "imdb_bilstm": {"optimizer": lambda: keras.optimizers.Adam(), "loss": "binary_crossentropy",
                    "metrics": ["accuracy"]},
    "seq2seq": {"optimizer": lambda: keras.optimizers.RMSprop(), "loss": "categorical_crossentropy",
                "metrics": ["accuracy"]},
    "addition_rnn": {"optimizer": lambda: keras.optimizers.Adam(), "loss": "categorical_crossentropy",
                     "metrics": ["accuracy"]},
}

# The fit block of each example that has one.
FIT = {
    "mlp": {"epochs": 20, "batch_size": 8},
    "news": {"epochs": 5, "batch_size": 32, "validation_split": 0.1},
    "linear_regression": {"epochs": 50, "batch_size": 16},
    "lstm_series": {"epochs": 10, "batch_size": 16, "shuffle": False},
    "spam": {"epochs": 10, "batch_size": 32, "validation_split": 0.2},
    "ffnn": {"epochs": 10, "batch_size": 32},
    "multi_output": {"epochs": 3, "batch_size": 8, "shuffle": False},
    "mnist_convnet": {"epochs": 15, "batch_size": 128, "validation_split": 0.1},
    "imdb_conv1d": {"epochs": 3, "batch_size": 32, "validation_split": 0.2},
    "imdb_bilstm": {"epochs": 2, "batch_size": 32, "validation_split": 0.2},
    "seq2seq": {"epochs": 100, "batch_size": 64, "validation_split": 0.2},
    "addition_rnn": {"epochs": 30, "batch_size": 32, "validation_split": 0.1},
}


def build_twin(stem: str) -> keras.Model:
    """The hand-written Keras model of ``examples/<stem>.net``, with Keras's name counters reset.

    >>> build_twin("shared").get_layer("encoder").units
    8
    """
    keras.backend.clear_session(free_memory=False)
    return TWINS[stem]()


def compile_twin(stem: str, model: keras.Model) -> keras.Model:
    """Compile ``model`` as the example's `compile` block says (a fresh optimizer each call).

    >>> compile_twin("mlp", build_twin("mlp")).optimizer.learning_rate  # doctest: +SKIP
    """
    spec = dict(COMPILE[stem])
    model.compile(optimizer=spec.pop("optimizer")(), **spec)
    return model


CELLS = ("lstm_cell", "gru_cell", "simple_rnn_cell")


def weight_key(layer, variable) -> str:
    """The weights-file key of a variable of ``layer``: its path below the layer's, under the
    layer's name, the recurrent cell level left out: ``lstm/lstm_cell/kernel`` -> ``lstm/kernel``,
    ``bidirectional/forward_lstm/lstm_cell/bias`` -> ``bidirectional/forward_lstm/bias``."""
    below = variable.path[len(layer.path) + 1:].split("/")
    return "/".join([layer.name] + [p for p in below if p not in CELLS])


def get_weights(model: keras.Model) -> dict:
    """Every variable of ``model`` as float32 NumPy arrays keyed ``LAYER/PARAM``.

    >>> get_weights(build_twin("linear_regression"))["dense/kernel"].shape
    (3, 1)
    """
    out = {}
    for layer in model.layers:
        for v in layer.weights:
            key = weight_key(layer, v)
            if key in out:
                raise KeyError(f"two variables map to {key}")
            out[key] = np.asarray(v.numpy(), dtype=np.float32)
    return out


def set_weights(model: keras.Model, weights: dict) -> None:
    """Assign ``weights`` (keys ``LAYER/PARAM``, Keras layout) to ``model``; every key must match.

    >>> m = build_twin("linear_regression")
    >>> set_weights(m, {"dense/kernel": np.ones((3, 1)), "dense/bias": np.zeros(1)})
    """
    variables = {}
    for layer in model.layers:
        for v in layer.weights:
            variables[weight_key(layer, v)] = v
    missing, extra = set(variables) - set(weights), set(weights) - set(variables)
    if missing or extra:
        raise KeyError(f"weights do not match the model: missing {sorted(missing)}, unexpected {sorted(extra)}")
    for key, v in variables.items():
        value = np.asarray(weights[key], dtype=np.float32)
        if tuple(value.shape) != tuple(v.shape):
            raise ValueError(f"{key}: expected shape {tuple(v.shape)}, got {value.shape}")
        v.assign(value)
