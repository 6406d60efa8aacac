"""How the generated Keras module reads and what its name and line maps say: the spec's tensor
names, the line -> node map, only arguments that differ from Keras 3's defaults (and Keras builds
the same layers as from every argument), and several outputs that take list targets in the spec's
order and dict targets by name, both giving the numbers of a hand-built Keras twin."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT
from numpy_keras_helpers import chain_spec
from registry_samples import layer_samples
from spec2net.backends.keras import emitters, values

import spec2net


def namespace(source: str) -> dict:
    ns: dict = {"__name__": "generated_keras"}
    exec(compile(source, "generated_keras.py", "exec"), ns)
    return ns


def everything_written(monkeypatch):
    """The module as it was before defaults were left out: every argument written."""
    monkeypatch.setattr(values, "is_default", lambda value, default: False)
    monkeypatch.setattr(emitters, "is_default", lambda value, default: False)


# -- names and lines ---------------------------------------------------------------------------
def test_the_spec_tensor_names_are_kept_and_lines_map_to_their_nodes():
    net = spec2net.load(ROOT / "examples" / "multi_output.net")
    module = net.generate("keras")
    lines = module.source.split("\n")
    lstm = next(n for n in net.ir.nodes if n.layer.name == "lstm")
    assert [module.name_of(t) for t in lstm.outputs] == ["seq", "h", "c"]
    assert [module.name_of(o.tensor) for o in net.ir.outputs] == ["topic", "score"]
    assert module.name_of(net.ir.inputs[0]) == "tokens"
    spans = {node: sorted(k for k, n in module.line_nodes.items() if n is node) for node in net.ir.nodes}
    for node, numbers in spans.items():  # each node's lines are its one statement, in order
        assert numbers == list(range(numbers[0], numbers[-1] + 1)), numbers
        statement = "\n".join(lines[k - 1] for k in numbers)
        targets = ", ".join(module.name_of(t) for t in node.outputs)
        assert statement.startswith(f"    {targets} = layers.{node.layer.type}("), statement
        assert f'name="{node.layer.name}"' in statement and statement.endswith(")")
        ast.parse(statement.strip())
        assert lines[numbers[0] - 2].startswith(f"    # multi_output.net:{node.span.line}: ")
    assert lines[spans[lstm][0] - 2] == ("    # multi_output.net:5: seq, h, c = LSTM(24, return_sequences=true, "
                                         "return_state=true)(e)")
    assert [v[0] for v in spans.values()] == sorted(v[0] for v in spans.values())  # execution order


def test_a_statement_broken_over_lines_maps_every_line():
    net = spec2net.loads("model m {\n  input x: float32[3]\n  output y = Dense(8, activation=relu, "
                         "kernel_initializer=he_normal, bias_initializer=ones, kernel_regularizer=l2(0.01))(x)\n}\n")
    module = net.generate("keras")
    lines = module.source.split("\n")
    numbers = sorted(module.line_nodes)
    assert len(numbers) > 3 and all(module.line_nodes[k] is net.ir.nodes[0] for k in numbers)
    assert lines[numbers[0] - 1] == "    y = layers.Dense(" and lines[numbers[-1] - 1] == "    )(x)"


def test_a_shared_layer_is_built_once_and_each_call_has_its_own_line():
    net = spec2net.load(ROOT / "examples" / "shared.net")
    module = net.generate("keras")
    lines = module.source.split("\n")
    a, b = net.ir.layers[0].nodes
    calls = {node: [lines[k - 1].strip() for k, n in module.line_nodes.items() if n is node] for node in (a, b)}
    assert calls[a] == ['encoder = layers.Dense(units=8, activation="tanh", name="encoder")', "a = encoder(left)"]
    assert calls[b] == ["b = encoder(right)"]


@pytest.mark.parametrize("name", ["__debug__", "__class__", "__init__", "class", "build_model", "layers"])
def test_hostile_tensor_and_input_names_give_valid_python(keras, name):
    spec = (f"model m {{\n  input {name}: float32[3]\n  {name}2 = Dense(2, name=\"x\")({name})\n"
            f"  output y = Dense(1)({name}2)\n}}\n")
    net = spec2net.loads(spec)
    source = net.build("keras")
    ast.parse(source)
    assert not any(n.id.startswith("__") for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)
                   if n.id not in ("__name__",))
    model = namespace(source)["build_model"]()
    assert [t.name for t in model.inputs] == [name]
    out = model.predict(np.ones((2, 3), np.float32), verbose=0)
    assert out["y"].shape == (2, 1)


# -- Keras 3's defaults are not written --------------------------------------------------------
def test_a_keras_user_would_write_this():
    source = spec2net.load(ROOT / "examples" / "multi_output.net").build("keras")
    assert "    pooled = layers.LSTM(units=12, name=\"lstm_1\")(seq)" in source.split("\n")
    assert "optimizer=keras.optimizers.Adam(clipnorm=1.0)," in source
    for default in ("use_bias=True", "activation=\"tanh\"", "kernel_regularizer=None", "Orthogonal(gain=1.0)",
                    "stateful=False", "from_logits=False", "beta_1=0.9"):
        assert default not in source, default


@pytest.mark.parametrize("layer_type,args,inputs", layer_samples())
def test_left_out_arguments_are_keras_defaults(keras, monkeypatch, layer_type, args, inputs):
    net = spec2net.loads(chain_spec(inputs, [(layer_type, args)]))
    short = namespace(net.build("keras"))["build_model"]()
    everything_written(monkeypatch)
    full = namespace(net.build("keras"))["build_model"]()
    for layer in net.ir.layers:
        assert short.get_layer(layer.name).get_config() == full.get_layer(layer.name).get_config()


@pytest.mark.parametrize("path", [p for p in EXAMPLES if spec2net.load(p).ir.compile is not None],
                         ids=lambda p: p.stem)
def test_left_out_compile_arguments_are_keras_defaults(keras, monkeypatch, path):
    net = spec2net.load(path)

    def compiled():
        ns = namespace(net.build("keras"))
        return ns["compile_model"](ns["build_model"]())

    short = compiled()
    everything_written(monkeypatch)
    full = compiled()
    ignore = {"name"}  # Keras numbers optimizers: adam, adam_1, ...
    config = lambda m: {k: v for k, v in m.optimizer.get_config().items() if k not in ignore}
    assert config(short) == config(full)
    # a dict for one output, a list in output order for several (backends/keras/compile.py)
    each = lambda m: m.loss.values() if isinstance(m.loss, dict) else m.loss
    losses = lambda m: [type(x).__name__ + repr(sorted(x.get_config().items())) for x in each(m)]
    assert losses(short) == losses(full)


# -- several outputs: list targets in the spec's order, dict targets by name ---------------------
def test_list_and_dict_targets_give_the_twins_numbers(keras, tmp_path):
    from keras_twins import build_twin, compile_twin, get_weights, set_weights

    net = spec2net.load(ROOT / "examples" / "multi_output.net")
    ns = namespace(net.build("keras"))
    model = ns["compile_model"](ns["build_model"]())
    twin = compile_twin("multi_output", build_twin("multi_output"))
    set_weights(model, get_weights(twin))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 500, (16, 20)).astype(np.int32)
    topic = np.eye(5, dtype=np.float32)[rng.integers(0, 5, 16)]
    score = (10.0 + rng.standard_normal((16, 1))).astype(np.float32)  # far from topic's values
    want = twin.evaluate(x, [topic, score], batch_size=16, verbose=0, return_dict=True)
    # the twin's outputs are its layers, dense and dense_1: topic and score
    want = {"loss": want["loss"], "topic_loss": want["dense_loss"], "score_loss": want["dense_1_loss"],
            "topic_accuracy": want["dense_accuracy"], "score_accuracy": want["dense_1_accuracy"]}
    assert want["score_loss"] > 50 and want["topic_loss"] < 5  # a swap would show
    for y in ([topic, score], {"topic": topic, "score": score}, {"score": score, "topic": topic}):
        got = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
        assert set(got) == set(want)
        for key, value in want.items():
            assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-6), (type(y).__name__, key)
    predicted = model.predict(x, verbose=0)
    assert isinstance(predicted, list) and [p.shape for p in predicted] == [(16, 5), (16, 1)]
    assert model.output_names == ["topic", "score"]


def test_one_output_takes_an_array_a_list_or_a_dict(keras):
    from keras_twins import build_twin, compile_twin, get_weights, set_weights

    net = spec2net.load(ROOT / "examples" / "mlp.net")
    ns = namespace(net.build("keras"))
    model = ns["compile_model"](ns["build_model"]())
    twin = compile_twin("mlp", build_twin("mlp"))
    set_weights(model, get_weights(twin))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = (rng.random((16, 1)) > 0.5).astype(np.float32)
    want = twin.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    for target in (y, [y], {"output": y}):
        got = model.evaluate(x, target, batch_size=16, verbose=0, return_dict=True)
        assert got == pytest.approx(want, rel=1e-6, abs=1e-6), type(target).__name__
    assert list(model.predict(x, verbose=0)) == ["output"]


def test_many_layers_named_like_keras_mask_operations_still_fit_in_99_columns(keras):
    names = ["concatenate_1", "concatenate_4", "logical_or_7", "any_3", "ones_like", "expand_dims_2",
             "zeros_like_5", "not_equal_9"]
    body = "\n".join(f'  t{i} = Dense(2, name="{n}")(x)' for i, n in enumerate(names))
    spec = ("model m {\n  input tok: int32[4]\n  e = Embedding(10, 3, mask_zero=true)(tok)\n"
            "  x = LSTM(2, return_sequences=true)(e)\n" + body + "\n  output y = concatenate(["
            + ", ".join(f"t{i}" for i in range(len(names))) + "])\n}\n")
    net = spec2net.loads(spec)
    source = net.build("keras")
    assert "    for name, count in (\n" in source and max(len(line) for line in source.split("\n")) <= 99
    model = namespace(source)["build_model"]()  # Keras refuses a name used twice
    assert sorted(layer.name for layer in model.layers[1:]) == sorted(layer.name for layer in net.ir.layers)
