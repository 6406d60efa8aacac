"""The Keras backend: golden sources, the safety of generated code, and generated models
against the NumPy interpreter, the hand-written Keras twins and Keras's own training.

Regenerate the golden files after a deliberate change, then review the diff:
    SPEC2NET_UPDATE_GOLDEN=1 python -m pytest tests/test_keras_backend.py -k golden
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT
from numpy_keras_helpers import DiffTable, chain_spec, max_diff, random_inputs, random_weights
from spec2net.backends.keras import EMITTERS

import spec2net
from spec2net.registry import REGISTRIES, canonical, canonical_layers

GOLDEN = ROOT / "tests" / "golden" / "keras"
RECURRENT = {"SimpleRNN", "LSTM", "GRU"}
TABLE = DiffTable()
STEMS = [p.stem for p in EXAMPLES]
LAYER_CASES = [(name, i) for name, d in canonical_layers().items() for i in range(len(d.samples))]


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    TABLE.report(request.config, "Keras backend vs NumPy interpreter, worst max|diff|")


def load_module(source: str, path, name="generated"):
    """Import generated source from a file, as a user would."""
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"{name}_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def save_npz(path, weights):
    np.savez(path, **weights)
    return path


def layer_names(keras, model) -> list:
    return sorted(layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer))


def positional(values: dict, names: list):
    """A twin's inputs or targets: the one array, or a list in the spec's order."""
    return values[names[0]] if len(names) == 1 else [values[n] for n in names]


def by_name(result, net) -> dict:
    """A generated model's outputs keyed by the spec's names: a dict for one output, a list in the
    spec's order for several."""
    if isinstance(result, dict):
        assert list(result) == net.output_names
        return result
    assert len(result) == len(net.output_names)
    return dict(zip(net.output_names, result))


def tolerance(net) -> float:
    return 1e-4 if any(layer.type in RECURRENT for layer in net.ir.layers) else 1e-5


def example_weights(net, seed):
    """The spec's own initial weights, nudged so zero biases and unit statistics are exercised.

    (random_weights' N(0, 0.5) makes a 100-step SimpleRNN chaotic: float rounding alone then
    moves spam's output by 0.1, which would test the weather, not the backend.)
    """
    from spec2net.backends.numpy import init_weights

    rng = np.random.default_rng(seed)
    out = {}
    for key, value in init_weights(net.ir, seed).items():
        if key.endswith("moving_variance"):
            out[key] = rng.uniform(0.5, 1.5, value.shape).astype(np.float32)
        else:
            out[key] = (value + 0.05 * rng.standard_normal(value.shape)).astype(np.float32)
    return out


def example_inputs(net, n=6, seed=1):
    vocab = min((layer.args["input_dim"] for layer in net.ir.layers if layer.type == "Embedding"), default=10)
    return random_inputs(net.ir, batch=n, seed=seed, vocab=vocab, steps=7)


def example_targets(net, outputs, seed=2):
    """Targets that fit each output's loss: 0/1, one-hot, class ids or real values."""
    rng = np.random.default_rng(seed)
    out = {}
    for o in net.ir.outputs:
        shape = outputs[o.name].shape
        loss = net.ir.compile.loss[o.name].name
        if loss == "binary_crossentropy":
            out[o.name] = (rng.random(shape) > 0.5).astype(np.float32)
        elif loss == "categorical_crossentropy":
            out[o.name] = np.eye(shape[-1], dtype=np.float32)[rng.integers(0, shape[-1], shape[:-1])]
        elif loss == "sparse_categorical_crossentropy":
            out[o.name] = rng.integers(0, shape[-1], shape[:-1]).astype(np.int32)
        else:
            out[o.name] = rng.standard_normal(shape).astype(np.float32)
    return out


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
    assert set(canonical_layers()) <= set(EMITTERS), sorted(set(canonical_layers()) - set(EMITTERS))


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
    if not any(layer.type == "Dropout" and layer.args["rate"] > 0 for layer in net.ir.layers):
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


@pytest.mark.parametrize("layer_type,case", LAYER_CASES)
def test_layer_matches_interpreter(keras, layer_type, case, tmp_path):
    from spec2net.backends.numpy import run

    args, inputs = canonical_layers()[layer_type].samples[case]
    net = spec2net.loads(chain_spec(inputs, [(layer_type, args)]))
    mod = load_module(net.build("keras"), tmp_path / "layer.py")
    model = mod.build_model()
    assert model.count_params() == sum(net.ir.count_params())
    weights = random_weights(net.ir, seed=case)
    mod.load_weights(model, save_npz(tmp_path / "w.npz", weights))
    x = random_inputs(net.ir, batch=3, seed=case, vocab=args.get("input_dim", 10))
    tol = tolerance(net)
    deterministic = not (layer_type == "Dropout" and args["rate"] > 0)
    for training in (False, True) if deterministic else (False,):
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


# -- compile and fit ----------------------------------------------------------------------------
COMPILED = [p.stem for p in EXAMPLES if spec2net.load(p).ir.compile is not None]


@pytest.mark.slow
@pytest.mark.parametrize("stem", COMPILED)
def test_compile_and_fit_equal_the_twin(keras, stem, tmp_path):
    from keras_twins import build_twin, compile_twin, get_weights, set_weights

    net = spec2net.load(ROOT / "examples" / f"{stem}.net")
    mod = load_module(net.build("keras"), tmp_path / f"{stem}_keras.py")
    weights = example_weights(net, seed=7)
    path = save_npz(tmp_path / "w.npz", weights)
    keras.utils.set_random_seed(0)  # the same dropout seeds in both models, built in one order
    keras.backend.clear_session(free_memory=False)
    model = mod.compile_model(mod.build_model())
    mod.load_weights(model, path)
    keras.utils.set_random_seed(0)
    twin = compile_twin(stem, build_twin(stem))
    set_weights(twin, weights)

    x = example_inputs(net, n=16, seed=4)
    x = positional(x, net.input_names)
    y = example_targets(net, by_name(model.predict(x, verbose=0), net))
    fit = dict(getattr(mod, "FIT", {"batch_size": 8}), epochs=2, shuffle=False)
    if net.ir.fit is not None:
        assert mod.FIT == net.ir.fit
    keras.utils.set_random_seed(1)
    history = model.fit(x, y, verbose=0, **fit)
    keras.utils.set_random_seed(1)
    twin.fit(x, positional(y, net.output_names), verbose=0, **fit)
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))
    trained, twin_trained = get_weights(model), get_weights(twin)
    assert any(not np.array_equal(trained[k], weights[k]) for k in weights), "fit changed nothing"
    for key, value in trained.items():
        diff = max_diff(value, twin_trained[key])
        TABLE.add(f"fit {stem} vs twin", diff)
        assert diff <= 1e-5, f"{stem}: {key} differs from the twin after fit by {diff:.2e}"


@pytest.mark.parametrize("opt", list(canonical("optimizer")))
@pytest.mark.parametrize("clip", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_optimizer_arguments_reach_keras(keras, opt, clip, tmp_path):
    spec = (f"sequential s {{ input float32[3]; Dense(2); Dense(1)\n"
            f"  compile {{ optimizer = {opt}(lr=0.125, {clip}=0.5); loss = mse; metrics = [mae] }} }}")
    net = spec2net.loads(spec)
    model = load_module(net.build("keras"), tmp_path / "opt.py").compile_model(
        load_module(net.build("keras"), tmp_path / "opt2.py").build_model())
    config = model.optimizer.get_config()
    assert type(model.optimizer).__name__ == REGISTRIES["optimizer"][opt].keras_name
    assert config["learning_rate"] == pytest.approx(0.125) and config[clip] == pytest.approx(0.5)
    for name, value in net.ir.compile.optimizer.args:
        if value is not None and name in config:
            assert config[name] == pytest.approx(value), name


def test_loss_weights_and_metrics_line_up_with_output_names(keras, tmp_path):
    net = spec2net.load(ROOT / "examples" / "multi_output.net")
    mod = load_module(net.build("keras"), tmp_path / "mo.py")
    model = mod.compile_model(mod.build_model())
    x = example_inputs(net, n=8)["tokens"]
    y = example_targets(net, by_name(model.predict(x, verbose=0), net))
    history = model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0).history
    assert {"topic_loss", "score_loss", "topic_accuracy", "score_accuracy"} <= set(history)
    # one batch: the total is the weighted sum the spec's loss_weights ask for
    result = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(1.0 * result["topic_loss"] + 0.5 * result["score_loss"], rel=1e-5)


# -- hostile names ------------------------------------------------------------------------------
HOSTILE = r"""
model evil {
    input import: float32[3]
    input lambda: float32[3]
    a = Dense(4, name="x'); import os; os.system('touch pwned') #")(import)
    b = Dense(4, name="class")(lambda)
    c = Dense(4, name="keras")(a)
    d = Dense(4, name="1st \"\"\"; __import__('os').system('touch pwned') #")(b)
    e = add([c, d])
    e = Dense(4, name="np")(e)
    output class = Dense(2, name="build_model")(e)
    compile { optimizer = sgd; loss = {class: mse} }
}
"""
# The two names that would inject code if pasted. The checker refuses them (TensorFlow could not
# run such a layer anyway, ^[A-Za-z0-9_.\\/>-]*$); the rest (keywords, module names) must build and run.
INJECTING = ("x'); import os; os.system('touch pwned') #", r"1st \"\"\"; __import__('os').system('touch pwned') #")


def test_injecting_layer_names_are_refused_by_the_checker():
    with pytest.raises(spec2net.SpecError) as err:
        spec2net.loads(HOSTILE, file="evil.net")
    codes = [(d.span.line, d.code) for d in err.value.diagnostics]
    assert codes == [(5, "arg-range"), (8, "arg-range")]
    assert "Received: name=" in err.value.diagnostics[0].message


def test_hostile_names_are_escaped_and_nothing_runs(keras, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = HOSTILE.replace(INJECTING[0], "lambda.x").replace(INJECTING[1], "1st-layer")
    net = spec2net.loads(text, file="evil\"\"\"\n.net")
    source = net.build("keras")
    names = [layer.name for layer in net.ir.layers]
    constants = {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant)}
    assert set(names) | {"import", "lambda", "class"} <= constants  # spec names are string literals only
    mod = load_module(source, tmp_path / "evil_keras.py")
    model = mod.compile_model(mod.build_model())
    assert layer_names(keras, model) == sorted(names)
    assert [t.name for t in model.inputs] == ["import", "lambda"]
    assert mod.keras.__name__ == "keras" and mod.np.__name__ == "numpy"  # no layer shadowed a module
    out = model.predict([np.ones((2, 3)), np.ones((2, 3))], verbose=0)
    assert list(out) == ["class"] and out["class"].shape == (2, 2)
    assert not (tmp_path / "pwned").exists()


def test_safe_identifiers():
    from spec2net.codegen import py_literal, safe_identifier

    taken = {"keras"}
    got = [safe_identifier(n, taken) for n in ("class", "lambda", "keras", "1st layer", "x'); import os #",
                                                "input", "dense", "dense", "é")]
    assert got == ["class_", "lambda_", "keras_2", "_1st_layer", "x_import_os", "input_", "dense",
                   "dense_2", "_"]
    assert all(s.isidentifier() and s.isascii() for s in got)
    for value in ("a'b\"c\\\n", 1e-07, float("inf"), (4,), [1, None, True], {"k": -1.5}):
        assert eval(py_literal(value), {"float": float}) == value


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
