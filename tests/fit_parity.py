"""One spec trained three ways from the same start weights and data: real Keras (the generated
module's ``compile_model`` and ``FIT``, callbacks included), the NumPy trainer and the generated
torch module's ``fit``. Each gives (final weights, history)."""

from __future__ import annotations

import numpy as np
from numpy_keras_helpers import max_diff
from test_torch_backend import load_module


def keras_fit(net, start: dict, x: dict, y: dict, **fit):
    from keras_twins import get_weights, set_weights

    mod = load_module(net.build("keras"))
    model = mod["compile_model"](mod["build_model"]())
    set_weights(model, start)
    names = net.input_names
    kx = x[names[0]] if len(names) == 1 else x
    history = model.fit(kx, y, verbose=0, **{**mod["FIT"], **fit}).history
    return get_weights(model), history


def numpy_fit(net, start: dict, x: dict, y: dict, **fit):
    return net.train({**x, **y}, dict(start), **fit)


def torch_fit(net, start: dict, x: dict, y: dict, **fit):
    mod = load_module(net.build("torch"))
    model = mod["build_model"]()
    mod["set_weights"](model, start)
    history = mod["fit"](model, x, y, **fit)
    return mod["get_weights"](model), history


def history_diff(got: dict, want: dict) -> float:
    """The largest |difference| over every key and epoch; the keys must be Keras's."""
    assert sorted(got) == sorted(want), (sorted(got), sorted(want))
    assert all(len(got[k]) == len(want[k]) for k in want), "epochs run differ"
    return max(max_diff(np.asarray(got[k], np.float64), np.asarray(want[k], np.float64)) for k in want)


def weights_diff(got: dict, want: dict) -> float:
    assert sorted(got) == sorted(want)
    return max(max_diff(got[k], want[k]) for k in want)
