"""Arithmetic in a spec (LANGUAGE.md, Arithmetic): values, Python's precedence and types, deep
nesting, -D; and the Keras-habit syntax hints and suggestions that tests/diagnostics/*.net cannot
state (what a message must *not* say, syntax errors that stop the parse). The refusals of
arithmetic are annotated inline in tests/diagnostics/arithmetic.net."""

from __future__ import annotations

import math

import pytest

import spec2net
from spec2net.arith import Computed
from spec2net.loader import check_text
from spec2net.spelling import closest

LETS = """let v = {expr}
model m {{ input a: float32[4]; output y = Dense(1)(a) }}
"""


def let_value(expr, defines=None):
    _, diags = check_text(LETS.format(expr=expr), "t.net", defines)
    assert [d.message for d in diags] == []
    from spec2net.checker import _lets  # the evaluated `let`s, as the models see them
    from spec2net.parser import parse

    tree, _ = parse(LETS.format(expr=expr))
    return _lets([tree.items[0]], defines or {}, {}, "t.net", [])["v"]


# Each expression's value is Python's own: same precedence, associativity and types.
@pytest.mark.parametrize("expr", [
    "1 + 2 * 3", "(1 + 2) * 3", "2 ** 3 ** 2", "-2 ** 2", "2 ** -1", "-(-2) ** 2", "7 // 2", "-7 // 2",
    "7 % 3", "-7 % 3", "7.5 % 2", "7 / 2", "6 / 3", "1 - 2 - 3", "2 * 3 // 4", "100 // 7 % 3 * 2",
    "1e3 * 2", "3 - -2", "2 ** 0.5", "--3", "10 - 2 ** 3 * 2 + 7 // 2 % 3", "1.5 // 0.5", ".5 + 1.",
])
def test_values_types_and_precedence_are_pythons(expr):
    got, want = let_value(expr), eval(expr)
    assert got == want and type(got) is type(want) or (isinstance(got, Computed) and type(want) is float)


def test_slash_gives_a_float_and_the_others_keep_ints():
    assert isinstance(let_value("6 / 3"), float) and let_value("6 / 3") == 2.0
    assert [type(let_value(e)) for e in ("6 // 3", "6 % 4", "2 ** 3", "2 * 3", "2 - 3")] == [int] * 5
    assert isinstance(let_value("2 * 1.0"), float)


def test_a_computed_shape_and_arguments_build_the_model_keras_would():
    net = spec2net.loads("""
let digits = 3
let maxlen = digits + digits + 1
model add_rnn {
    input q: float32[maxlen, 12]
    r = RepeatVector(digits + 1)(LSTM(2 ** 5)(q))
    output y = Dense(12 // 2, activation=softmax)(r)
    compile { optimizer = adam(learning_rate=1 / 1000); loss = categorical_crossentropy }
    fit { epochs = 2 * 5; validation_split = 1 / 10 }
}
""")
    assert net.ir.inputs[0].type.shape == (7, 12)
    assert [(l.type, l.args.get("units", l.args.get("n"))) for l in net.ir.layers] == [
        ("RepeatVector", 4), ("LSTM", 32), ("Dense", 6)]  # a callee is built before its arguments
    assert dict(net.ir.compile.optimizer.args)["learning_rate"] == 0.001 and net.ir.fit["epochs"] == 10
    assert net.ir.fit["validation_split"] == 0.1


def test_a_define_stays_a_literal_and_lets_after_it_recompute():
    text = "let digits = 3\nlet maxlen = digits * 2 + 1\n" + \
           "model m { input a: float32[maxlen]; output y = Dense(1)(a) }\n"
    models, diags = check_text(text, "t.net", {"digits": 5})
    assert diags == [] and models["m"].inputs[0].type.shape == (11,)
    from spec2net.loader import parse_define

    assert parse_define("3+1") == "3+1"  # -D digits=3+1 is the string "3+1", not arithmetic


def test_a_negative_literal_is_one_literal():
    # `-9223372036854775807` is the literal (no overflow of its positive part) and `-1e999` is
    # reported as written, once.
    assert let_value("-9223372036854775807") == -9223372036854775807
    _, diags = check_text(LETS.format(expr="-1e999"), "t.net")
    assert [(d.code, d.span.col, d.span.end_col) for d in diags] == [("syntax", 9, 15)]
    assert "the number -1e999 is too large" in diags[0].message


@pytest.mark.parametrize("expr,value", [(" + ".join(["1"] * 20000), 20000), ("-" * 20001 + "1", -1),
                                        ("1 ** " * 3000 + "2", 1), ("(" * 3000 + "1" + ")" * 3000, 1)])
def test_deep_expressions_never_raise_recursion_error(expr, value):
    assert let_value(expr) == value


def test_a_huge_power_is_refused_before_it_is_computed():
    import time

    start = time.process_time()
    _, diags = check_text(LETS.format(expr="3 ** 10000000000000"), "t.net")
    assert [d.code for d in diags] == ["arith"] and time.process_time() - start < 1.0


# Keras habits that end the parse: one located message each, with the spec's form.
@pytest.mark.parametrize("line,fragment,col", [
    ("    h = layers.Dense(4)(a)", "a spec has no attribute access; write a layer or function by its name alone", 15),
    ("    h = Dense(4, padding='same')(a)", "strings take double quotes", 26),
    ("    for i in range(3): h = Dense(4)(a)", "'for' is Python; a spec has no loops", 5),
    ("    h = lambda t: t", "'lambda' is Python; a spec has no lambdas or custom layers", 9),
])
def test_keras_syntax_gets_the_spec_form(line, fragment, col):
    _, diags = check_text(f"model m {{\n    input a: float32[4]\n{line}\n    output h\n}}\n", "t.net")
    assert [(d.code, d.span.line, d.span.col) for d in diags] == [("syntax", 3, col)]
    assert fragment in diags[0].message


@pytest.mark.parametrize("name,pool,want", [
    ("Denes", ["Dense", "Dropout"], "Dense"), ("Normalization", ["LayerNormalization", "BatchNormalization"], None),
    ("auc", ["acc", "accuracy"], None), ("rat", ["rate"], "rate"), ("widht", ["width"], "width"),
    ("BinaryCrossentropy", ["binary_crossentropy"], "binary_crossentropy"), ("ADAM", ["adam"], "adam"),
    ("EarlyStopping", ["early_stopping"], "early_stopping"), ("x", ["x"], None),
])
def test_a_suggestion_only_when_the_name_is_close(name, pool, want):
    assert closest(name, pool) == want


def test_an_unknown_layer_with_nothing_close_gets_no_suggestion():
    _, diags = check_text("sequential s {\n    input float32[4]\n    Normalization()\n}\n", "t.net")
    assert [d.message for d in diags] == ["unknown layer or function 'Normalization'"]


@pytest.mark.parametrize("text,fragment,col", [
    ("import keras\n", "'import' is Python; a spec needs no imports", 1),
    ("def block(x, units):\n    return x\n", "unexpected ':': a def's body is a block", 20),
])
def test_python_at_the_top_level_gets_the_spec_form(text, fragment, col):
    _, diags = check_text(text, "t.net")
    assert (diags[0].code, diags[0].span.line, diags[0].span.col) == ("syntax", 1, col)
    assert fragment in diags[0].message


def _expressions():
    """Random arithmetic as text, with spaces and parentheses drawn too; `**` takes a one-digit
    exponent, so Python's own eval (the oracle) stays fast."""
    from hypothesis import strategies as st

    atoms = st.sampled_from(["0", "1", "2", "3", "7", "9", "0.5", "2.5", "-4", "10"])
    ops = st.sampled_from([" + ", " - ", "*", " / ", "//", " % "])

    def extend(inner):
        binary = st.tuples(inner, ops, inner).map(lambda t: f"{t[0]}{t[1]}{t[2]}")
        power = st.tuples(inner, st.sampled_from("0123")).map(lambda t: f"({t[0]}) ** {t[1]}")
        return st.one_of(binary, power, inner.map(lambda e: f"({e})"), inner.map(lambda e: f"-{e}"))

    return st.recursive(atoms, extend, max_leaves=12)


def test_random_expressions_agree_with_python():
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=150, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(_expressions())
    def check(expr):
        try:
            want = eval(expr)  # the oracle: Python's precedence, associativity and types
        except (ZeroDivisionError, OverflowError):
            want = None
        _, diags = check_text(LETS.format(expr=expr), "t.net")
        if diags:  # an error only where Python fails, or a result (or a step) is past int64/float64
            assert {d.code for d in diags} == {"arith"}, [d.message for d in diags]
            past = want is not None and (abs(want) > 2**63 - 1 or not math.isfinite(want))
            # a step past int64 while the whole fits takes a power: twelve numbers up to 10 multiply to 1e12
            assert want is None or past or "**" in expr, expr
        else:
            got = let_value(expr)
            assert got == want and isinstance(got, float) == isinstance(want, float), expr

    check()
