"""spec2net.pyformat, the one layout engine of both generated modules, and the naming and literal
helpers of spec2net.codegen: checked against Python's own parser and ``ast.literal_eval``."""

from __future__ import annotations

import ast
import doctest

import pytest

from spec2net import codegen, pyformat
from spec2net.codegen import py_literal, safe_identifier
from spec2net.pyformat import WIDTH, CallExpr, Seq, assign, quote, render


@pytest.mark.parametrize("module", [pyformat, codegen])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("text", ["relu", "it's", 'say "hi"', "both ' and \"", "back\\slash", "tab\tnew\nline",
                                  "\u2028", "é", ""])
def test_quote_round_trips_and_prefers_double_quotes(text):
    src = quote(text)
    assert ast.literal_eval(src) == text
    assert src[0] == ("'" if '"' in text else '"')


def test_long_calls_break_one_argument_per_line_with_a_trailing_comma():
    inner = CallExpr("keras.initializers.RandomUniform", (("minval", "-0.05"), ("maxval", "0.05")))
    call = CallExpr("layers.Embedding", (("input_dim", "500"), ("output_dim", "16"),
                                         ("embeddings_initializer", inner), ("name", quote("embedding"))))
    code = assign("e", call, indent=4, after="(tokens)")
    assert code.splitlines() == [
        "e = layers.Embedding(",
        "        input_dim=500,",
        "        output_dim=16,",
        "        embeddings_initializer=keras.initializers.RandomUniform(minval=-0.05, maxval=0.05),",
        '        name="embedding",',
        "    )(tokens)",
    ]
    assert all(4 + len(line) <= WIDTH for line in code.splitlines())
    ast.parse("if True:\n    " + code)


def test_a_call_that_fits_stays_on_one_line_and_displays_nest():
    assert render(CallExpr("f", ((None, "x"), ("k", Seq("(", ")", ("1",)))))) == "f(x, k=(1,))"
    d = Seq("{", "}", tuple((quote(f"output_{i}"), "1.0") for i in range(12)))
    code = render(d, indent=0, before=len("loss_weights="))
    assert code.startswith("{\n") and code.endswith(",\n}") and code.count("\n") == 13
    assert ast.literal_eval(code) == {f"output_{i}": 1.0 for i in range(12)}


@pytest.mark.parametrize("name,want", [("__debug__", "debug"), ("__class__", "class_"), ("__init__", "init"),
                                       ("__x", "x"), ("___", "_"), ("_private", "_private"), ("import", "import_")])
def test_safe_identifier_never_writes_a_dunder_or_a_keyword(name, want):
    got = safe_identifier(name, set())
    assert got == want and got.isidentifier() and not got.startswith("__")
    compile(f"def f():\n    {got} = 1\nclass C:\n    def m(self):\n        {got} = 1\n", "<t>", "exec")


def test_py_literal_round_trips():
    for value in ("a'b\"c\\\n", 1e-07, (4,), [1, None, True], {"k": -1.5}, -0.0):
        assert ast.literal_eval(py_literal(value)) == value
    assert eval(py_literal(float("-inf")), {"float": float}) == float("-inf")
    with pytest.raises(TypeError, match="cannot write set"):
        py_literal({1})


def test_safe_identifiers_are_readable_unique_and_ascii():
    taken = {"keras"}
    got = [safe_identifier(n, taken) for n in ("class", "lambda", "keras", "1st layer", "x'); import os #",
                                                "input", "dense", "dense", "é")]
    assert got == ["class_", "lambda_", "keras_2", "_1st_layer", "x_import_os", "input_", "dense",
                   "dense_2", "_"]
    assert all(s.isidentifier() and s.isascii() for s in got)
