"""Diagnostics: expected errors sit inline in tests/diagnostics/*.net, as mypy's test data does.

Annotation syntax, at the end of the offending line (several may follow each other):

    x = Dense(8, activaton=relu)(a)   # E: unknown-arg: did you mean 'activation'?
    input b: float32[4]               # W: unused-input

``# E:`` is an error, ``# W:`` a warning; then the diagnostic's code; then, optionally
after ``: ``, a fragment that its message must contain. The test checks the file's
diagnostics are exactly the annotated ones (line, severity, code), so every error of a
file is reported, none is missed and none is extra. Syntax errors stop a parse,
so they are tested one per snippet below, with the whole message.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import spec2net
from spec2net.loader import check_text
from spec2net.messages import CODES, all_messages

HERE = Path(__file__).parent / "diagnostics"
FILES = sorted(HERE.glob("*.net"))
ANNOTATION = re.compile(r"#\s*([EW]):\s*([a-z-]+)(?::\s*(.*?))?\s*(?=#\s*[EW]:|$)")


def expected_of(text: str) -> list[tuple[int, str, str, str]]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        cut = re.search(r"#\s*[EW]:", line)
        if cut:
            for sev, code, fragment in ANNOTATION.findall(line[cut.start():]):
                out.append((n, "error" if sev == "E" else "warning", code, fragment))
    return out


def test_annotation_parser_reads_several_per_line():
    line = "x = 1   # E: shape: got (None, 8)   # W: unused-input"
    assert expected_of(line) == [(1, "error", "shape", "got (None, 8)"), (1, "warning", "unused-input", "")]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_file_reports_exactly_its_annotated_diagnostics(path):
    text = path.read_text(encoding="utf-8")
    _, diags = check_text(text, path.name)
    expected = expected_of(text)
    got = sorted((d.span.line, d.severity, d.code) for d in diags)
    assert got == sorted((n, sev, code) for n, sev, code, _ in expected)
    for n, sev, code, fragment in expected:
        if fragment:
            messages = [d.message for d in diags if (d.span.line, d.severity, d.code) == (n, sev, code)]
            assert any(fragment in m for m in messages), f"line {n}: {fragment!r} not in {messages}"


def test_every_error_code_is_exercised_somewhere():
    """Each message of the registry is covered by a file here, a snippet below, or the CLI tests."""
    seen = {code for p in FILES for _, _, code, _ in expected_of(p.read_text(encoding="utf-8"))}
    seen |= {"syntax", "encoding", "binary", "empty", "model", "define", "duplicate-model"}  # tested below
    seen |= {"expansion", "memory"}  # tests/test_limits.py
    seen |= {"onnx-unsupported"}  # tests/test_onnx_file.py (a model over ONNX's 2 GiB)
    assert set(CODES) - seen == set()


def test_diagnostic_format_is_file_line_col_with_a_caret():
    path = HERE / "layers_args.net"
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.load(path)
    lines = str(info.value).splitlines()
    i = next(k for k, line in enumerate(lines) if "activaton" in line and "error:" in line)
    assert lines[i] == (f"{path}:4:19: error: Dense has no argument 'activaton'; did you mean 'activation'? "
                        "[unknown-arg]")
    assert lines[i + 1] == "        x1 = Dense(8, activaton=relu)(a)   # E: unknown-arg: Dense has no argument " \
                           "'activaton'; did you mean 'activation'?"
    assert lines[i + 2] == "    " + " " * 18 + "^" * len("activaton")
    assert len(info.value.diagnostics) == len(expected_of(path.read_text()))


def test_clean_file_has_no_diagnostics():
    net = spec2net.load(HERE / "clean.net")
    assert net.warnings == [] and [layer.name for layer in net.ir.layers] == ["dense", "dense_1"]


# -- syntax errors: plain words, a position, never a Lark exception ------------------------------
SYNTAX = [
    ("model m {\n    input a: float32[4]\n    y = Dense(4(a)\n    output y\n}\n",
     4, "expected ')' to close the call or tuple opened at 3:14, found the keyword 'output'"),
    ("model m {\n    input a: float32[4\n    output a\n}\n", 3, "expected ']' to close the list or shape opened at 2:21"),
    ("model m {\n    input a: float32[4]\n    output a\n", 3,
     "expected '}' to close the block opened at 1:9, found the end of the file"),
    ("model m {\n    input a: float32[4]\n    x = Dense(1)(input)\n    output x\n}\n", 3, "found the keyword 'input'"),
    ("model m {\n    input a: float32[4]\n    x = = Dense(1)(a)\n}\n", 3, "unexpected '='; expected a name, a number, a string, '(',"),
    ('let s = "abc\nmodel m { input a: [1]; output a }\n', 1, "string is not closed before the end of the line"),
    ("model m {\n    input a: float32[4] $\n}\n", 2, "unexpected character '$'"),
    ("model m {\n    input a: float32[4]\n    x = Dense(1)(a) Dense(2)\n}\n", 3, "expected a new line or ';' before 'Dense'"),
]


@pytest.mark.parametrize("text,line,fragment", SYNTAX)
def test_syntax_error_in_plain_words(text, line, fragment):
    _, diags = check_text(text, "s.net")
    assert [(d.code, d.span.line) for d in diags] == [("syntax", line)]
    assert fragment in diags[0].message
    assert "Unexpected" not in diags[0].message and "Token(" not in diags[0].message


def test_independent_syntax_errors_on_several_lines_are_all_reported():
    text = ("model m {\n    input a: float32[8]\n    x = Dense(8 activation=relu)(a)\n    y = = Dense(2)(x)\n"
            "    z = Dense(4, )(x)\n    w = concatenate([x, y] axis=-1)\n"
            "    compile { optimizer = adam; loss = {y: mse, z mse} }\n    output w\n}\n")
    _, diags = check_text(text, "s.net")
    assert [(d.code, d.span.line) for d in diags] == [("syntax", 3), ("syntax", 4), ("syntax", 6), ("syntax", 7)]
    assert "found 'axis'" in diags[2].message and "expected ':'" in diags[3].message


def test_syntax_recovery_stops_where_it_would_guess():
    # an unclosed '(' runs over lines: what follows cannot be read reliably, so one error only
    _, diags = check_text("model m {\n  x = Dense(3(a)\n  y = Dense(\n}\n", "s.net")
    assert [(d.code, d.span.line) for d in diags] == [("syntax", 3)]


@pytest.mark.parametrize("text,code", [("", "empty"), ("# only a comment\n\n", "empty"),
                                       ("let a = 1\n", "empty"),
                                       ("model m { input a: [1]; output a }\nmodel m { input b: [1]; output b }\n",
                                        "duplicate-model")])
def test_file_level_errors(text, code):
    _, diags = check_text(text, "f.net")
    assert [d.code for d in diags] == [code]


def test_every_error_of_a_file_is_reported_across_models():
    text = ("model a {\n    input x: float32[4]\n    output y = Dense(0)(x)\n}\n"
            "model b {\n    input x: float32[4]\n    output y = Dropout(2)(x)\n}\n")
    _, diags = check_text(text, "two.net")
    assert [(d.span.line, d.code) for d in diags] == [(3, "arg-range"), (7, "arg-range")]


def test_a_define_naming_no_let_is_an_error():
    _, diags = check_text("let width = 4\nmodel m { input a: [width]; output a }\n", "d.net", {"widht": 3})
    assert [d.code for d in diags] == ["define"]
    assert "did you mean 'width'?" in diags[0].message


def test_an_unknown_model_is_an_error_with_a_hint(tmp_path):
    path = tmp_path / "m.net"
    path.write_text("model alpha { input a: [1]; output a }\nmodel beta { input a: [1]; output a }\n")
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.load(path, model="alpah")
    (d,) = info.value.diagnostics
    assert d.code == "model" and "did you mean 'alpha'?" in d.message and "alpha, beta" in d.message


@pytest.mark.parametrize("data,code", [(b"model m {\x00}", "binary"), (b"model m { input a: [1]\xff }", "encoding"),
                                       (b"\x89PNG\r\n\x1a\n\x00\x00", "binary")])
def test_binary_and_non_utf8_files(tmp_path, data, code):
    path = tmp_path / "bad.net"
    path.write_bytes(data)
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.load(path)
    assert [d.code for d in info.value.diagnostics] == [code]
    assert "Traceback" not in str(info.value)


def test_utf8_bom_and_crlf_are_accepted(tmp_path):
    path = tmp_path / "bom.net"
    path.write_bytes(b"\xef\xbb\xbfmodel m {\r\n    input a: float32[2]\r\n    output y = Dense(1)(a)\r\n}\r\n")
    assert spec2net.load(path).ir.outputs[0].tensor.type.shape == (1,)


# -- the message registry ------------------------------------------------------------------------------
def test_no_message_is_a_bare_field():
    """Every text is written in spec2net/messages.py; no call site supplies a whole message."""
    bare = [name for name, m in all_messages().items() if re.fullmatch(r"\{\w+\}", m.template.strip())]
    assert bare == []


def test_every_message_is_used_by_the_package():
    package = Path(spec2net.__file__).parent
    # the backends install as spec2net.backends but live in backends/ at the top of the tree
    files = [*package.rglob("*.py"), *(package.parent / "backends").rglob("*.py")]
    source = "\n".join(p.read_text(encoding="utf-8") for p in files if p.name != "messages.py")
    unused = [name for name in all_messages() if not re.search(rf"\b{name}\b", source)]
    assert unused == []


@pytest.mark.parametrize("name, refused", [("_m", True), ("m", False), ("m_1", False), ("M2", False)])
def test_model_names_follow_keras_root_scope_rule(keras, name, refused):
    """check refuses exactly the model names with which Keras cannot run the model."""
    import numpy as np

    x = keras.Input((4,))
    model = keras.Model(x, keras.layers.Dense(1)(x), name=name)
    try:
        model.predict(np.zeros((1, 4), "float32"), verbose=0)
        keras_refuses = False
    except ValueError as e:
        keras_refuses = "root scope name" in str(e)
    finally:
        # Keras raises inside its name scope and leaves it on the global stack: every variable made
        # later in this process would be named under it (a legacy .h5 save then loses its weights)
        keras.backend.clear_session()
    _, diags = check_text(f"model {name} {{ input x: [4]; output y = Dense(1)(x) }}", "m.net")
    assert keras_refuses == refused == any(d.code == "model-name" for d in diags)
