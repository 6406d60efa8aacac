"""Every construct of LANGUAGE.md, through the parser and checker to the IR."""

from __future__ import annotations

import pytest

import spec2net
from spec2net import ir
from spec2net.parser import parse


def layers(net):
    return [(layer.name, layer.type) for layer in net.ir.layers]


def shape(net, output=0):
    return net.ir.outputs[output].tensor.type.shape


def test_let_constants_in_arguments_and_shapes():
    net = spec2net.loads("let w = 6\nlet act = relu\nmodel m {\n input a: float32[w]\n"
                         " output y = Dense(w, activation=act)(a)\n}\n")
    assert net.ir.inputs[0].type.shape == (6,)
    assert net.ir.layers[0].args["activation"] == ir.Ref("activation", "relu")
    assert shape(net) == (6,)


@pytest.mark.parametrize("value,expected", [(12, (12,)), (3, (3,))])
def test_define_overrides_a_let(value, expected):
    net = spec2net.loads("let w = 6\nmodel m { input a: float32[w]; output a }", defines={"w": value})
    assert net.ir.inputs[0].type.shape == expected


def test_define_of_a_name_and_of_a_float():
    net = spec2net.load("examples/blocks.net", defines={"width": 128, "act": spec2net.loader.parse_define("tanh")})
    assert [layer.params[0].shape for layer in net.ir.layers if layer.type == "Dense"] == [(32, 128), (128, 128),
                                                                                         (128, 1)]
    assert net.ir.layers[0].args["activation"].name == "tanh"


@pytest.mark.parametrize(("text", "units", "name"), [
    ("width", 5, "d"),  # a name of an earlier let: its value
    ("tanh", None, "d"),  # a function: stays a function (an error for units, checked below)
])
def test_define_of_a_word(text, units, name):
    spec = 'let width = 5\nlet units = 3\nlet nm = "d"\nmodel m { input x: [4]; output y = Dense(units, name=nm)(x) }'
    parse = spec2net.loader.parse_define
    if units is None:
        with pytest.raises(spec2net.SpecError, match="expected a positive integer"):
            spec2net.loads(spec, defines={"units": parse(text)})
        return
    net = spec2net.loads(spec, defines={"units": parse(text), "nm": parse("encoder")})  # a word: a string
    assert [(layer.name, layer.args["units"]) for layer in net.ir.layers] == [("encoder", units)]


def test_lets_see_earlier_lets():
    net = spec2net.loads("let a = 2\nlet b = a\nmodel m { input x: [b]; output x }")
    assert net.ir.inputs[0].type.shape == (2,)


def test_model_inputs_dtypes_and_unknown_dims():
    net = spec2net.loads("model m {\n input a: int32[5]\n input b: [?, 3]\n input c: float64[2, 2]\n"
                         " output ya = Flatten()(a)\n output yb = Dense(1)(b)\n output yc = Flatten()(c)\n}")
    assert [(t.input_name, t.type.dtype, t.type.shape) for t in net.ir.inputs] == [
        ("a", "int32", (5,)), ("b", "float32", (None, 3)), ("c", "float64", (2, 2))]
    assert shape(net, 1) == (None, 1)


def test_sequential_with_input_line():
    net = spec2net.load("examples/mlp.net")
    assert net.ir.kind == "sequential"
    assert net.input_names == ["input"] and net.output_names == ["output"]
    assert layers(net) == [("dense", "Dense"), ("dense_1", "Dense")]


@pytest.mark.parametrize("first,shape_", [("Dense(2, input_dim=3)", (3,)), ("Dense(2, input_shape=(4, 3))", (4, 3)),
                                          ("Dense(2, input_shape=5)", (5,))])
def test_sequential_with_input_on_its_first_layer(first, shape_):
    net = spec2net.loads(f"sequential s {{\n {first}\n Dense(1)\n}}")
    assert net.ir.inputs[0].type.shape == shape_ and net.ir.inputs[0].type.dtype == "float32"
    assert shape(net) == shape_[:-1] + (1,)


def test_sequential_embedding_first_takes_int_ids():
    net = spec2net.loads("sequential s {\n Embedding(100, 8, input_length=10)\n Flatten()\n Dense(1)\n}")
    assert net.ir.inputs[0].type == ir.TensorType("int32", (10,))
    assert shape(net) == (1,)


def test_def_with_defaults_keywords_and_return():
    net = spec2net.load("examples/blocks.net")
    assert layers(net) == [("dense", "Dense"), ("dropout", "Dropout"), ("dense_1", "Dense"), ("dropout_1", "Dropout"),
                           ("dense_2", "Dense")]
    assert [layer.args["rate"] for layer in net.ir.layers if layer.type == "Dropout"] == [0.5, 0.25]


def test_def_parameters_shadow_lets_and_defaults_see_lets():
    text = ("let units = 3\nlet r = 0.1\ndef blk(x, units, rate=r) { return Dropout(rate)(Dense(units)(x)) }\n"
            "model m { input a: [4]; output y = blk(a, 7) }")
    net = spec2net.loads(text)
    assert net.ir.layers[1].params[0].shape == (4, 7) and net.ir.layers[0].args["rate"] == 0.1


def test_def_calls_another_def():
    text = ("def inner(x) { return Dense(2)(x) }\ndef outer(x) { h = inner(x); return inner(h) }\n"
            "model m { input a: [4]; output y = outer(a) }")
    assert layers(spec2net.loads(text)) == [("dense", "Dense"), ("dense_1", "Dense")]


def test_recursion_is_refused():
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.loads("def f(x) { return f(x) }\nmodel m { input a: [4]; output y = f(a) }")
    assert [d.code for d in info.value.diagnostics] == ["recursion"]


def test_chaining_applies_each_stage():
    net = spec2net.loads("model m { input a: [4]\n h = a -> Dense(8) -> Dropout(0.5) -> Dense(2)\n output h }")
    assert layers(net) == [("dense", "Dense"), ("dropout", "Dropout"), ("dense_1", "Dense")]
    assert [n.layer.name for n in net.ir.nodes] == ["dense", "dropout", "dense_1"]
    assert shape(net) == (2,)


def test_chain_stage_may_be_a_declared_layer_or_def():
    net = spec2net.loads("def two(x) { return Dense(2)(x) }\nmodel m { input a: [4]\n enc = Dense(3)\n"
                         " output h = a -> enc -> two }")
    assert layers(net) == [("dense", "Dense"), ("dense_1", "Dense")] and shape(net) == (2,)


def test_layer_declaration_and_sharing():
    net = spec2net.load("examples/shared.net")
    enc = net.ir.layers[0]
    assert enc.name == "encoder" and len(enc.nodes) == 2
    assert [n.call_index for n in enc.nodes] == [0, 1]
    assert [k for k, _ in net.ir.weight_keys()] == ["encoder/kernel", "encoder/bias", "dense/kernel", "dense/bias"]


def test_sharing_with_a_different_input_width_is_an_error():
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.loads("model m { input a: [4]; input b: [5]\n enc = Dense(2)\n"
                       " output y = add([enc(a), enc(b)]) }")
    assert [d.code for d in info.value.diagnostics] == ["shape"]


def test_tuple_unpacking_of_a_multi_output_layer():
    net = spec2net.load("examples/multi_output.net")
    lstm = net.ir.layers[1]
    assert [t.type.shape for t in lstm.nodes[0].outputs] == [(20, 24), (24,), (24,)]
    assert [t.masked for t in lstm.nodes[0].outputs] == [True, False, False]
    assert net.ir.layers[0].nodes[0].outputs[0].masked


def test_both_output_forms_keep_declaration_order():
    net = spec2net.loads("model m { input a: [4]\n h = Dense(3)(a)\n output second = Dense(1)(h)\n output h }")
    assert net.output_names == ["second", "h"]


def test_compile_and_fit_blocks():
    net = spec2net.load("examples/multi_output.net")
    c = net.ir.compile
    assert c.optimizer.name == "adam" and c.optimizer.kwargs["learning_rate"] == 1e-3
    assert c.optimizer.kwargs["clipnorm"] == 1.0 and c.optimizer.kwargs["beta_2"] == 0.999
    assert {k: v.name for k, v in c.loss.items()} == {"topic": "categorical_crossentropy", "score": "mean_squared_error"}
    assert c.loss_weights == {"topic": 1.0, "score": 0.5}
    assert {k: [m.name for m in ms] for k, ms in c.metrics.items()} == {"topic": ["accuracy"], "score": ["accuracy"]}
    assert net.ir.fit == {"epochs": 3, "batch_size": 8, "validation_split": 0.0, "shuffle": False, "callbacks": ()}


def test_one_loss_applies_to_every_output_and_aliases_resolve():
    net = spec2net.loads("model m { input a: [4]; output p = Dense(1)(a); output q = Dense(1)(a)\n"
                         " compile { optimizer = sgd(lr=0.5); loss = mse; metrics = [acc] } }")
    c = net.ir.compile
    assert set(c.loss) == {"p", "q"} and c.optimizer.kwargs["learning_rate"] == 0.5
    assert c.loss_weights == {"p": 1.0, "q": 1.0} and c.metrics["q"][0].name == "accuracy"


def test_comments_newlines_and_semicolons():
    text = ("# top comment\nmodel m {   # trailing\n\n  input a: [4];;\n  # inside\n"
            "  h = Dense(\n    3,     # newline inside a call\n    activation=relu,\n  )(a)\n  output h\n}\n# end")
    net = spec2net.loads(text)
    assert shape(net) == (3,) and net.ir.layers[0].args["activation"].name == "relu"


@pytest.mark.parametrize("literal,value", [(r'"plain"', "plain"), (r'"a \"quoted\" name"', 'a "quoted" name'),
                                           (r'"back\\slash"', "back\\slash")])
def test_strings_with_escapes(literal, value):
    tree, diags = parse(f"let s = {literal}", "s.net")
    assert diags == [] and tree.items[0].value.value == value


def test_string_escapes_and_layer_names():
    net = spec2net.loads('model m { input a: [4]; output y = Dense(1, name="head.1-b")(a) }')
    assert net.ir.layers[0].name == "head.1-b"
    tree, diags = parse('let s = "a\\\\b\\"c"\nmodel m { input a: [4]; output a }', "s.net")
    assert not diags and tree.items[0].value.value == 'a\\b"c'
    # a quote in a layer name is refused (it could not run under TensorFlow), shown escaped
    with pytest.raises(spec2net.SpecError) as err:
        spec2net.loads('model m { input a: [4]; output y = Dense(1, name="head \\"1\\"")(a) }')
    assert 'Received: name="head \\"1\\""' in err.value.diagnostics[0].message


def test_several_models_per_file_and_model_selection():
    text = ("model first { input a: [4]; output y = Dense(1)(a) }\n"
            "sequential second { input [2]; Dense(3) }\n")
    assert spec2net.loads(text).name == "second"  # the last by default
    assert spec2net.loads(text, model="first").name == "first"
    assert spec2net.loads(text, model="second").ir.kind == "sequential"


def test_numbers_and_literals():
    net = spec2net.loads("model m { input a: [4]\n output y = Dense(2, use_bias=false, kernel_initializer="
                         "random_normal(stddev=1e-2, seed=none), activity_regularizer=l1_l2(l1=0.5, l2=-0e0))(a) }")
    layer = net.ir.layers[0]
    assert layer.args["use_bias"] is False and [p.name for p in layer.params] == ["kernel"]
    assert layer.args["kernel_initializer"].kwargs == {"mean": 0.0, "stddev": 0.01, "seed": None}
    assert layer.args["activity_regularizer"].kwargs == {"l1": 0.5, "l2": 0.0}


def test_every_argument_is_filled_with_keras_defaults():
    layer = spec2net.loads("model m { input a: [5, 3]; output y = LSTM(4)(a) }").ir.layers[0]
    a = layer.args
    assert a["activation"].name == "tanh" and a["recurrent_activation"].name == "sigmoid"
    assert a["recurrent_initializer"].name == "orthogonal" and a["unit_forget_bias"] is True
    assert a["return_sequences"] is False and a["dropout"] == 0.0


def test_merge_functions_make_keras_layers():
    net = spec2net.loads("model m { input a: [4]; input b: [4]\n output y = average([a, b, maximum([a, b])]) }")
    # a merge function builds its layer inside the call, after its arguments, as keras.layers.average does
    assert layers(net) == [("maximum", "Maximum"), ("average", "Average")]
    assert [n.layer.name for n in net.ir.nodes] == ["maximum", "average"]


def test_automatic_names_follow_python_evaluation_order():
    net = spec2net.loads("model m { input a: [4]; output y = Dense(1)(Dense(2)(a)) }")
    assert [(n.layer.name, n.outputs[0].type.shape) for n in net.ir.nodes] == [("dense_1", (2,)), ("dense", (1,))]


def test_named_layer_does_not_advance_the_automatic_counter():
    net = spec2net.loads('model m { input a: [4]\n h = Dense(3, name="enc")(a)\n output y = Dense(1)(h) }')
    assert [layer.name for layer in net.ir.layers] == ["enc", "dense"]


def test_aliases_name_as_their_class():
    net = spec2net.loads("model m { input a: [4]; output y = a -> BatchNorm() -> LayerNorm() }")
    assert layers(net) == [("batch_normalization", "BatchNormalization"),
                           ("layer_normalization", "LayerNormalization")]


def test_rebinding_shadows():
    net = spec2net.loads("model m { input x: [4]\n x = Dense(3)(x)\n x = Dense(2)(x)\n output x }")
    assert shape(net) == (2,) and net.output_names == ["x"]


@pytest.mark.parametrize("depth", [3000])
def test_deep_nesting_has_no_recursion_error(depth):
    text = "model m { input x: [4]\n output y = " + "Dense(2)(" * depth + "x" + ")" * depth + " }"
    assert len(spec2net.loads(text).ir.layers) == depth
