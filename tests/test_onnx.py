"""spec2net build --backend onnx: onnxruntime against the NumPy interpreter (itself tested against
Keras) with one weights dict, on every example, every registry sample, masked sequences through
the Scan path, every activation, masks through every merge, initial states, input dtypes, a
seeded subset of the fuzzer's random models, and `spec2net equiv`'s layer-by-layer trace; every
model passes check_model(full_check=True). tests/test_onnx_file.py tests the file itself."""

from __future__ import annotations

import modelgen
import modelrun
import numpy as np
import pytest
from conftest import EXAMPLES
from numpy_keras_helpers import (
    EMB,
    MASKED,
    TOKENS,
    DiffTable,
    chain_spec,
    example_inputs,
    max_diff,
    random_inputs,
    random_weights,
)

import spec2net
from spec2net.cli import main
from spec2net.equiv import perturbed_weights
from spec2net.registry import REGISTRIES, canonical_layers
from spec2net.registry.wrappers import Inner

onnx = pytest.importorskip("onnx", reason="needs onnx: pip install 'spec2net[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="needs onnxruntime: pip install 'spec2net[onnx]'")

from spec2net.backends.onnx import DEFAULT_OPSET, model_bytes

TOL = 1e-5
DIFFS = DiffTable()
# the fuzzer's random models whose layers together cover every registry layer (tests/test_random_models.py)
FUZZ_SEEDS = (2347, 1667, 2358, 1491, 283, 255, 472)


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    DIFFS.report(request.config, "onnxruntime vs NumPy, worst |diff|:")


def ort_run(data: bytes, x: dict) -> dict:
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # the tests share two cores
    sess = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, x)))


def compare(net, x: dict, group: str, weights=None, opset=DEFAULT_OPSET, tol=TOL) -> bytes:
    """onnxruntime == NumPy on ``x``; the model passes the full checker. Returns its bytes."""
    weights = _weights(net.ir) if weights is None else weights
    data = model_bytes(net.ir, weights, opset)
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model, full_check=True)
    assert not _unused_initializers(model.graph)
    got, want = ort_run(data, x), net.run(x, weights)
    for name in net.output_names:
        both_nan = np.isnan(got[name]) & np.isnan(want[name])  # a fully masked row's mean: 0 / 0, as Keras's
        d = max_diff(np.where(both_nan, 0, got[name]), np.where(both_nan, 0, want[name]))
        DIFFS.add(group, d)
        assert d <= tol, f"{name}: onnxruntime vs NumPy max |diff| {d:.3g} > {tol}"
    return data


def _unused_initializers(graph) -> set:
    used, stack = set(), [graph]
    while stack:  # a Scan body reads its cell's weights from the enclosing graph
        for node in stack.pop().node:
            used.update(node.input)
            stack.extend(a.g for a in node.attribute if a.type == onnx.AttributeProto.GRAPH)
    return {i.name for i in graph.initializer} - used


def _weights(model) -> dict:
    """random_weights with each matrix scaled by 1/sqrt(fan-in): a recurrence over 100 steps stays
    contractive, so float32 rounding is not amplified into chaos (equiv's perturbed weights do the
    same, at a cost of seconds for a 256-unit LSTM's orthogonal draw)."""
    out = random_weights(model)
    for key, p in model.weight_keys():
        if len(p.shape) >= 2:
            out[key] = (out[key] / np.sqrt(np.prod(p.shape[:-1]))).astype(np.float32)
    return out


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example(path):
    net = spec2net.load(path)
    compare(net, example_inputs(net), "examples")


def _samples():
    return [pytest.param(name, args, inputs, id=f"{name}-{i}")
            for name, defn in canonical_layers().items() for i, (args, inputs) in enumerate(defn.samples)]


@pytest.mark.parametrize("layer, args, inputs", _samples())
def test_layer_sample(layer, args, inputs):
    net = spec2net.loads(chain_spec(inputs, [(layer, args)]))
    vocab = args.get("input_dim") or getattr(args.get("layer"), "args", {}).get("input_dim")
    compare(net, random_inputs(net.ir, vocab=vocab), f"layer {layer}")


ACTIVATIONS = sorted(n for n, e in REGISTRIES["activation"].items() if n == e.name)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation(name):
    net = spec2net.loads(chain_spec([("float32", (7,))], [("Dense", {"units": 6, "activation": name})]))
    compare(net, random_inputs(net.ir), "activations")


SCAN = {  # a mask ONNX's sequence_lens cannot hold, or activations ONNX's RNN ops lack: the Scan path
    **MASKED,
    "LSTM-hard-sigmoid-relu": [EMB, ("LSTM", {"units": 3, "activation": "relu", "recurrent_activation": "hard_sigmoid",
                                              "return_state": True})],
    "GRU-selu-unmasked": [("Embedding", {"input_dim": 12, "output_dim": 4}),
                          ("GRU", {"units": 3, "activation": "selu", "reset_after": False, "return_sequences": True})],
    "SimpleRNN-linear-unmasked": [("Embedding", {"input_dim": 12, "output_dim": 4}),
                                  ("SimpleRNN", {"units": 3, "activation": "linear", "go_backwards": True})],
    "Bidirectional-masked": [EMB, ("Bidirectional", {"layer": Inner("LSTM", (("units", 3), ("return_sequences", True))),
                                                     "merge_mode": "ave"}),
                             ("SimpleRNN", {"units": 2})],
    "GlobalAveragePooling1D-masked": [EMB, ("GlobalAveragePooling1D", {"keepdims": True})],
    "Masking-GRU": [("Embedding", {"input_dim": 12, "output_dim": 4}), ("Masking", {"mask_value": 0.0}),
                    ("GRU", {"units": 2})],
    "TimeDistributed-masked": [EMB, ("TimeDistributed", {"layer": Inner("Dense", (("units", 3),))}),
                               ("SimpleRNN", {"units": 2})],
}


@pytest.mark.parametrize("name", sorted(SCAN))
def test_masked_and_scan_recurrent(name):
    compare(spec2net.loads(chain_spec([("int32", (6,))], SCAN[name])), {"x0": TOKENS}, f"scan {name}")


MASKED_MERGES = """
model m {
    input a: int32[6]
    input b: int32[6]
    ea = Embedding(12, 3, mask_zero=true)(a)
    eb = Embedding(12, 3, mask_zero=true)(b)
    p = Dense(3)(a -> Embedding(12, 3))
    output mx = maximum([ea, eb]) -> LSTM(2)
    output mn = minimum([ea, p, eb]) -> GRU(2, return_sequences=true)
    output mul = multiply([ea, eb]) -> SimpleRNN(2)
    output cat = concatenate([ea, p], axis=1) -> LSTM(2)
    output cat2 = concatenate([ea, eb]) -> GRU(2)
    output sum = add([ea, eb, p]) -> LSTM(2)
}
"""


def test_masks_through_merges():
    net = spec2net.loads(MASKED_MERGES)
    compare(net, {"a": TOKENS, "b": TOKENS[::-1].copy()}, "masked merges")


INITIAL_STATE = """
model m {
    input a: int32[6]
    input b: float32[?, 3]
    _, h, c = Embedding(12, 4, mask_zero=true)(a) -> LSTM(3, return_state=true)
    _, g = GRU(2, return_state=true, activation=selu)(b)
    output seq = LSTM(3, return_sequences=true)(b, initial_state=[h, c])
    output back = Bidirectional(GRU(2, go_backwards=false))(b, initial_state=[g, g])
    output loop = SimpleRNN(2, activation=elu)(b -> Masking(), initial_state=[g])
}
"""


def test_initial_state_and_opsets():
    """States from other layers start a layer (on both paths, a Bidirectional's halves split as
    Keras splits them, a mask ignored as Keras 3.15 does); opsets 18 to 21 give the same."""
    net = spec2net.loads(INITIAL_STATE)
    x = {"a": TOKENS, "b": np.random.default_rng(2).normal(size=(4, 5, 3)).astype(np.float32)}
    w = perturbed_weights(net.ir)
    for opset in (18, 21):
        compare(net, x, f"initial states, opset {opset}", w, opset)


@pytest.mark.parametrize("seed", FUZZ_SEEDS)
def test_random_model(seed):
    net = spec2net.loads(modelgen.random_spec(seed), file=f"random_spec({seed})")
    report = modelrun.compare(net, seed, ("onnx",))
    for d in report.diffs.values():
        DIFFS.add("random models", d)
    assert max(report.diffs.values()) <= TOL, f"seed {seed}: {report.worst}"


DTYPES = """
model m {
    input ids: uint8[5]
    input wide: float64[5, 2]
    input half: float16[3]
    output seq = concatenate([Embedding(3, 2, mask_zero=true)(ids), wide]) -> LSTM(2)
    output flat = Flatten()(ids)
    output d = Dense(2)(half)
}
"""


def test_input_dtypes():
    """Other integer ids are cast for Gather (and the mask compares them cast), float inputs are
    computed in float32 as the interpreter computes them; an integer output keeps its dtype."""
    net = spec2net.loads(DTYPES)
    rng = np.random.default_rng(3)
    x = {"ids": rng.integers(0, 3, (4, 5)).astype(np.uint8), "wide": rng.normal(size=(4, 5, 2)),
         "half": rng.normal(size=(4, 3)).astype(np.float16)}
    data = compare(net, x, "dtypes")
    assert ort_run(data, x)["flat"].dtype == np.uint8


@pytest.mark.parametrize("stem", ["shared", "multi_output", "gru"])
def test_equiv_traces_every_layer_call(stem, capsys):
    """`spec2net equiv --backends numpy,onnx`: every layer call's output (a shared layer's calls
    each, an LSTM's states) is found in the ONNX graph by its name and agrees with NumPy's."""
    from spec2net import equiv

    path = next(p for p in EXAMPLES if p.stem == stem)
    net = spec2net.load(path)
    x, w = equiv.random_inputs(net.ir), _weights(net.ir)
    _, ref = equiv.NumpyAdapter().run(net, x, w)
    _, got = equiv.ADAPTERS["onnx"].run(net, x, w)
    tensors = [t for n in net.ir.nodes for t in n.outputs]
    assert set(got) == set(ref) == set(tensors)
    assert max(equiv.diff(got[t], ref[t])[0] for t in tensors) <= TOL
    assert main(["equiv", str(path), "--backends", "numpy,onnx"]) == 0
    assert "verdict: numpy and onnx agree" in capsys.readouterr().out
