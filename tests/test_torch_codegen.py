"""How the torch module is generated: names (the spec's own, safe whatever they are), the
tensor and line maps, the emitter table, the runtime it imports or pastes (--standalone), and
the layer cases fixed on the way (Dropout noise_shape, Flatten of a scalar), against Keras
and the NumPy interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT
from numpy_keras_helpers import max_diff
from spec2net.backends import numpy as nb
from spec2net.backends.torch import build_source
from spec2net.backends.torch.emitter import EMITTERS
from spec2net.backends.torch.functions import ACTIVATIONS
from spec2net.backends.torch.source import MODULE_NAMES
from spec2net.backends.torch.standalone import FILES, RUNTIME_NAMES, runtime_files, runtime_source
from test_torch_backend import load_module

import spec2net
from spec2net.equiv import perturbed_weights
from spec2net.registry import REGISTRIES, canonical_layers
from spec2net.tables import MissingEntry

TOL = 1e-5
WIDTH = 99


def test_multi_output_module_is_small_and_narrow():
    """The generated module holds only what is specific to the spec (the runtime holds the rest)."""
    for path in EXAMPLES:
        lines = spec2net.load(path).build("torch").splitlines()
        assert max(len(line) for line in lines) <= WIDTH, path.name
    lines = spec2net.load(ROOT / "examples" / "multi_output.net").build("torch").splitlines()
    assert len(lines) < 150


def test_spec_names_and_line_map():
    """`seq, h, c = LSTM(...)` stays seq, h, c; each forward line maps back to its IR node."""
    net = spec2net.load(ROOT / "examples" / "multi_output.net")
    gen = build_source(net.ir)
    names = {gen.name_of(t) for node in net.ir.nodes for t in node.outputs}
    assert {"e", "seq", "h", "c", "pooled", "both", "topic", "score"} <= names
    lines = gen.source.splitlines()
    lstm = next(node for node in net.ir.nodes if len(node.outputs) == 3)
    bound = [n for n, node in gen.line_nodes.items() if node is lstm]
    assert any(lines[n - 1].strip().startswith("seq, (h, c) = rt.rnn_loop(") for n in bound)
    for n in gen.line_nodes:  # no comment or blank line is attributed to a node
        assert lines[n - 1].strip() and not lines[n - 1].strip().startswith("#"), lines[n - 1]


def test_every_layer_has_an_emitter_and_a_missing_one_is_named(monkeypatch):
    assert EMITTERS.missing(canonical_layers()) == []
    activations = REGISTRIES["activation"]
    assert ACTIVATIONS.missing(n for n in activations if activations[n].name == n) == []
    net = spec2net.load(ROOT / "examples" / "mlp.net")
    monkeypatch.setattr(EMITTERS, "_entries", {k: v for k, v in EMITTERS.items() if k != "Dense"})
    with pytest.raises(MissingEntry, match=r"no torch emitter for 'Dense'; there is one for: .*LSTM"):
        build_source(net.ir)


HOSTILE = '''model m {
    input __debug__: float32[3]
    input layers: float32[3]
    a = Dense(2, name="register_forward_hook")(__debug__)
    b = Dense(2, name="to_empty")(layers)
    c = Dense(2, name="forward")(a)
    d = Dense(2, name="training")(b)
    e = Dense(2, name="state_dict")(c)
    output rt = add([e, d, Dense(2, name="self")(a)])
}'''


def test_hostile_layer_and_tensor_names(torch):
    """Layers named after nn.Module's attributes, dunder names, names of the module's own globals:
    the module builds, runs and agrees with the NumPy interpreter."""
    net = spec2net.loads(HOSTILE)
    src = net.build("torch")
    idents = {n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name)}
    idents |= {a.arg for n in ast.walk(ast.parse(src)) if isinstance(n, ast.arguments) for a in n.args}
    assert not any(i.startswith("__") for i in idents), sorted(i for i in idents if i.startswith("__"))
    mod = load_module(src)
    weights = perturbed_weights(net.ir)
    model = mod["build_model"](0)
    mod["set_weights"](model, weights)
    assert isinstance(model.layers["forward"], torch.nn.Linear) and model.training in (True, False)
    x = {"__debug__": np.ones((2, 3), np.float32), "layers": np.full((2, 3), 0.5, np.float32)}
    with torch.no_grad():
        got = model(*[torch.as_tensor(x[n]) for n in mod["INPUT_NAMES"]]).numpy()
    assert max_diff(got, nb.run(net.ir, x, weights)["rt"]) <= TOL


def _dropout_module(noise_shape):
    spec = f"model d {{ input x: float32[4, 10]; output y = Dropout(0.5, noise_shape={noise_shape})(x) }}"
    return load_module(spec2net.loads(spec).build("torch"))


@pytest.mark.parametrize("noise_shape, shared", [("(20, 1, 10)", (1,)), ("(1, 1, 10)", (0, 1)),
                                                 ("(1, 4, 1)", (0, 2))])
def test_dropout_noise_shape_counts_the_batch_axis(keras, torch, noise_shape, shared):
    """Keras's noise_shape includes the batch axis: one draw shared along the axes where it is 1.
    Keras's own Dropout shows the same sharing on the same input."""
    x = np.ones((20, 4, 10), np.float32)
    model = _dropout_module(noise_shape)["build_model"](0).train()
    kept = {"torch": model(torch.as_tensor(x)).detach().numpy()}
    layer = keras.layers.Dropout(0.5, noise_shape=eval(noise_shape), seed=1)
    kept["Keras"] = np.asarray(layer(x, training=True))
    for name, y in kept.items():
        assert set(np.unique(y)) <= {0.0, 2.0}, name  # inverted dropout of ones
        assert np.array_equal(y, np.broadcast_to(y.max(axis=shared, keepdims=True), y.shape)), name
        assert 0 < (y == 0).mean() < 1, name
    model.eval()
    assert np.array_equal(model(torch.as_tensor(x)).detach().numpy(), x)


def test_flatten_of_a_scalar(keras, torch):
    """Flatten of a per-sample scalar makes (batch, 1), as Keras's does."""
    from keras_twins import set_weights

    net = spec2net.loads("model f { input x: float32[]; output y = Dense(3)(Flatten()(x)) }")
    weights = perturbed_weights(net.ir)
    x = np.array([0.5, -1.0, 2.0], np.float32)
    mod = load_module(net.build("torch"))
    model = mod["build_model"](0)
    mod["set_weights"](model, weights)
    got = model(torch.as_tensor(x)).detach().numpy()
    kmodel = load_module(net.build("keras"))["build_model"]()
    set_weights(kmodel, weights)
    assert got.shape == (3, 3)
    want = kmodel(x)
    assert max_diff(got, np.asarray(want["y"] if isinstance(want, dict) else want)) <= TOL
    assert max_diff(got, nb.run(net.ir, {"x": x}, weights)["y"]) <= TOL


# -- the runtime: imported, or pasted by --standalone ------------------------------------------
def test_standalone_pastes_the_package_files_verbatim():
    """One copy of the runtime: the pasted text is the package's files, less the imports between
    them and `from __future__` (stated once at the module's top)."""
    source = build_source(spec2net.load(ROOT / "examples" / "mlp.net").ir, standalone=True).source
    assert runtime_source() in source
    for name, text in runtime_files().items():
        dropped = ("from .", "from __future__ import")
        kept = [line for line in text.splitlines() if not line.startswith(dropped)]
        assert "\n".join(kept).strip("\n") in source, name
        # what is dropped is only single-line imports between the runtime's own files
        assert all("(" not in line for line in text.splitlines() if line.startswith("from ."))
    facade = (ROOT / "spec2net/runtime/torch.py").read_text().splitlines()
    listed = {line.split()[1][1:] + ".py" for line in facade if line.startswith("from .")}
    assert listed == set(FILES)  # the package's namespace and the pasted files are the same files


def test_runtime_names_do_not_collide():
    """Pasted into one module, no runtime file's top-level name may shadow another's, nor a
    name the generated part defines."""
    seen: dict = {}
    for name, text in runtime_files().items():
        for node in ast.parse(text).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) or (
                    isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
                top = node.name if hasattr(node, "name") else node.targets[0].id
                assert top not in seen, f"{top} in {name} and {seen.get(top)}"
                seen[top] = name
    generated = {"get_weights", "set_weights", "load_weights", "save_weights", "initial_weights",
                 "build_model", "make_optimizer", "regularization_loss", "compute_loss", "train_step", "fit",
                 "evaluate", "WEIGHTS", "TRAINING", "INPUT_NAMES", "OUTPUT_NAMES"}
    assert generated <= MODULE_NAMES and not generated & RUNTIME_NAMES


SCRIPT = """
import sys
sys.modules["spec2net"] = None  # spec2net cannot be imported: the module must not need it
sys.path.insert(0, sys.argv[1])
import numpy as np
import standalone_model as m
model = m.build_model(0)
x = np.random.default_rng(0).integers(1, 500, (16, 20)).astype("int32")
y = {"topic": np.eye(5, dtype="float32")[np.arange(16) % 5], "score": np.ones(16, "float32")}
h = m.fit(model, x, y, epochs=2, validation_split=0.25)
e = m.evaluate(model, x, y)
print(sorted(h), round(h["loss"][-1], 6), sorted(e))
try:
    m.fit(model, x, {"topic": np.zeros((16, 1), "float32"), "score": y["score"]})
except m.DataError as err:
    print("DataError:", err)
"""


def test_standalone_module_runs_without_spec2net(torch, tmp_path):
    source = build_source(spec2net.load(ROOT / "examples" / "multi_output.net").ir, standalone=True).source
    assert not any(i.startswith("spec2net") for i in _imports(source))
    (tmp_path / "standalone_model.py").write_text(source, encoding="utf-8")
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True,
                       check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    keys = ["loss", "score_accuracy", "score_loss", "topic_accuracy", "topic_loss"]
    assert str(sorted(keys + ["val_" + k for k in keys])) in r.stdout
    assert "DataError: data: target 'topic'" in r.stdout


def _imports(src: str) -> set:
    out = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_cli_standalone(tmp_path):
    out = tmp_path / "m.py"
    build = [sys.executable, "-m", "spec2net", "build", str(ROOT / "examples" / "mlp.net"), "--backend"]
    r = subprocess.run([*build, "torch", "--standalone", "-o", str(out)], capture_output=True, text=True,
                       check=False)
    assert r.returncode == 0, r.stderr
    assert runtime_source() in out.read_text(encoding="utf-8")
    r = subprocess.run([*build, "keras", "--standalone"], capture_output=True, text=True, check=False)
    assert r.returncode == 2 and "--standalone is for --backend torch" in r.stderr


def test_runtime_imports_only_torch_numpy_and_the_standard_library():
    """The runtime's files import torch, NumPy, the standard library and each other; nothing of
    spec2net's compiler (lark, jinja2) loads with them."""
    allowed = sys.stdlib_module_names | {"torch", "numpy", "safetensors"}
    for name, text in runtime_files().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] in allowed for a in node.names), (name, ast.unparse(node))
            elif isinstance(node, ast.ImportFrom) and node.level == 0:  # relative: between the runtime's files
                assert node.module.split(".")[0] in allowed, (name, ast.unparse(node))
    probe = "import sys; from spec2net.runtime import torch; print(sorted({'lark', 'jinja2'} & set(sys.modules)))"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr
