"""spec2net fmt: one canonical layout that never changes what a spec means.

The meaning test checks every example, every diagnostics file and spec block of the docs that
parses, seeded random models (fuzz/modelgen.py), grammar-made specs (fuzz/grammar_specs.py) and
token-level mutants of the examples (fuzz/mutate.py): the checked IR (layers, arguments, shapes,
nodes, compile, fit; spans aside) or, for a spec with errors, its diagnostics are the same before
and after, formatting twice changes nothing more, and every comment is kept, in order.
"""

from __future__ import annotations

import dataclasses
import io
import os
import random
import re
import sys
import zlib

import pytest
from conftest import EXAMPLES, ROOT
from grammar_specs import specs
from hypothesis import HealthCheck, given, settings
from modelgen import random_spec
from mutate import mutants

from spec2net import ir
from spec2net.cli import main
from spec2net.diagnostics import Span, SpecError
from spec2net.fmt import format_text
from spec2net.fmt.tokens import lex, track_brackets
from spec2net.loader import check_text
from spec2net.parser import parse

COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|(#[^\n]*)')  # a '#' inside a string starts no comment


def canon(x):
    """The IR as plain tuples, spans left out: what every backend reads."""
    if isinstance(x, ir.Layer):
        return ("Layer", x.type, x.name, canon(x.args), x.trainable, canon(x.params))
    if isinstance(x, ir.Tensor):
        return ("Tensor", x.ref, canon(x.type), x.masked, x.name)
    if isinstance(x, ir.Node):
        return ("Node", x.layer.name, canon(x.inputs), canon(x.outputs), x.call_index, x.initial_states)
    if isinstance(x, ir.Model):
        return ("Model", x.name, x.kind, *(canon(getattr(x, k)) for k in
                                           ("inputs", "outputs", "layers", "nodes", "compile", "fit")))
    if isinstance(x, dict):
        return tuple((k, canon(v)) for k, v in x.items())
    if isinstance(x, (list, tuple)) and not isinstance(x, Span):
        return (type(x).__name__, tuple(canon(v) for v in x))
    if dataclasses.is_dataclass(x):  # Ref, Param, TensorType, Output, Compile
        return (type(x).__name__, tuple(canon(getattr(x, f.name)) for f in dataclasses.fields(x)
                                        if f.name != "span"))
    return (type(x).__name__, repr(x))


def meaning(text: str):
    models, diags = check_text(text, "spec.net")
    # a message may name another place ("declared twice (the other at 34:5)"): lines move
    return canon(list(models.values())), [(d.code, re.sub(r"\d+:\d+", "L:C", d.message), d.severity)
                                          for d in diags]


def comments(text: str) -> list[str]:
    return [m.group(1).rstrip() for m in COMMENT.finditer(text) if m.group(1)]


def assert_same_meaning(text: str) -> str:
    out = format_text(text, "spec.net")
    assert meaning(out) == meaning(text)
    assert format_text(out, "spec.net") == out  # idempotent
    assert comments(out) == comments(text)
    return out


def parses(text: str) -> bool:
    tree, problems = parse(text)
    return tree is not None and not problems


def doc_blocks() -> list[str]:
    """The fenced blocks of the docs that are specs (they parse and declare something)."""
    out = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for block in re.findall(r"^```[a-z]*\n(.*?)^```", page.read_text(encoding="utf-8"), re.DOTALL | re.MULTILINE):
            if re.search(r"^\s*(model|sequential|def|let) ", block, re.MULTILINE) and parses(block):
                out.append(block)
    return out


# -- meaning, idempotence, comments --------------------------------------------------------------
@pytest.mark.parametrize("path", EXAMPLES + sorted((ROOT / "tests" / "diagnostics").glob("*.net")),
                         ids=lambda p: p.stem)
def test_files_keep_their_meaning(path):
    text = path.read_text(encoding="utf-8")
    if parses(text):
        assert_same_meaning(text)


def test_doc_spec_blocks_keep_their_meaning():
    blocks = doc_blocks()
    assert len(blocks) > 50  # errors.md's catalogue alone has more
    for block in blocks:
        assert_same_meaning(block)


def test_random_models_keep_their_meaning():
    for seed in range(25):
        assert_same_meaning(random_spec(seed))


def test_mutants_of_the_examples_keep_their_meaning():
    checked = 0
    for path in EXAMPLES:
        rng = random.Random(zlib.crc32(path.name.encode()))
        stream = mutants(path.read_text(encoding="utf-8"), rng)
        for text in (next(stream) for _ in range(12)):
            if parses(text):
                assert_same_meaning(text)
                checked += 1
    assert checked >= 15


def with_comments(text: str, rng: random.Random) -> str:
    """``text`` with comments and line breaks put between tokens wherever a newline is free (inside
    brackets), and comments after statements and on lines of their own between them."""
    out, pos, brackets, prev, k = [], 0, [], None, 0
    for tok in lex(text):
        out.append(text[pos:tok.start_pos])
        if tok.type == "_NL" and not brackets and rng.random() < 0.3:
            k += 1
            out.append(rng.choice([f"  # s{k}", f"\n\n  # s{k}", f";  # s{k}", f"\n# s{k}\n"]))
        if brackets and brackets[-1] and rng.random() < 0.4:
            k += 1
            out.append(rng.choice([f"  # c{k}\n", "\n", f"\n\n# c{k}\n", f"# c{k}\n", "\n  "]))
        out.append(text[tok.start_pos:tok.end_pos])
        pos = tok.end_pos
        if tok.type not in ("COMMENT", "_NL", "SEMI"):
            track_brackets(brackets, tok, prev)
            prev = tok
    return "".join(out + [text[pos:]])


def test_comments_anywhere_keep_their_order():
    rng, checked = random.Random(4), 0
    for path in EXAMPLES + sorted((ROOT / "tests" / "diagnostics").glob("*.net")):
        text = path.read_text(encoding="utf-8")
        if parses(text):
            assert_same_meaning(with_comments(text, rng))
            checked += 1
    assert checked > 25
    # found so: a comment after a comma, after one before the comma; a comment after a lone `;`
    assert format_text("let x = f(a\n# one\n,  # two\nb)\nlet y = 2\n;  # three\n") == (
        "let x = f(\n    a,\n    # one\n    # two\n    b,\n)\nlet y = 2\n# three\n")


@settings(derandomize=True, deadline=None, max_examples=20, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(specs())
def test_grammar_made_specs_keep_their_meaning(text):
    if parses(text):
        assert_same_meaning(text)


# -- the layout ------------------------------------------------------------------------------------
def test_the_style_example_of_the_docs_is_what_fmt_writes():
    page = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    written, formatted = re.findall(r"^```\n(.*?)^```", page[page.index("\n## Style\n"):], re.DOTALL | re.MULTILINE)[:2]
    assert format_text(written) == formatted


def test_canonical_layout_of_a_messy_file():
    messy = (
        "# header\n\n\nlet x = - 5   # apart: -(5), not the literal -5\nlet y = (1,)\nlet z=(1)\n"
        "def f(a,\n   # about b\n   b=2, # two\n   c = [1,2,  # after two\n   3],\n   ) {  # open\n"
        "  return a -> Dense(b) -> Dropout(0.5) # the end\n  # last words\n}\n"
        "model m {\n\n  input a: float32[?, 4];  h = Dense(8, # units\n     activation  = relu)(a)\n"
        "  output y = f(h, b=x * -2 ** 2, c = {\"a\": 1, b: [1, 2,]})\n  fit {epochs=1;batch_size = 2}\n}\n"
        "# tail\n")
    assert format_text(messy) == (
        "# header\n\nlet x = - 5  # apart: -(5), not the literal -5\nlet y = (1,)\nlet z = (1)\n\n"
        "def f(\n    a,\n    # about b\n    b=2,  # two\n    c=[\n        1,\n        2,  # after two\n"
        "        3,\n    ],\n) {  # open\n    return a -> Dense(b) -> Dropout(0.5)  # the end\n"
        "    # last words\n}\n\n"
        "model m {\n    input a: float32[?, 4]\n    h = Dense(\n        8,  # units\n"
        "        activation=relu,\n    )(a)\n"
        "    output y = f(h, b=x * -2 ** 2, c={\"a\": 1, b: [1, 2]})\n    fit { epochs = 1; batch_size = 2 }\n}\n"
        "\n# tail\n")


def test_long_calls_break_one_argument_per_line_with_a_trailing_comma():
    text = ("model m {\n    input tokens: int32[20]\n"
            "    seq, h, c = LSTM(24, return_sequences=true, return_state=true, kernel_initializer=orthogonal,"
            " unroll=true)"
            "(Embedding(500, 16)(tokens))\n    output y = seq\n}\n")
    out = assert_same_meaning(text)
    assert out.splitlines()[2:9] == [
        "    seq, h, c = LSTM(",
        "        24,",
        "        return_sequences=true,",
        "        return_state=true,",
        "        kernel_initializer=orthogonal,",
        "        unroll=true,",
        "    )(Embedding(500, 16)(tokens))",
    ]
    assert max(len(line) for line in out.splitlines()) <= 99


def test_last_call_breaks_when_the_first_fits_and_short_groups_rejoin():
    head = "    decoder_outputs, decoder_h, decoder_c = LSTM(latent, return_sequences=true)"
    text = (f"model m {{\n    input a: [5, 3]\n    input s: [4]\n{head}(\n        a, initial_state=[s, s],"
            " other_keyword_argument=12345678)\n    output y = decoder_outputs\n    output z = Dense(\n"
            "        1,\n    )(s)\n}\n")
    lines = format_text(text).splitlines()
    assert lines[3:8] == [head + "(", "        a,", "        initial_state=[s, s],",
                          "        other_keyword_argument=12345678,", "    )"]
    assert lines[9] == "    output z = Dense(1)(s)"  # no "magic" trailing comma: one layout


def test_blocks_one_line_blank_lines_and_aligned_comments():
    text = ("let a = 1\nlet b = 2\n\n\n\nlet c = 3\nmodel m {\n\n    input x: [4]  # in\n"
            "    h = Dense(4)(x)      # a longer line\n\n\n    output y = h\n    compile { optimizer = adam;"
            " loss = mse }\n    fit {\n        epochs = 2\n    }\n\n}\nsequential s { input [2]; Dense(1) }\n")
    assert format_text(text) == (
        "let a = 1\nlet b = 2\n\nlet c = 3\n\nmodel m {\n    input x: [4]     # in\n"
        "    h = Dense(4)(x)  # a longer line\n\n    output y = h\n    compile { optimizer = adam; loss = mse }\n"
        "    fit {\n        epochs = 2\n    }\n}\n\nsequential s { input [2]; Dense(1) }\n")


def test_one_line_blocks_keep_the_blank_lines_of_the_source():
    text = "def d0(x) { return x }\ndef d1(x) { return d0(x) }\n\n\ndef d2(x) { return d1(x) }\nmodel m {}\n"
    assert format_text(text) == text.replace("\n\n\n", "\n\n")


def test_one_line_block_too_long_for_the_line_is_opened():
    text = "model m { input x: [4]; output y = Dense(4, activation=relu, kernel_initializer=he_normal)(x) }\n"
    assert format_text(text) == text  # 96 columns
    longer = text.replace("(x)", "(x_1)").replace("[4]", "[4, 2]")
    assert format_text(longer) == ("model m {\n    input x: [4, 2]\n"
                                   "    output y = Dense(4, activation=relu, kernel_initializer=he_normal)(x_1)\n}\n")


def test_a_one_line_block_whose_header_holds_a_comment_is_opened():
    text = "def f(a,  # the input\n b) { return a }\nmodel m { input a: [4]; output a }\n"
    assert assert_same_meaning(text).startswith("def f(\n    a,  # the input\n    b,\n) {\n    return a\n}\n")


def test_crlf_bom_tabs_and_semicolons_are_normalized():
    text = "\ufefflet a = 1;;\r\n\tmodel m {\r\n\tinput x: [a]\r\n\toutput y = x  # note\r\n}\r\n"
    assert format_text(text) == "let a = 1\n\nmodel m {\n    input x: [a]\n    output y = x  # note\n}\n"


def test_a_dict_that_cannot_span_lines_stays_on_one():
    # After '->' a '{' is not an argument dict: newlines inside would end the statement.
    text = "let d = 1 -> {" + ", ".join(f"k{i}: {i}" for i in range(30)) + "}\nmodel m { input x: [4]; output x }\n"
    assert "\n" not in assert_same_meaning(text).split("\n")[0]


def test_deep_nesting_formats_without_recursion():
    expr = "Dense(" + "[" * 2000 + "2" + "]" * 2000 + ")(x)"
    out = format_text("model m { input x: [4]\n output y = " + expr + " }")
    assert format_text(out) == out and len(out) < 200_000


def test_syntax_errors_are_refused_as_check_reports_them():
    text = "model m {\n    input a: [4\n}\n"
    with pytest.raises(SpecError) as info:
        format_text(text, "bad.net")
    assert info.value.diagnostics == check_text(text, "bad.net")[1]
    with pytest.raises(SpecError):  # a literal without a value is a syntax error too
        format_text("model m { input a: [4]; output b = Dense(1e999)(a) }")


# -- the command -----------------------------------------------------------------------------------
def test_cli_check_diff_write_and_refusals(tmp_path, capsys):
    ugly, clean, bad = tmp_path / "ugly.net", tmp_path / "clean.net", tmp_path / "bad.net"
    ugly.write_text("model m{input a:[4]\noutput a}\n")
    clean.write_text("model m { input a: [4]; output a }\n")
    bad.write_text("model m {\n    input a: [4\n}\n")
    os.chmod(ugly, 0o640)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (ugly, clean, bad)}

    assert main(["fmt", "--check", str(clean)]) == 0
    assert main(["fmt", "--check", str(ugly), str(clean)]) == 1
    assert capsys.readouterr().err == f"would reformat {ugly}\n"
    assert main(["fmt", "--diff", str(ugly)]) == 0
    out = capsys.readouterr().out
    assert f"--- {ugly}\n+++ {ugly} (formatted)\n" in out and "+model m {\n" in out
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in before} == before  # nothing written

    assert main(["fmt", str(tmp_path)]) == 1  # bad.net is refused; the others are formatted
    err = capsys.readouterr().err
    assert f"{bad}:3:1: error: expected ']'" in err and f"reformatted {ugly}" in err and str(clean) not in err
    assert ugly.read_text() == "model m {\n    input a: [4]\n    output a\n}\n"
    assert ugly.stat().st_mode & 0o777 == 0o640  # a replaced file keeps its mode
    assert (bad.read_bytes(), clean.stat().st_mtime_ns) == (before[bad][0], before[clean][1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.net", "clean.net", "ugly.net"]  # no temp left

    clean.write_bytes(b"\xef\xbb\xbf" + clean.read_bytes())  # a byte-order mark: the one change
    assert main(["fmt", "--check", str(clean)]) == 1
    assert main(["fmt", str(clean)]) == 0 and clean.read_bytes() == b"model m { input a: [4]; output a }\n"
    capsys.readouterr()

    assert main(["fmt", str(tmp_path / "missing.net")]) == 2
    assert "missing.net: cannot read" in capsys.readouterr().err


def test_cli_stdin_to_stdout(monkeypatch, capsys):
    def fmt(*args, data: bytes):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        status = main(["fmt", *args])
        out, err = capsys.readouterr()
        return status, out, err

    assert fmt("-", data=b"model m{input a:[4];output a}") == (0, "model m { input a: [4]; output a }\n", "")
    assert fmt("--check", "-", data=b"model m{input a:[4];output a}") == (1, "", "would reformat <stdin>\n")
    status, out, err = fmt("-", data=b"model m {\n  input a: [4\n}")
    assert (status, out) == (1, "") and err.startswith("<stdin>:3:1: error: expected ']'")
    status, out, err = fmt("-", data=b"\xff\xfe m\x00")
    assert status == 1 and "[encoding]" in err
    assert fmt("-", "-", data=b"") == (2, "", "spec2net fmt: error: stdin (-) can be read only once\n")


def test_cli_a_failed_write_leaves_the_file_as_it_was(tmp_path, monkeypatch, capsys):
    from spec2net import fileio

    spec = tmp_path / "m.net"
    spec.write_bytes(b"model m{input a:[4]\noutput a}\n")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio, "_create_temp", full_disk)
    assert main(["fmt", str(spec)]) == 2
    assert capsys.readouterr().err == f"spec2net fmt: error: {spec}: cannot write: No space left on device\n"
    assert spec.read_bytes() == b"model m{input a:[4]\noutput a}\n" and len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_is_in_the_canonical_layout(path):
    # the project's own specs are what users copy: `./dev demo` runs `spec2net fmt --check examples/`
    text = path.read_text()
    assert format_text(text, path.name) == text, f"run: spec2net fmt {path.relative_to(ROOT)}"
