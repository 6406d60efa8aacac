"""Hostile names and strings: nothing a spec says can run as code in a generated module.

Every position that reaches generated code (model, input, output and layer names, `name=`
strings, `-D` values, the spec's file name) gets names that collide with Python keywords,
builtins and the generated module's own names, and strings that would run code if pasted.
Code that ran would set ``builtins.SPEC2NET_PWNED`` or create a file; the tests look for both,
and check that the module still computes what the NumPy interpreter does.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import spec2net
from spec2net.cli import main
from spec2net.codegen import spec_file_name

PAYLOAD = "__import__('builtins').SPEC2NET_PWNED = 1; open('pwned', 'w')"
ESCAPES = [  # strings that close a literal, a docstring, a comment or a template, then run PAYLOAD
    f"x'); {PAYLOAD} #",
    f'x"); {PAYLOAD} #',
    f'"""\\n{PAYLOAD}\\n"""',
    f"\\\\'; {PAYLOAD} #",
    f"{{{{ {PAYLOAD} }}}}{{% if 1 %}}x{{% endif %}}",
    f"x\\n{PAYLOAD}",
    f"x\\u2028{PAYLOAD}",
]
# Identifiers the spec grammar accepts that are keywords, builtins or names inside the modules;
# `__debug__` cannot be assigned at all and `__class__` is a method's class cell.
NAMES = {
    "model": ["class", "self", "Module", "nn", "None", "__init__"],
    "input": ["__debug__", "lambda", "self", "torch", "np", "x", "__import__", "inputs", "F"],
    "layer": ["keras", "build_model", "forward", "F", "super", "exec", "1st", "a.b-c", "layers", "load_weights"],
    "output": ["__class__", "import", "print", "outputs", "self", "True", "FIT"],
}


@pytest.fixture(autouse=True)
def _sentinel(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield
    assert not hasattr(builtins, "SPEC2NET_PWNED") and not (tmp_path / "pwned").exists(), "spec code ran"


def spec_with(i: int) -> str:
    """A two-input, two-output model whose every name is a hostile one (rotating through NAMES by i)."""
    pick = lambda kind, k: NAMES[kind][(i + k) % len(NAMES[kind])]
    a, b = pick("input", 0), pick("input", 1)
    l1, l2, l3 = pick("layer", 0), pick("layer", 1), pick("layer", 2)
    y, z = pick("output", 0), pick("output", 1)
    return (f"model {pick('model', 0)} {{\n  input {a}: [3]\n  input {b}: [3]\n"
            f"  h = Dense(4, activation=tanh, name=\"{l1}\")({a})\n"
            f"  g = Dense(4, name=\"{l2}\")({b})\n"
            f"  output {y} = Dense(2, name=\"{l3}\")(add([h, g]))\n"
            f"  output {z} = concatenate([h, g])\n"
            f"  compile {{ optimizer = sgd; loss = mse }}\n}}\n")


def import_file(source: str, path):
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"hostile_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def only_spec_strings_are_constants(source: str, net, layer_names: set) -> None:
    """Spec names appear in the module as string constants (Python names are derived from them)."""
    tree = ast.parse(source)
    constants = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert layer_names | set(net.input_names) | set(net.output_names) <= constants
    imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imports |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    allowed = {"keras", "numpy", "torch", "torch.nn.functional", "safetensors.numpy", "safetensors"}
    assert imports <= allowed | {"spec2net.runtime"}  # the torch module imports its runtime (issue 12)


@pytest.mark.parametrize("i", range(3))
def test_keras_module_with_hostile_names_builds_and_computes(keras, tmp_path, i):
    net = spec2net.loads(spec_with(i), file=f"hostile{i}.net")
    source = net.build("keras")
    only_spec_strings_are_constants(source, net, {layer.name for layer in net.ir.layers})
    mod = import_file(source, tmp_path / f"k{i}.py")
    model = mod.build_model()
    assert [t.name for t in model.inputs] == net.input_names
    assert mod.keras.__name__ == "keras" and mod.np.__name__ == "numpy"
    w = net.init_weights(seed=i)
    spec2net.save_weights(tmp_path / "w.npz", w)
    mod.load_weights(model, tmp_path / "w.npz")
    x = {name: np.random.default_rng(k).random((5, 3), dtype=np.float32) for k, name in enumerate(net.input_names)}
    got = model.predict([x[n] for n in net.input_names], verbose=0)  # several outputs: a list in the spec's order
    want = net.run(x, w)
    assert model.output_names == net.output_names and len(got) == len(net.output_names)
    for name, value in zip(net.output_names, got):
        np.testing.assert_allclose(value, want[name], atol=1e-6)


@pytest.mark.parametrize("i", range(3))
def test_torch_module_with_hostile_names_builds_and_computes(torch, tmp_path, i):
    net = spec2net.loads(spec_with(i), file=f"hostile{i}.net")
    source = net.build("torch")
    only_spec_strings_are_constants(source, net, {key for key, _ in net.ir.weight_keys()})  # torch: by weight key
    mod = import_file(source, tmp_path / f"t{i}.py")
    assert mod.INPUT_NAMES == tuple(net.input_names) and mod.OUTPUT_NAMES == tuple(net.output_names)
    assert mod.torch.__name__ == "torch" and mod.rt.__name__ == "spec2net.runtime.torch"
    model = mod.build_model()
    w = net.init_weights(seed=i)
    spec2net.save_weights(tmp_path / "w.npz", w)
    mod.load_weights(model, tmp_path / "w.npz")
    model.eval()
    x = {name: np.random.default_rng(k).random((5, 3), dtype=np.float32) for k, name in enumerate(net.input_names)}
    got = model(*[torch.from_numpy(x[n]) for n in net.input_names])
    want = net.run(x, w)
    for name, value in zip(net.output_names, got):
        np.testing.assert_allclose(value.detach().numpy(), want[name], atol=1e-6)
    losses = mod.compute_loss(model, got, [torch.zeros_like(v) for v in got])
    assert float(losses.detach()) > 0


@pytest.mark.parametrize("text", ESCAPES)
def test_code_in_a_layer_name_is_refused(text, capsys):
    spec = f'model m {{ input x: [3]\n output y = Dense(2, name="{text}")(x) }}'
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.loads(spec, file="evil.net")
    (d,) = info.value.diagnostics
    assert (d.code, d.span.line) in {("arg-range", 2), ("syntax", 2)}
    with open("evil.net", "w", encoding="utf-8") as f:
        f.write(spec)
    for backend in ("keras", "torch"):
        assert main(["build", "evil.net", "--backend", backend, "-o", f"evil_{backend}.py"]) == 1
    assert not list(Path().glob("evil_*.py"))  # nothing written, not even in part


@pytest.mark.parametrize("text", ESCAPES)
def test_code_in_a_define_is_a_string_and_refused_where_used(text, capsys):
    with open("m.net", "w", encoding="utf-8") as f:
        f.write('let act = "relu"\nlet nm = "d"\nmodel m { input x: [3]\n output y = Dense(2, activation=act, '
                'name=nm)(x) }\n')
    value = repr(text.encode().decode("unicode_escape"))
    for define in (f"act={value}", f"nm={value}"):
        assert main(["build", "m.net", "--backend", "torch", "-D", define, "-o", "m.py"]) == 1
        assert "m.net:4:" in capsys.readouterr().err
    assert main(["build", "m.net", "--backend", "torch", "-o", "m.py"]) == 0  # the spec itself is fine


@pytest.mark.parametrize("backend", ["keras", "torch"])
@pytest.mark.parametrize("text", ESCAPES + ["{{ 7 * 7 }}"])
def test_the_spec_file_name_is_escaped_in_the_header(backend, text):
    name = text.encode().decode("unicode_escape").replace("/", "_") + ".net"
    net = spec2net.loads("model m { input x: [3]; output y = Dense(2)(x) }", file=name)
    source = net.build(backend)
    tree = ast.parse(source)  # still one valid module
    doc = ast.get_docstring(tree)
    assert f"from {spec_file_name(name)}; regenerate" in doc  # escaped, never evaluated as a template
    # Running the module's definitions runs every docstring and class body the name reached.
    exec(compile(tree, name, "exec"), {"__name__": "hostile_header"})


# -- the Keras module: keywords and module names as layer and input names ----------------------
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
    mod = import_file(source, tmp_path / "evil_keras.py")
    model = mod.compile_model(mod.build_model())
    assert sorted(layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)) == sorted(names)
    assert [t.name for t in model.inputs] == ["import", "lambda"]
    assert mod.keras.__name__ == "keras" and mod.np.__name__ == "numpy"  # no layer shadowed a module
    out = model.predict([np.ones((2, 3)), np.ones((2, 3))], verbose=0)
    assert list(out) == ["class"] and out["class"].shape == (2, 2)
    assert not (tmp_path / "pwned").exists()
