"""Shape rules of every registered layer against real Keras, parametrized from the registry.

Each LayerDef's ``samples`` are (args, [(dtype, per-sample shape), ...]) cases.
For each, the same layer is written in a spec (through the parser and checker,
as a user would) and built in Keras from the same arguments; the output
shapes, dtypes and parameter (name, shape, trainable) lists must agree.
A new layer is tested here by being registered with samples.
"""

from __future__ import annotations

import pytest
from keras_twins import weight_key
from numpy_keras_helpers import keras_layer
from registry_samples import layer_samples

import spec2net
from spec2net.registry import canonical_layers

CASES = layer_samples()


def test_every_layer_has_samples():
    assert all(d.samples for d in canonical_layers().values())
    assert {c.values[0] for c in CASES} == set(canonical_layers())


def spec_value(v) -> str:
    """A Python argument value written in spec syntax."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, str):
        return v  # activations and initializers are bare names
    if isinstance(v, tuple):
        return "(" + ", ".join(spec_value(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(spec_value(x) for x in v) + "]"
    return repr(v)


def spec_for(name: str, args: dict, ins: list) -> str:
    defn = canonical_layers()[name]
    lines = [f"input i{k}: {dt}[{', '.join('?' if d is None else str(d) for d in shape)}]"
             for k, (dt, shape) in enumerate(ins)]
    kw = ", ".join(f"{k}={spec_value(v)}" for k, v in args.items())
    if defn.merge:
        names = "[" + ", ".join(f"i{k}" for k in range(len(ins))) + "]"
        call = f"{defn.auto_name}({names}{', ' + kw if kw else ''})"
    else:
        call = f"{name}({kw})(i0)"
    n_out = defn.n_outputs(_filled(name, args))
    outs = [f"o{k}" for k in range(n_out)]
    lines.append(f"{', '.join(outs)} = {call}")
    lines += [f"output {o}" for o in outs]
    return "model m {\n    " + "\n    ".join(lines) + "\n}\n"


def _filled(name, args):
    defn = canonical_layers()[name]
    from spec2net.registry.types import REQUIRED

    out = {a.name: a.default for a in defn.args if a.default is not REQUIRED}
    out.update(args)
    return out


@pytest.mark.parametrize("name,args,ins", CASES)
def test_shape_rule_matches_keras(keras, name, args, ins):
    net = spec2net.loads(spec_for(name, args, ins))
    (layer,) = net.ir.layers
    ours = [(t.type.dtype, (None, *t.type.shape)) for t in layer.nodes[0].outputs]

    keras.backend.clear_session(free_memory=False)
    k_in = [keras.Input(shape=shape, dtype=dt) for dt, shape in ins]
    k_layer = keras_layer(keras, name, args)
    out = k_layer(k_in if canonical_layers()[name].merge else k_in[0])
    outs = out if isinstance(out, (list, tuple)) else [out]
    theirs = [(t.dtype, tuple(t.shape)) for t in outs]
    assert ours == theirs
    # the weights-file keys: Keras's variable paths, the recurrent cell level left out
    assert [(layer.key_prefix + p.name, p.shape, p.trainable) for p in layer.params] == \
        [(weight_key(k_layer, v), tuple(v.shape), v.trainable) for v in k_layer.weights]


@pytest.mark.parametrize("name", sorted(canonical_layers()))
def test_automatic_name_is_keras(keras, name):
    defn = canonical_layers()[name]
    args, _ = defn.samples[0]
    keras.backend.clear_session(free_memory=False)
    assert keras_layer(keras, name, args).name == defn.auto_name


@pytest.mark.parametrize("rank", [1, 2, 3, 4])
def test_dense_applies_to_the_last_axis_of_any_rank(keras, rank):
    shape = (2, 3, 5, 7)[-rank:]
    net = spec2net.loads(spec_for("Dense", {"units": 4}, [("float32", shape)]))
    keras.backend.clear_session(free_memory=False)
    k = keras.layers.Dense(4)(keras.Input(shape=shape))
    assert (None, *net.ir.outputs[0].tensor.type.shape) == tuple(k.shape)


@pytest.mark.parametrize("target,shape", [((-1,), (3, 4)), ((2, -1), (3, 4)), ((-1, 3), (None, 3)),
                                          ((12,), (2, 2, 3))])
def test_reshape_with_minus_one_matches_keras(keras, target, shape):
    net = spec2net.loads(spec_for("Reshape", {"target_shape": target}, [("float32", shape)]))
    keras.backend.clear_session(free_memory=False)
    k = keras.layers.Reshape(target)(keras.Input(shape=shape))
    assert (None, *net.ir.outputs[0].tensor.type.shape) == tuple(k.shape)


@pytest.mark.parametrize("shape", [(3, 4), (None, 2), (2, None), (5,)])
def test_flatten_matches_keras(keras, shape):
    net = spec2net.loads(spec_for("Flatten", {}, [("float32", shape)]))
    keras.backend.clear_session(free_memory=False)
    k = keras.layers.Flatten()(keras.Input(shape=shape))
    assert (None, *net.ir.outputs[0].tensor.type.shape) == tuple(k.shape)


@pytest.mark.parametrize("axis,shapes", [(-1, [(2, 3), (2, 5)]), (1, [(2, 3), (4, 3)]), (-2, [(None, 3), (2, 3)]),
                                         (2, [(2, 3), (2, None)])])
def test_concatenate_axes_match_keras(keras, axis, shapes):
    ins = [("float32", s) for s in shapes]
    net = spec2net.loads(spec_for("Concatenate", {"axis": axis}, ins))
    keras.backend.clear_session(free_memory=False)
    k = keras.layers.Concatenate(axis=axis)([keras.Input(shape=s) for s in shapes])
    assert (None, *net.ir.outputs[0].tensor.type.shape) == tuple(k.shape)


@pytest.mark.parametrize("name", ["Add", "Multiply", "Maximum"])
def test_elementwise_merge_broadcasts_like_keras(keras, name):
    shapes = [(1, 4), (3, 4)]
    net = spec2net.loads(spec_for(name, {}, [("float32", s) for s in shapes]))
    keras.backend.clear_session(free_memory=False)
    k = getattr(keras.layers, name)()([keras.Input(shape=s) for s in shapes])
    assert (None, *net.ir.outputs[0].tensor.type.shape) == tuple(k.shape)
