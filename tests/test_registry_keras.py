"""The registry's facts against Keras 3 itself: every layer's and function's argument defaults
(the checker fills them, so a wrong one would be wrong in every backend), the variance-scaling
parameters of the named initializers, the leaky_relu activation's slope and fit()'s defaults."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import spec2net
from spec2net.ir import Ref
from spec2net.registry import REGISTRIES, canonical, canonical_layers
from spec2net.registry.types import REQUIRED

MODULES = {"activation": "activations", "initializer": "initializers", "regularizer": "regularizers",
           "loss": "losses", "optimizer": "optimizers"}


def _parameters(obj) -> dict:
    return dict(inspect.signature(obj.__init__ if inspect.isclass(obj) else obj).parameters)


def _same(keras, ours, theirs) -> bool:
    """A filled default against Keras's: a Ref as the name or object Keras would resolve."""
    if isinstance(ours, Ref) and ours.kind == "activation":
        return (theirs or "linear") == ours.name  # Keras's None is the linear activation
    if isinstance(ours, Ref):
        return type(keras.initializers.get(theirs)).__name__ == REGISTRIES["initializer"][ours.name].keras_name
    return ours == theirs and type(ours) is type(theirs)


@pytest.mark.parametrize("name", list(canonical_layers()))
def test_layer_defaults_are_keras(keras, name):
    # a layer's own arguments, and those every Keras layer takes (activity_regularizer)
    params = {**_parameters(keras.layers.Layer), **_parameters(getattr(keras.layers, name))}
    for arg in canonical_layers()[name].args:
        assert arg.name in params, f"Keras's {name} has no argument {arg.name!r}"
        theirs = params[arg.name].default
        if arg.default is REQUIRED:
            assert theirs is inspect.Parameter.empty, f"{name}({arg.name}) has a default in Keras: {theirs!r}"
        else:
            assert _same(keras, arg.default, theirs), f"{name}({arg.name}): ours {arg.default!r}, Keras {theirs!r}"


@pytest.mark.parametrize("kind, name", [(k, n) for k in MODULES for n in canonical(k)])
def test_function_defaults_are_keras(keras, kind, name):
    entry = canonical(kind)[name]
    module = getattr(keras, MODULES[kind])
    params = _parameters(getattr(module, name if kind == "activation" else entry.keras_name))
    for arg in entry.args:
        assert arg.name in params, f"Keras's {kind} {name} has no argument {arg.name!r}"
        theirs = params[arg.name].default
        assert arg.default == theirs, f"{kind} {name}({arg.name}): ours {arg.default!r}, Keras {theirs!r}"


@pytest.mark.parametrize("name", [n for n, e in canonical("initializer").items() if e.variance_scaling])
def test_variance_scaling_is_keras(keras, name):
    init = getattr(keras.initializers, REGISTRIES["initializer"][name].keras_name)()
    assert (init.scale, init.mode, init.distribution) == REGISTRIES["initializer"][name].variance_scaling


def test_every_variance_scaling_initializer_is_marked(keras):
    """Each registered Keras VarianceScaling subclass carries its parameters in the registry."""
    unmarked = [n for n, e in canonical("initializer").items() if not e.variance_scaling
                and isinstance(getattr(keras.initializers, e.keras_name)(), keras.initializers.VarianceScaling)]
    assert not unmarked


def test_leaky_relu_activation_has_keras_slope_and_no_other(keras):
    """The name `leaky_relu` means Keras's function with its default slope: the checker fills that
    slope into the IR; a spec that asks for another one is told to use the LeakyReLU layer."""
    x = np.array([-2.0, 3.0], np.float32)
    slope = float(np.asarray(keras.activations.get("leaky_relu")(x))[0] / x[0])
    spec = "model m {{ input x: float32[3]; output y = Dense(2, activation={})(x) }}"
    ref = spec2net.loads(spec.format("leaky_relu")).ir.layers[0].args["activation"]
    assert ref.kwargs == {"negative_slope": pytest.approx(slope)}
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.loads(spec.format("leaky_relu(negative_slope=0.1)"))
    (d,) = info.value.diagnostics
    assert d.code == "arg-range" and "the LeakyReLU layer takes another slope" in d.message


def test_model_fit_is_always_filled_with_keras_fit_defaults(keras):
    """A spec without a `fit` block still has every fit() argument, Keras's defaults, in its IR."""
    fit = spec2net.loads("model m { input x: float32[3]; output y = Dense(1)(x) }").ir.fit
    params = _parameters(keras.Model.fit)
    assert {k: fit[k] for k in ("epochs", "validation_split", "shuffle")} == \
        {k: params[k].default for k in ("epochs", "validation_split", "shuffle")}
    assert params["batch_size"].default is None and fit["batch_size"] == 32  # Keras: None means 32
