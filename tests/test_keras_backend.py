"""The Keras backend: golden sources, the generated code's imports and lint, and generated models
against the NumPy interpreter and the hand-written Keras twins (training: test_keras_training.py;
names, lines and defaults: test_keras_codegen.py; hostile names: test_hostile_names.py).

Regenerate the golden files after a deliberate change, then review the diff:
    ./dev golden   (SPEC2NET_UPDATE_GOLDEN=1 on the golden tests of both backends)
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT
from keras_helpers import (
    by_name,
    example_inputs,
    example_weights,
    load_module,
    positional,
    save_npz,
    tolerance,
)
from numpy_keras_helpers import DiffTable, chain_spec, max_diff, random_inputs, random_weights
from registry_samples import layer_samples
from spec2net.backends.keras import EMITTERS

import spec2net
from spec2net.registry import LAYERS, canonical_layers, deterministic

GOLDEN = ROOT / "tests" / "golden" / "keras"
TABLE = DiffTable()
STEMS = [p.stem for p in EXAMPLES]


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    TABLE.report(request.config, "Keras backend vs NumPy interpreter, worst max|diff|")


def layer_names(keras, model) -> list:
    return sorted(layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer))


# -- the generated source --------------------------------------------------------------------
@pytest.mark.parametrize("stem", STEMS)
def test_golden(stem):
    source = spec2net.load(ROOT / "examples" / f"{stem}.net").build("keras")
    golden = GOLDEN / f"{stem}.py"
    if os.environ.get("SPEC2NET_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_text(source, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}; run with SPEC2NET_UPDATE_GOLDEN=1"
    assert source == golden.read_text(encoding="utf-8"), f"{stem}: source differs from {golden.name}"


def test_source_is_deterministic_and_names_only_the_file(tmp_path):
    text = (ROOT / "examples" / "shared.net").read_text()
    copy = tmp_path / "deep" / "dir"
    copy.mkdir(parents=True)
    (copy / "shared.net").write_text(text)
    a = spec2net.load(ROOT / "examples" / "shared.net").build("keras")
    b = spec2net.load(copy / "shared.net").build("keras")
    assert a == b == spec2net.load(ROOT / "examples" / "shared.net").build("keras")
    assert str(tmp_path) not in b and "examples/" not in b
    assert f"spec2net {spec2net.__version__} from shared.net" in a


@pytest.mark.parametrize("stem", STEMS)
def test_source_compiles_imports_only_keras_and_numpy(stem):
    source = spec2net.load(ROOT / "examples" / f"{stem}.net").build("keras")
    tree = ast.parse(compile(source, f"{stem}.py", "exec", flags=ast.PyCF_ONLY_AST))
    top = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top |= {node.module.split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert top == {"keras", "numpy"}
    nested = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) and node not in tree.body
              for alias in node.names}
    assert nested <= {"safetensors.numpy"}  # only inside _safetensors(), for .safetensors files
    assert "spec2net" not in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def test_sources_pass_ruff(tmp_path):
    ruff = pytest.importorskip("ruff", reason="needs ruff: pip install 'spec2net[dev]'")
    del ruff
    for path in EXAMPLES:
        (tmp_path / f"{path.stem}.py").write_text(spec2net.load(path).build("keras"))
    # --isolated: the defaults a user's project would apply, plus pycodestyle's line length
    cmd = [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "E,F,W", "--line-length", "99",
           str(tmp_path)]
    result = subprocess.run(cmd, check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_registered_layer_has_an_emitter():
    assert EMITTERS.missing(canonical_layers()) == []


# -- generated models against Keras, the twins and the interpreter ----------------------------
@pytest.mark.parametrize("stem", STEMS)
def test_example_matches_interpreter_and_twin(keras, stem, tmp_path):
    from keras_twins import build_twin, get_weights, set_weights
    from spec2net.backends.numpy import run

    net = spec2net.load(ROOT / "examples" / f"{stem}.net")
    mod = load_module(net.build("keras"), tmp_path / f"{stem}_keras.py")
    model = mod.build_model()
    # structure: names, inputs, outputs, parameter counts as `spec2net summary` prints them
    assert [t.name for t in model.inputs] == net.input_names
    assert [t.dtype for t in model.inputs] == [t.type.dtype for t in net.ir.inputs]
    assert [tuple(t.shape[1:]) for t in model.inputs] == [t.type.shape for t in net.ir.inputs]
    twin = build_twin(stem)
    assert layer_names(keras, model) == sorted(layer.name for layer in net.ir.layers) == layer_names(keras, twin)
    total = int(net.summary().split("Total params: ")[1].split()[0].replace(",", ""))
    assert model.count_params() == total == twin.count_params()
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    assert trainable == net.ir.count_params()[0]

    weights = example_weights(net, seed=3)
    mod.load_weights(model, save_npz(tmp_path / "w.npz", weights))
    set_weights(twin, weights)
    assert {k: v.shape for k, v in get_weights(model).items()} == {k: v.shape for k, v in weights.items()}
    x = example_inputs(net)
    got = by_name(model.predict(positional(x, net.input_names), verbose=0), net)
    ref = run(net.ir, x, weights)
    twin_out = twin.predict(positional(x, net.input_names), verbose=0)
    twin_out = twin_out if isinstance(twin_out, list) else [twin_out]
    tol = tolerance(net)
    for name, want in zip(net.output_names, twin_out):
        assert max_diff(got[name], want) <= 1e-6, f"{stem}/{name} vs twin"
        diff = max_diff(got[name], ref[name])
        TABLE.add(f"example {stem}", diff)
        assert diff <= tol, f"{stem}/{name}: max|diff| {diff:.2e} vs the NumPy interpreter"
    if all(deterministic(LAYERS[layer.type], layer.args) for layer in net.ir.layers):
        # batch statistics: deterministic, so comparable
        train = by_name(model(positional(x, net.input_names), training=True), net)
        ref_t = run(net.ir, x, weights, training=True)
        for name in net.output_names:
            diff = max_diff(np.asarray(train[name]), ref_t[name])
            TABLE.add(f"example {stem} (training)", diff)
            assert diff <= tol, f"{stem}/{name} (training): max|diff| {diff:.2e}"
        after = get_weights(model)
        for key, value in ref_t["__state__"].items():  # BN moving statistics, updated the same way
            assert max_diff(after[key], value) <= 1e-5, key


@pytest.mark.parametrize("layer_type,args,inputs", layer_samples())
def test_layer_matches_interpreter(keras, layer_type, args, inputs, tmp_path):
    from spec2net.backends.numpy import run

    net = spec2net.loads(chain_spec(inputs, [(layer_type, args)]))
    mod = load_module(net.build("keras"), tmp_path / "layer.py")
    model = mod.build_model()
    assert model.count_params() == sum(net.ir.count_params())
    weights = random_weights(net.ir, seed=1)
    mod.load_weights(model, save_npz(tmp_path / "w.npz", weights))
    x = random_inputs(net.ir, batch=3, seed=2, vocab=args.get("input_dim", 10))
    tol = tolerance(net)
    repeatable = deterministic(LAYERS[layer_type], net.ir.layers[0].args)
    for training in (False, True) if repeatable else (False,):
        got = by_name(model(positional(x, net.input_names), training=training), net)
        ref = run(net.ir, x, weights, training=training)
        for name in net.output_names:
            diff = max_diff(np.asarray(got[name]), ref[name])
            TABLE.add(f"layer {layer_type}", diff)
            assert diff <= tol, f"{layer_type} {args} training={training}: {name} max|diff| {diff:.2e}"


def test_weights_round_trip_npz_and_safetensors(keras, tmp_path):
    net = spec2net.load(ROOT / "examples" / "normalized.net")
    mod = load_module(net.build("keras"), tmp_path / "normalized_keras.py")
    weights = random_weights(net.ir, seed=5)
    a = mod.build_model()
    mod.load_weights(a, save_npz(tmp_path / "w.npz", weights))
    for suffix in (".npz", ".safetensors"):
        if suffix == ".safetensors":
            pytest.importorskip("safetensors")
        path = tmp_path / f"out{suffix}"
        mod.save_weights(a, path)
        assert path.exists()  # no ".npz" appended to the name
        b = mod.build_model()
        mod.load_weights(b, path)
        for va, vb in zip(a.weights, b.weights):
            np.testing.assert_array_equal(va.numpy(), vb.numpy())
    with np.load(tmp_path / "out.npz") as saved:
        assert sorted(saved.files) == sorted(k for k, _ in net.ir.weight_keys())
        assert all(saved[k].dtype == np.float32 for k in saved.files)
        np.testing.assert_array_equal(saved["batch_normalization/moving_variance"],
                                      weights["batch_normalization/moving_variance"])


def test_load_weights_rejects_a_foreign_file_and_changes_nothing(keras, tmp_path):
    net = spec2net.load(ROOT / "examples" / "mlp.net")
    mod = load_module(net.build("keras"), tmp_path / "mlp_keras.py")
    model = mod.build_model()
    before = [v.numpy().copy() for v in model.weights]
    weights = random_weights(net.ir)
    bad = dict(weights, **{"dense_9/kernel": np.zeros((1,), np.float32)})
    del bad["dense/bias"]
    with pytest.raises(ValueError, match=r"missing: \['dense/bias'\], unexpected: \['dense_9/kernel'\]"):
        mod.load_weights(model, save_npz(tmp_path / "bad.npz", bad))
    wrong = dict(weights, **{"dense/kernel": np.zeros((5, 8), np.float32)})
    with pytest.raises(ValueError, match="dense/kernel has shape"):
        mod.load_weights(model, save_npz(tmp_path / "wrong.npz", wrong))
    for old, v in zip(before, model.weights):
        np.testing.assert_array_equal(old, v.numpy())


# -- the command line ---------------------------------------------------------------------------
def test_cli_build_writes_the_module_atomically(tmp_path):
    out = tmp_path / "mlp_keras.py"
    cmd = [sys.executable, "-m", "spec2net", "build", str(ROOT / "examples" / "mlp.net"), "--backend", "keras"]
    done = subprocess.run(cmd + ["-o", str(out)], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == spec2net.load(ROOT / "examples" / "mlp.net").build("keras")
    assert subprocess.run(cmd, check=False, capture_output=True, text=True).stdout == out.read_text()
    bad = tmp_path / "bad.net"
    bad.write_text("sequential s { input float32[4]; Dense(0) }\n")
    failed = subprocess.run(cmd[:4] + [str(bad), "--backend", "keras", "-o", str(out)], check=False, capture_output=True,
                            text=True)
    assert failed.returncode == 1 and "bad.net:1:" in failed.stderr
    assert out.read_text() == spec2net.load(ROOT / "examples" / "mlp.net").build("keras")  # untouched
    missing = subprocess.run(cmd + ["-o", str(tmp_path / "no" / "dir.py")], check=False, capture_output=True, text=True)
    assert missing.returncode == 2 and not (tmp_path / "no").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.net", "mlp_keras.py"]  # no temp files left
