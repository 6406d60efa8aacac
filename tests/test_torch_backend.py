"""The generated PyTorch module, forward: against real Keras and the NumPy interpreter with
one weights dict, for every example, every registry sample, every activation, masked
sequences, and BatchNormalization in both modes; plus the file itself (golden files,
ruff, determinism, safe names) and its weights file and initializers."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT
from numpy_keras_helpers import (
    EMB,
    MASKED,
    TOKENS,
    DiffTable,
    chain_spec,
    example_inputs,
    keras_chain,
    max_diff,
    random_inputs,
)
from spec2net.backends import numpy as nb

import spec2net
from spec2net.equiv import perturbed_weights
from spec2net.registry import REGISTRIES, canonical_layers

TOL, TOL_RECURRENT = 1e-5, 1e-4
RECURRENT = ("LSTM", "GRU", "SimpleRNN")
GOLDEN = ROOT / "tests" / "golden" / "torch"
GOLDEN_EXAMPLES = ("mlp", "multi_output", "gru", "normalized", "shared")
DIFFS = DiffTable()


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    DIFFS.report(request.config, "generated torch vs Keras / NumPy, worst |diff|:")


def load_module(source: str) -> dict:
    """Execute generated source as a fresh module namespace."""
    ns = {"__name__": "generated"}
    exec(compile(source, "<generated torch>", "exec"), ns)
    return ns


def torch_forward(mod, weights, inputs, training=False):
    import torch

    model = mod["build_model"](0)
    mod["set_weights"](model, weights)
    model.train(training)
    with torch.no_grad():
        out = model(*[torch.as_tensor(inputs[n]) for n in mod["INPUT_NAMES"]])
    out = out if isinstance(out, tuple) else (out,)
    return {name: o.numpy() for name, o in zip(mod["OUTPUT_NAMES"], out)}, model


def _check(group, net, got, references, tol):
    for ref_name, ref in references.items():
        for name in net.output_names:
            d = max_diff(got[name], ref[name])
            DIFFS.add(f"{group} vs {ref_name}", d)
            assert d <= tol, f"{name}: torch vs {ref_name} max |diff| {d:.3g} > {tol}"


def _compare_chain(keras, inputs_spec, chain, group, x=None, training=False):
    """torch == Keras == NumPy for a chain of layers; BN's moving statistics too in training."""
    from keras_twins import get_weights, set_weights

    net = spec2net.loads(chain_spec(inputs_spec, chain))
    weights = perturbed_weights(net.ir)
    if x is None:
        vocab = next((a["input_dim"] for t, a in chain if t == "Embedding"), None)
        x = random_inputs(net.ir, vocab=vocab)
    mod = load_module(net.build("torch"))
    got, model = torch_forward(mod, weights, x, training)
    kmodel = keras_chain(keras, inputs_spec, chain)
    set_weights(kmodel, weights)
    want = kmodel([x[f"x{i}"] for i in range(len(inputs_spec))], training=training)
    want = want if isinstance(want, (list, tuple)) else [want]
    keras_out = {name: np.asarray(w) for name, w in zip(net.output_names, want)}
    numpy_out = nb.run(net.ir, x, weights, training=training, seed=0)
    tol = TOL_RECURRENT if any(t in RECURRENT for t, _ in chain) else TOL
    _check(group, net, got, {"Keras": keras_out, "NumPy": numpy_out}, tol)
    if training:
        after, mine = get_weights(kmodel), mod["get_weights"](model)
        stats = [k for k in after if k.endswith(("moving_mean", "moving_variance"))]
        for key in stats:
            for ref_name, ref in (("Keras", after), ("NumPy", numpy_out["__state__"])):
                d = max_diff(mine[key], ref[key])
                DIFFS.add(f"{group} moving stats vs {ref_name}", d)
                assert d <= TOL, f"{key}: torch vs {ref_name} max |diff| {d:.3g}"
    return got


def _samples():
    return [pytest.param(name, args, inputs, id=f"{name}-{i}")
            for name, defn in canonical_layers().items() for i, (args, inputs) in enumerate(defn.samples)]


@pytest.mark.parametrize("layer, args, inputs", _samples())
def test_layer_inference(keras, torch, layer, args, inputs):
    _compare_chain(keras, inputs, [(layer, args)], layer)


@pytest.mark.parametrize("layer, args, inputs",
                         [p for p in _samples() if p.values[0] in ("BatchNormalization", "LayerNormalization")])
def test_normalization_training(keras, torch, layer, args, inputs):
    """Training mode: batch statistics, and Keras's moving averages of the biased variance."""
    _compare_chain(keras, inputs, [(layer, args)], layer + " (training)", training=True)


ACTIVATIONS = sorted(n for n in REGISTRIES["activation"] if n == REGISTRIES["activation"][n].name)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation(keras, torch, name):
    _compare_chain(keras, [("float32", (7,))], [("Dense", {"units": 6, "activation": name})], "activations")


# The shared masked cases (numpy_keras_helpers): the fused torch kernels cannot hold states
# over such masks, the step loop does; plus one loop with other activations
MASKED = {**MASKED, "LSTM-relu-loop": [EMB, ("LSTM", {"units": 3, "activation": "relu",
                                                        "recurrent_activation": "hard_sigmoid"})]}


@pytest.mark.parametrize("name", sorted(MASKED))
def test_masked_recurrent(keras, torch, name):
    _compare_chain(keras, [("int32", (6,))], MASKED[name], f"masked {name}", x={"x0": TOKENS})


def test_batchnorm_masked_training(keras, torch):
    """BN after Embedding(mask_zero) in training: Keras weighs the batch moments (and so the
    moving statistics) by the mask; padded steps weigh nothing, a fully padded row included.
    The BN output is a model output here, so the moving statistics see the raw masked moments."""
    chain = [EMB, ("BatchNormalization", {"momentum": 0.8})]
    _compare_chain(keras, [("int32", (6,))], chain, "masked BatchNormalization (training)",
                   x={"x0": TOKENS}, training=True)
    # the case discriminates: the plain moments of these embeddings are far from the masked ones
    table = perturbed_weights(spec2net.loads(chain_spec([("int32", (6,))], chain)).ir)["embedding/embeddings"]
    e = table[TOKENS]
    assert np.abs(e.mean((0, 1)) - e[TOKENS != 0].mean(0)).max() > 100 * TOL
    _compare_chain(keras, [("int32", (6,))], chain + [("LSTM", {"units": 3})],
                   "masked BatchNormalization -> LSTM (training)", x={"x0": TOKENS}, training=True)


UNMASKED_LOOP = {  # semantics the fused torch kernels lack: the step loop runs them
    "LSTM-hard-sigmoid": [("LSTM", {"units": 3, "recurrent_activation": "hard_sigmoid", "return_state": True})],
    "SimpleRNN-relu": [("SimpleRNN", {"units": 3, "activation": "relu", "return_sequences": True})],
    "SimpleRNN-softsign": [("SimpleRNN", {"units": 3, "activation": "softsign"})],
    "GRU-reset-before-back": [("GRU", {"units": 3, "reset_after": False, "go_backwards": True})],
}


@pytest.mark.parametrize("name", sorted(UNMASKED_LOOP))
def test_recurrent_variants(keras, torch, name):
    _compare_chain(keras, [("float32", (5, 2))], UNMASKED_LOOP[name], f"recurrent {name}")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_forward(keras, torch, path):
    """Generated torch == generated Keras == NumPy interpreter on every example."""
    from keras_twins import set_weights

    net = spec2net.load(path)
    weights = perturbed_weights(net.ir)
    x = example_inputs(net)
    got, _ = torch_forward(load_module(net.build("torch")), weights, x)
    kmodel = load_module(net.build("keras"))["build_model"]()
    set_weights(kmodel, weights)
    names = net.input_names
    want = kmodel(x[names[0]] if len(names) == 1 else {n: x[n] for n in names}, training=False)
    want = want if isinstance(want, dict) else dict(zip(net.output_names, want))  # several outputs: a list
    references = {"Keras": {k: np.asarray(v) for k, v in want.items()},
                  "NumPy": nb.run(net.ir, x, weights)}
    recurrent = any(layer.type in RECURRENT for layer in net.ir.layers)
    _check(f"example {path.stem}", net, got, references, TOL_RECURRENT if recurrent else TOL)


def test_dropout_follows_train_and_eval(torch):
    mod = load_module(spec2net.loads("model d { input x: float32[400]; output y = Dropout(0.25)(x) }").build("torch"))
    model = mod["build_model"]()
    x = torch.ones(50, 400)
    model.eval()
    assert torch.equal(model(x), x)
    model.train()
    y = model(x)
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.75) < 0.02
    assert torch.allclose(y[y != 0], torch.tensor(1 / 0.75))  # inverted dropout


def test_uses_fused_kernels_where_keras_semantics_allow(torch):
    src = spec2net.load(ROOT / "examples" / "lstm_series.net").build("torch")
    assert "nn.LSTM(1, 10, batch_first=True)" in src and "rnn_loop" not in src
    masked = spec2net.load(ROOT / "examples" / "multi_output.net").build("torch")
    assert "rt.rnn_loop(" in masked  # Keras's masked steps need the step loop


# -- the file itself --------------------------------------------------------------------------
@pytest.mark.parametrize("stem", GOLDEN_EXAMPLES)
def test_golden(stem):
    """The generated file is exactly the reviewed one (regenerate every golden file: ./dev golden)."""
    source = spec2net.load(ROOT / "examples" / f"{stem}.net").build("torch")
    golden = GOLDEN / f"{stem}.py"
    if os.environ.get("SPEC2NET_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_text(source, encoding="utf-8")
    assert source == golden.read_text(encoding="utf-8")


def test_deterministic_and_ruff_clean(tmp_path):
    ruff = pytest.importorskip("ruff", reason="needs ruff: pip install 'spec2net[dev]'")
    del ruff
    files = []
    for path in EXAMPLES:
        net = spec2net.load(path)
        first = net.build("torch")
        assert spec2net.load(path).build("torch") == first
        compile(first, path.name, "exec")
        out = tmp_path / f"{path.stem}.py"
        out.write_text(first, encoding="utf-8")
        files.append(str(out))
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", *files],
                       check=False, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def _imports(src: str, everywhere=False) -> set:
    tree = ast.parse(src)
    nodes = ast.walk(tree) if everywhere else tree.body
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            out.add(node.module)
    return out


def test_imports_only_torch_and_the_runtime():
    for path in EXAMPLES:
        imports = _imports(spec2net.load(path).build("torch"))
        assert imports <= {"torch", "torch.nn.functional", "spec2net.runtime"}, (path.name, imports)


def test_hostile_names_stay_inert(torch):
    spec = '''model class {
        input lambda: float32[3]
        input self: float32[3]
        a = Dense(2, name="x.1-y")(lambda)
        b = Dense(2, name="forward")(self)
        output torch = add([a, b])
    }'''
    src = spec2net.loads(spec).build("torch")
    assert _imports(src, everywhere=True) <= {"torch", "torch.nn.functional", "spec2net.runtime"}
    mod = load_module(src)
    assert mod["INPUT_NAMES"] == ("lambda", "self") and mod["OUTPUT_NAMES"] == ("torch",)
    model = mod["build_model"](0)
    w = mod["get_weights"](model)
    assert sorted(w) == ["forward/bias", "forward/kernel", "x.1-y/bias", "x.1-y/kernel"]
    x = torch.ones(2, 3)
    want = x @ torch.as_tensor(w["x.1-y/kernel"]) + torch.as_tensor(w["x.1-y/bias"])
    want = want + x @ torch.as_tensor(w["forward/kernel"]) + torch.as_tensor(w["forward/bias"])
    assert torch.allclose(model(x, x), want, atol=1e-6)


# -- weights file and initializers --------------------------------------------------------
@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_weights_file_round_trip(torch, tmp_path, suffix):
    if suffix == ".safetensors":
        pytest.importorskip("safetensors", reason="needs safetensors")
    net = spec2net.load(ROOT / "examples" / "gru.net")  # GRU: gate permutation and the (2, 3u) bias split
    mod = load_module(net.build("torch"))
    weights = perturbed_weights(net.ir)
    model = mod["build_model"]()
    mod["set_weights"](model, weights)
    path = tmp_path / f"w{suffix}"
    mod["save_weights"](model, path)
    other = mod["build_model"](seed=1)
    mod["load_weights"](other, path)
    back = mod["get_weights"](other)
    assert sorted(back) == sorted(weights)
    for key in weights:
        assert np.array_equal(back[key], weights[key]), key
    # the torch layouts hold Keras's arrays permuted, not copied as they are
    u = 16
    k = weights["gru/kernel"]
    gru = model.layers["gru"]
    assert np.array_equal(gru.weight_ih_l0.detach().numpy()[:u], k[:, u:2 * u].T)  # torch's r = Keras's r
    assert np.array_equal(gru.bias_hh_l0.detach().numpy()[u:2 * u], weights["gru/bias"][1, :u])  # z


def test_wrong_weights_are_refused(torch):
    mod = load_module(spec2net.load(ROOT / "examples" / "mlp.net").build("torch"))
    model = mod["build_model"]()
    w = mod["get_weights"](model)
    with pytest.raises(KeyError, match="dense_1/bias"):
        mod["set_weights"](model, {k: v for k, v in w.items() if k != "dense_1/bias"})
    with pytest.raises(ValueError, match=r"dense/kernel: expected shape \(4, 8\)"):
        mod["set_weights"](model, {**w, "dense/kernel": w["dense/kernel"].T})


def test_initializers_follow_keras(torch):
    spec = """model m {
        input x: float32[300]
        h = Dense(200, kernel_initializer=glorot_uniform, bias_initializer=constant(0.5))(x)
        h = Dense(100, kernel_initializer=he_normal)(h)
        s = Reshape((10, 10))(h)
        output y = LSTM(50, recurrent_initializer=orthogonal(gain=2.0))(s)
    }"""
    net = spec2net.loads(spec)
    mod = load_module(net.build("torch"))
    w = mod["get_weights"](mod["build_model"](seed=3))
    k = w["dense/kernel"]
    limit = np.sqrt(6 / (300 + 200))
    assert k.max() <= limit and k.min() >= -limit and k.max() > 0.95 * limit
    assert abs(k.std() - limit / np.sqrt(3)) < 0.02 * limit
    assert np.all(w["dense/bias"] == 0.5)
    he = w["dense_1/kernel"]
    std = np.sqrt(2 / 200)
    assert np.abs(he).max() <= 2 * std / 0.87962566103423978 + 1e-6  # truncated at two stddevs
    assert abs(he.std() - std) < 0.05 * std
    r = w["lstm/recurrent_kernel"]  # (50, 200): orthogonal rows, times the gain
    assert np.allclose(r @ r.T, 4.0 * np.eye(50), atol=1e-4)
    b = w["lstm/bias"]  # unit_forget_bias: ones for the forget gate only
    assert np.all(b[50:100] == 1) and np.all(b[:50] == 0) and np.all(b[100:] == 0)
    again = mod["get_weights"](mod["build_model"](seed=3))
    assert all(np.array_equal(again[key], w[key]) for key in w)
