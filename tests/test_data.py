"""Data checked as Keras checks it (spec2net.runtime.data): every refusal is one DataError line
naming the array, what was expected and what was found, from the API and from the command line
(exit 2, the file named, nothing written). Each case crashed, or trained silently, before."""

from __future__ import annotations

import numpy as np
import pytest

import spec2net
from spec2net.cli import main
from spec2net.net import data_spec
from spec2net.runtime.data import align, check_data

MODELS = {
    "categorical": """model m { input x: float32[6]
        output topic = Dense(4, activation=softmax)(x)
        compile { optimizer = sgd; loss = categorical_crossentropy; metrics = [accuracy] } }""",
    "sparse": """model m { input x: float32[6]
        output topic = Dense(4, activation=softmax)(x)
        compile { optimizer = sgd; loss = sparse_categorical_crossentropy } }""",
    "tokens": """model m { input t: int32[5]
        output y = t -> Embedding(10, 3) -> Flatten() -> Dense(1, activation=sigmoid)
        compile { optimizer = sgd; loss = binary_crossentropy } }""",
    "two": """model m { input a: float32[3]; input b: float32[2]
        output v = concatenate([a, b]) -> Dense(1)
        compile { optimizer = sgd; loss = mse } }""",
}
N = 10


def good(kind: str) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 6)).astype(np.float32)
    return {
        "categorical": {"x": x, "topic": np.eye(4, dtype=np.float32)[rng.integers(0, 4, N)]},
        "sparse": {"x": x, "topic": rng.integers(0, 4, (N, 1))},
        "tokens": {"t": rng.integers(0, 10, (N, 5)).astype(np.int32), "y": np.ones((N, 1), np.float32)},
        "two": {"a": x[:, :3], "b": x[:, 3:5], "v": x[:, :1]},
    }[kind]


def _set(key, value, index=None):
    """A change to good data: the array ``key`` replaced, or one element of it set."""
    def change(d):
        if index is None:
            d[key] = value(d[key]) if callable(value) else value
        else:
            d[key] = d[key].astype(np.float32 if isinstance(value, float) else d[key].dtype)
            d[key][index] = value
        return d
    return change


CASES = [  # (model, change, message), the message after "FILE: " in the CLI
    ("categorical", _set("topic", np.arange(N).reshape(N, 1) % 4),
     ("target 'topic': categorical_crossentropy needs one-hot rows of width 4, got shape (10, 1) "
     "(class ids? use sparse_categorical_crossentropy)")),
    ("categorical", _set("topic", np.arange(N) % 4),
     ("target 'topic': categorical_crossentropy needs one-hot rows of width 4, got shape (10,) "
     "(class ids? use sparse_categorical_crossentropy)")),
    ("sparse", _set("topic", np.eye(4)[np.arange(N) % 4]),
     ("target 'topic': sparse_categorical_crossentropy needs class ids of shape (None,) or (None, 1), "
     "got shape (10, 4) (one-hot rows? use categorical_crossentropy)")),
    ("sparse", _set("topic", 4, (3, 0)),
     "target 'topic': class ids (output width 4) must lie in [0, 4), got 4 at index (3, 0) (1 out of range)"),
    ("sparse", _set("topic", -1, (0, 0)),
     "target 'topic': class ids (output width 4) must lie in [0, 4), got -1 at index (0, 0) (1 out of range)"),
    ("sparse", _set("topic", 1.5, (2, 0)),
     "target 'topic': expected class ids (integers), got 1.5 at index (2, 0)"),
    ("tokens", _set("t", 10, (2, 1)),
     "input 't': token ids (Embedding input_dim=10) must lie in [0, 10), got 10 at index (2, 1) (1 out of range)"),
    ("tokens", _set("t", -3, (0, 4)),
     "input 't': token ids (Embedding input_dim=10) must lie in [0, 10), got -3 at index (0, 4) (1 out of range)"),
    ("tokens", _set("t", 2.5, (1, 1)), "input 't': expected int32 (integers), got 2.5 at index (1, 1)"),
    ("two", _set("b", lambda b: b[:9]),
     "input 'b' holds 9 samples, input 'a' 10: every array needs the same batch size"),
    ("two", _set("v", lambda v: v[:9]),
     "target 'v' holds 9 samples, the inputs 10: every array needs the same batch size"),
    ("two", _set("v", lambda v: np.repeat(v, 3, axis=1)),
     "target 'v': mean_squared_error needs the output's shape (None, 1), got shape (10, 3)"),
    ("two", _set("a", lambda a: a[:, :2]), "input 'a': expected shape (None, 3) (batch first), got (10, 2)"),
    ("tokens", _set("y", np.array(["spam"] * N)),
     "target 'y': expected real numbers, got strings (dtype <U4)"),
    ("two", _set("a", lambda a: a.astype(np.complex64)),
     "input 'a': expected float32 real numbers, got complex numbers (dtype complex64)"),
    ("two", _set("v", float("nan"), (4, 0)),
     "target 'v': expected finite values, got 1 non-finite, the first nan at index (4, 0)"),
    ("two", _set("a", float("inf"), (1, 2)),
     "input 'a': expected finite values, got 1 non-finite, the first inf at index (1, 2)"),
    ("two", lambda d: {k: v[:0] for k, v in d.items()}, "input 'a' holds 0 samples: nothing to compute on"),
    ("two", lambda d: {k: v for k, v in d.items() if k != "v"},
     "no array for 'v' (the model takes inputs 'a', 'b' and targets 'v')"),
]
IDS = [f"{model}-{i}" for i, (model, _, _) in enumerate(CASES)]


@pytest.mark.parametrize("model, change, message", CASES, ids=IDS)
def test_the_api_raises_one_data_error(model, change, message):
    net = spec2net.loads(MODELS[model])
    data = change(good(model))
    weights = net.init_weights(seed=0)
    for call in (lambda: net.train(data, weights, epochs=1), lambda: net.evaluate(data, weights)):
        with pytest.raises(spec2net.DataError) as e:
            call()
        assert str(e.value) == message
    assert issubclass(spec2net.DataError, ValueError)


@pytest.mark.parametrize("model, change, message", CASES, ids=IDS)
def test_the_cli_names_the_file_exits_2_and_writes_nothing(model, change, message, tmp_path, capsys):
    spec, data, out = tmp_path / "m.net", tmp_path / "data.npz", tmp_path / "w.npz"
    spec.write_text(MODELS[model])
    np.savez(data, **change(good(model)))
    assert main(["train", str(spec), "--data", str(data), "-o", str(out)]) == 2
    assert capsys.readouterr().err == f"spec2net train: error: {data}: {message}\n"
    assert not out.exists()
    # the same data as validation data is blamed on that file
    np.savez(tmp_path / "good.npz", **good(model))
    assert main(["train", str(spec), "--data", str(tmp_path / "good.npz"), "--validation-data", str(data),
                 "-o", str(out)]) == 2
    assert capsys.readouterr().err == f"spec2net train: error: {data}: {message}\n"
    assert not out.exists()


def test_good_data_passes_and_rank_1_targets_align_as_kerass():
    for model, text in MODELS.items():
        spec = data_spec(spec2net.loads(text).ir)
        _, y, n = check_data(spec, good(model))
        assert n == N and set(y) == {o.name for o in spec.outputs}
    data = good("two")
    _, y, _ = check_data(data_spec(spec2net.loads(MODELS["two"]).ir), {**data, "v": data["v"][:, 0]})
    np.testing.assert_array_equal(y["v"], data["v"])  # (n,) for an (n, 1) output: made (n, 1)


@pytest.mark.parametrize("y_shape, p_shape", [
    ((6,), (6, 1)), ((6, 1), (6,)), ((6, 1), (6, 1)), ((6, 3, 1), (6, 3)), ((6, 3), (6, 3, 1)), ((6,), (6,)),
    ((6, 2), (6, 2)),
])
def test_align_gives_kerass_squeeze_or_expand_numbers(keras, y_shape, p_shape):
    """Keras sometimes changes y_pred where align changes the target; the losses agree."""
    from keras.src.losses.loss import squeeze_or_expand_to_same_rank

    rng = np.random.default_rng(1)
    y, p = rng.normal(size=y_shape).astype(np.float32), rng.normal(size=p_shape).astype(np.float32)
    ky, kp = (np.asarray(a) for a in squeeze_or_expand_to_same_rank(keras.ops.convert_to_tensor(y),
                                                                     keras.ops.convert_to_tensor(p)))
    want = float(np.mean(np.square(ky - kp)))
    assert ky.ndim == kp.ndim
    ours = align(y, p.shape)
    assert ours.shape == p.shape or ours.shape == kp.shape
    assert float(np.mean(np.square(ours - p.reshape(ours.shape)))) == pytest.approx(want, rel=1e-6)
