"""The front end never crashes: any text, any bytes, gives a model or located errors.

Random specs from the grammar (hypothesis's from_lark, fuzz/grammar_specs.py) and token-level
mutants of every example (fuzz/mutate.py) go through one oracle (fuzz/oracle.py): ``spec2net.loads``
returns a Net or raises SpecError whose every diagnostic has a line and column inside the file and
a one-line message; a Net's summary and Keras/torch sources work and compile. Seeds are fixed, so
CI runs the same cases; fuzz/grammar_specs.py and fuzz/mutants.py run many more.
Below them, each crash or misplaced error found while fuzzing, minimised, with what it gives now.
"""

from __future__ import annotations

import codecs
import gc
import random
import sys
import threading
import zlib

import pytest
from conftest import EXAMPLES
from grammar_specs import specs
from hypothesis import HealthCheck, given, settings
from mutate import byte_mutant, mutants, tokens
from oracle import check_bytes, check_cli, check_text

import spec2net

MUTANTS_PER_EXAMPLE = 40


@settings(derandomize=True, deadline=None, max_examples=150, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(specs())
def test_grammar_made_specs_load_or_fail_with_located_errors(text):
    before = gc.isenabled(), sys.getrecursionlimit(), threading.stack_size()
    assert check_text(text) in ("ok", "rejected")  # anything else raises oracle.Crash
    assert (gc.isenabled(), sys.getrecursionlimit(), threading.stack_size()) == before  # a library's manners


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_mutants_of_each_example_load_or_fail_with_located_errors(path):
    text = path.read_text(encoding="utf-8")
    assert "".join(tokens(text)) == text  # the mutator edits tokens, and loses nothing else
    rng = random.Random(zlib.crc32(path.name.encode()))  # a seed per example, the same on every run
    stream = mutants(text, rng)
    outcomes = [check_text(next(stream)) for _ in range(MUTANTS_PER_EXAMPLE)]
    # Most mutants do not load; draw on until one does, so that summary and both builds ran on
    # one (a fixed 40 can all fail by chance when the example's text changes)
    while "ok" not in outcomes and len(outcomes) < 5 * MUTANTS_PER_EXAMPLE:
        outcomes.append(check_text(next(stream)))
    assert 0 < outcomes.count("rejected") < len(outcomes)
    assert {check_bytes(byte_mutant(text, rng)) for _ in range(4)} <= {"ok", "rejected"}


@pytest.mark.parametrize("path", EXAMPLES[:4], ids=lambda p: p.stem)
def test_check_command_on_mutants_prints_one_located_line_per_error(path):
    rng = random.Random(zlib.crc32(path.name.encode()) + 1)
    stream = mutants(path.read_text(encoding="utf-8"), rng)
    broken = [m for m in (next(stream) for _ in range(30)) if check_text(m) == "rejected"][:3]
    assert broken
    for text in broken:
        check_cli(text.encode("utf-8"))  # exit 1, every message line FILE:LINE:COL: error: ... [code]


# -- crashes and misplaced errors found while fuzzing, each minimised -----------------------------
def errors(text, **kw):
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.loads(text, **kw)
    return [(d.code, d.span.line, d.span.col, d.message) for d in info.value.diagnostics if d.severity == "error"]


M = "model m {{ input a: [4]; output y = {} }}"


@pytest.mark.parametrize("literal,fragment", [
    (r'"\N"', r"incomplete escape '\N'"),  # was SyntaxError out of ast.literal_eval
    (r'"\x4"', r"incomplete escape '\x'"),  # was SyntaxError
    (r'"\N{no such name}"', r"unknown character name in '\N{no such name}'"),
    (r'"\q"', r"unknown escape '\q'"),  # was a DeprecationWarning, an error under -W error
    (r'"\ud800"', r"'\ud800' is not a character"),  # a lone surrogate cannot be written out as UTF-8
])
def test_a_bad_escape_is_a_located_syntax_error(literal, fragment):
    (err,) = errors(M.format(f"Dense(2, name={literal})(a)"))
    assert err[:3] == ("syntax", 1, 50) and fragment in err[3]  # at the string


@pytest.mark.parametrize("literal,fragment", [
    ("9" * 5000, "the integer 999999999999999999999999... (5000 characters) does not fit in 64 bits"),  # ValueError
    ("99999999999999999999", "the integer 99999999999999999999 does not fit in 64 bits"),
    ("1e999", "the number 1e999 is too large for a 64-bit float"),
    ("-1e999", "the number -1e999 is too large for a 64-bit float"),
])
def test_a_number_out_of_int64_or_float64_range_is_a_located_error(literal, fragment):
    # Only that error: the bad literal's value is ERR, which silences the errors it would cause.
    assert [e[:3] for e in errors(M.format(f"Dense({literal})(a)"))] == [("syntax", 1, 42)]
    assert fragment in errors(M.format(f"Dense({literal})(a)"))[0][3]
    assert [e[0] for e in errors(M.format(f"Reshape(({literal}, 2))(a)"))] == ["syntax"]


def test_tiny_floats_round_to_zero_and_minus_zero_is_zero():
    net = spec2net.loads(M.format("Dropout(1e-400, seed=-0)(a)"))
    assert net.ir.layers[0].args["rate"] == 0.0 and net.ir.layers[0].args["seed"] == 0


def test_an_integral_float_too_big_for_int64_is_refused_where_an_integer_belongs():
    (err,) = errors(M.format("Dense(1e30)(a)"))
    assert err == ("arg-range", 1, 42, "Dense: expected an integer that fits in 64 bits. Received: units=1e+30")


def test_a_tensor_or_weight_beyond_int64_elements_is_a_shape_error():
    # Flatten of 500 dims of 2**63 - 1 had ~9500 digits: str() of it raised in summary and messages.
    big = ", ".join(["9223372036854775807"] * 500)
    (err,) = errors(f"model m {{ input a: [{big}]; output y = Flatten()(a) }}")
    assert err[:2] == ("shape", 1) and "Flatten would give an output of more values per sample" in err[3]
    (err,) = errors("model m { input a: [4000000000]; output y = Dense(4000000000)(a) }")
    assert err[3] == ("Dense would give a weight 'kernel' of more values; no backend can index more than "
                      "2**63 - 1 values")


@pytest.mark.parametrize("value", [10**400, float("inf"), float("nan"), (10**400,)])
def test_a_define_out_of_range_is_refused(value):
    # A Python define skips the literal check: 10**400 was an OverflowError in float(), nan a silent weight.
    text = "let r = 0.5\nmodel m { input a: [4]; output y = Dropout(r)(a) }"
    (err,) = errors(text, defines={"r": value})
    assert err[:3] == ("define", 0, 0) and "is out of range; numbers are 64-bit integers" in err[3]


def test_a_define_on_the_command_line_is_read_as_a_literal(capsys, tmp_path):
    path = tmp_path / "m.net"
    path.write_text("let r = 0.5\nmodel m { input a: [4]; output y = Dropout(r)(a) }\n", encoding="utf-8")
    assert spec2net.cli.main(["check", str(path), "-D", "r=1e999"]) == 2
    assert "-D r: the number 1e999 is too large for a 64-bit float" in capsys.readouterr().err


@pytest.mark.parametrize("weight", ["-1", "true", '"1"'])
def test_loss_weights_must_be_finite_non_negative_numbers(weight):
    # 1e999 was accepted as an infinite weight; it is a literal error now, and inf from Python a
    # define error (above). `true` is located at itself: keyword literals took the next token's place.
    text = f"model m {{ input a: [4]; output y = Dense(2)(a)\ncompile {{ optimizer = adam; loss = mse; " \
           f"loss_weights = [{weight}] }} }}"
    assert errors(text) == [("compile", 2, 57, "loss weight of 'y' must be a finite number >= 0")]


@pytest.mark.parametrize("value,shown", [('"a\\nb"', r'"a\nb"'), ('"x\\u2028y"', r'"x\u2028y"'),
                                         ('"\\x00"', r'"\x00"')])
def test_a_message_quoting_a_string_stays_on_one_line(value, shown):
    # A "\n" inside a string ended up raw in the message: two lines, the second without a location.
    ((code, _, _, message),) = errors(M.format(f"Dense(2, name={value})(a)"))
    assert code == "arg-range" and message.endswith(f"Received: name={shown}") and message.isprintable()
    ((code, _, _, message),) = errors(M.format("Dense(2)(a)\ncompile { optimizer = adam; loss = {" + value +
                                                ": mse, y: mse} }"))
    assert message.startswith(f"loss key '{shown[1:-1]}' names no output")


@pytest.mark.parametrize("sep,col", [("\r", 25), ("\x0c", 25), ("\u2028", 23), ("\x85", 23), ("\x0b", 23)])
def test_the_excerpt_is_the_line_the_lexer_counted(sep, col):
    # Only "\n" ends a line for the lexer ("\r" and "\f" are blanks, the others unexpected), but
    # the excerpt came from splitlines(), which also splits at these: it showed a piece of the line,
    # with the caret past its end, and a raw U+2028 broke the message's own lines.
    text = f"model m {{ input a: [4]{sep} output y = Dense(x)(a) }}"
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.loads(text, file="s.net")
    shown = str(info.value).split("\n")
    assert shown[0].startswith(f"s.net:1:{col}: error: ") and shown[0].endswith("[syntax]")
    assert shown[1:] == ["    model m { input a: [4]? output y = Dense(x)(a) }", "    " + " " * (col - 1) + "^" * (
        6 if col == 25 else 1)]


def test_an_encoding_error_names_the_bad_byte_and_its_column_in_characters(tmp_path):
    # "utf-8-sig" counts an error's position from after the BOM, so the byte named was 3 bytes off
    # (0xa9 here), and the column was in bytes where every other column is in characters.
    path = tmp_path / "s.net"
    path.write_bytes(codecs.BOM_UTF8 + 'model m { input a: [4]; output y = Dense(2, name="éé'.encode() + b'\xff")(a) }')
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.load(path)
    (d,) = info.value.diagnostics
    assert (d.code, d.span.line, d.span.col, d.message) == ("encoding", 1, 53,
                                                            "file is not valid UTF-8 text (byte 0xff)")
