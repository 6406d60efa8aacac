"""Random specs that the grammar accepts, from the grammar itself (hypothesis's ``from_lark``).

``specs()`` is the strategy the tests use. Run as a script it feeds many of them to the crash
oracle and prints counts: ``python fuzz/grammar_specs.py --count 20000 --seed 1``.

``from_lark`` knows nothing of the post-lexer, so three things are supplied here: the declared
``_SEP`` terminal (a newline, ``;`` or a comment line: what SepPostLex turns into ``_SEP``); a
blank after every token, since ``from_lark`` joins tokens with nothing between them and ``let`` +
``x`` would lex as the one name ``letx``; and names drawn mostly from the registry. Whole files
from the grammar seldom get past the checker, so half the specs are models whose layer calls are
built here, with grammar-made expressions spliced in: those reach shapes, arguments and the code
generators.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from importlib import resources

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from spec2net.builder import DTYPES, MERGE_FUNCS
from spec2net.registry import LAYERS, REGISTRIES

KEYWORDS = {"model", "sequential", "def", "let", "input", "output", "return", "compile", "fit",
            "true", "false", "none"}
ARG_NAMES = sorted({a.name for d in LAYERS.values() for a in d.args} | {"name", "input_shape", "input_dim",
                   "optimizer", "loss", "loss_weights", "metrics", "epochs", "batch_size"})
NAMES = sorted({*LAYERS, *MERGE_FUNCS, *DTYPES, *ARG_NAMES, "x", "y", "a", "b", "h",
                *(n for table in REGISTRIES.values() for n in table)})
HOSTILE_NUMBERS = ["0", "-0", "1", "2", "3", "8", "-1", "0.5", "2.0", ".5", "1.", "1e3", "1e999", "-1e999",
                   "1e-400", "99999999999999999999", "9223372036854775807", "9223372036854775808", "9" * 5000]
HOSTILE_STRINGS = ['""', '"x"', '"relu"', '"dense"', '"a b"', '"é"', r'"\N"', r'"\x4"', r'"\u00e9"', r'"\q"',
                   r'"a\nb"', r'"\ud800"']
SEPARATORS = [";", "\n", "\r\n", " ; ", "\n\n", "  # a comment\n", "\n# a comment line\n"]
SPACE = st.sampled_from([" "] * 6 + ["  ", "\t", " \f", "\r "])


def grammar() -> Lark:
    """The installed package's grammar, read as spec2net.parser reads it; ``expr`` is a start rule too."""
    text = resources.files("spec2net.grammar").joinpath("spec2net.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", lexer="basic", start=["start", "expr"])


def _terminal(pattern: str) -> st.SearchStrategy[str]:
    whole = re.compile(pattern)
    # Lark matches unanchored, so keep only strings the lexer would take as one token.
    return st.from_regex(whole, fullmatch=True, alphabet=st.characters(codec="utf-8")).filter(
        lambda s: whole.match(s).end() == len(s))


def _explicit(lark: Lark, start: str) -> dict[str, st.SearchStrategy[str]]:
    """A strategy, then a blank, for each terminal that ``start`` reaches (from_lark refuses others)."""
    terminals, rules, ignore = lark.grammar.compile([start], ())
    used = {t.name for t in terminals} | {s.name for r in rules for s in r.expansion if s.is_term}
    special = {
        "NAME": st.one_of(st.sampled_from(NAMES),
                          _terminal(r"[A-Za-z_][A-Za-z0-9_]{0,12}").filter(lambda s: s not in KEYWORDS)),
        "NUMBER": st.one_of(st.sampled_from(HOSTILE_NUMBERS), _terminal(r"-?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")),
        "STRING": st.one_of(st.sampled_from(HOSTILE_STRINGS), _terminal(r'"([^"\\\n]|\\.){0,10}"')),
        # Comments would swallow the tokens after them; they come in through _SEP instead.
        "COMMENT": st.just(""),
        "_SEP": st.sampled_from(SEPARATORS),
    }
    out = {}
    for t in terminals:
        if t.name in special:
            continue
        if t.name in ignore:
            out[t.name] = st.just("")
        else:
            assert t.pattern.type == "str", t.name  # keywords and punctuation
            out[t.name] = st.just(t.pattern.value)
    out.update((k, v) for k, v in special.items() if k in used)
    return {name: st.tuples(s, SPACE).map("".join) for name, s in out.items()}


def specs() -> st.SearchStrategy[str]:
    """Spec texts the grammar accepts, tokens separated by blanks: whole files, and models whose
    layer calls take grammar-made arguments (those get past the checker and on to code generation)."""
    lark = grammar()
    exprs = from_lark(lark, start="expr", explicit=_explicit(lark, "expr"))
    return st.one_of(from_lark(lark, start="start", explicit=_explicit(lark, "start")), layer_models(exprs))


INPUTS = ["input a: float32[8]", "input s: float32[5, 8]", "input t: int32[6]", "input u: float32[?, 4]"]
SIMPLE_VALUES = [*HOSTILE_NUMBERS, "relu", "softmax", "glorot_uniform", "l2(0.01)", "true", "false", "none",
                 "(2, 4)", "(-1,)", "[1]", '"enc"', "adam", "mse", "[accuracy]",
                 # arithmetic: fitting, float where an integer belongs, and each kind of refusal
                 "8 // 2", "(3 + 1) * 2 - 2 ** 2", "-(-4) % 3", "6 / 2", "1 // 0", "2 ** 64", "10.0 ** 400",
                 "(-8) ** 0.5", "relu + 1", "true * 2"]
LAYER_NAMES = sorted(LAYERS) + sorted(MERGE_FUNCS)
RNN = ["3", "2, return_sequences=true", "2, return_state=true", "4, go_backwards=true"]
# Arguments that fit each layer, so that most models get through the checker to code generation.
FITTING = {"Dense": ["4", "1, activation=relu", "3, use_bias=false"], "Embedding": ["10, 4", "20, 3, mask_zero=true"],
           "Dropout": ["0.5", "0.0"], "Activation": ["relu", "softmax"], "LeakyReLU": ["", "negative_slope=0.1"],
           "Reshape": ["(-1,)", "(2, -1)"], "BatchNormalization": ["", "momentum=0.9"], "LayerNormalization":
           ["", "axis=-1"], "SimpleRNN": RNN, "LSTM": RNN, "GRU": RNN, "Concatenate": ["", "axis=-1"],
           "Conv1D": ["4, 3", '2, 2, padding="causal"'], "Conv2D": ["4, 3", "2, (2, 1), padding=same"],
           "AveragePooling1D": ["2"], "AveragePooling2D": ["2", "(2, 2), strides=1"]}
COMPILE = ["optimizer = adam; loss = mse", "optimizer = sgd(learning_rate=0.1); loss = binary_crossentropy",
           "optimizer = rmsprop; loss = categorical_crossentropy; metrics = [accuracy]"]


@st.composite
def layer_models(draw, exprs):
    """``model m { inputs; x0 = Layer(args)(tensor); ...; output y = x_last }``, maybe with compile/fit.

    Layers get arguments that fit them, then a few plain values that may not; one model in three
    also gets one grammar-made expression. Only one: the grammar's expressions recurse, and most
    draws of several would overrun hypothesis's buffer and be thrown away, a tenth of a second each.
    """
    lines, tensors = list(INPUTS), ["a", "s", "t", "u"]
    values = st.sampled_from(SIMPLE_VALUES)
    for i in range(draw(st.integers(1, 4))):
        layer = draw(st.sampled_from(LAYER_NAMES))
        defn = LAYERS.get(layer) or MERGE_FUNCS[layer]
        keys = [a.name for a in defn.args] + ["name", "input_shape", "trainable"]
        args = [x for x in [draw(st.sampled_from(FITTING.get(defn.name, [""])))] if x]
        if draw(st.integers(0, 3)) == 0:
            args.append(f"{draw(st.sampled_from(keys))}={draw(values)}")
        floats = [x for x in tensors if x != "t"]  # only Embedding takes the int32 input well
        src = "t" if layer == "Embedding" else draw(st.sampled_from([floats[-1], *floats]))  # chains, mostly
        if defn.merge:
            src = f"[{src}, {draw(st.sampled_from([src, *floats]))}]"
        if layer in MERGE_FUNCS:
            lines.append(f"x{i} = {layer}({', '.join([src, *args])})")
        else:
            lines.append(f"x{i} = {layer}({', '.join(args)})({src})")
        tensors.append(f"x{i}")
    if draw(st.integers(0, 2)) == 0:
        k = draw(st.integers(len(INPUTS), len(lines) - 1))
        lines[k] = lines[k].replace("(", f"({draw(exprs)}, ", 1)  # one more positional argument, first
    lines.append(f"output y = {tensors[-1]}")
    if draw(st.booleans()):
        lines.append(f"compile {{ {draw(st.sampled_from(COMPILE))}; loss_weights = [{draw(values)}] }}")
    if draw(st.booleans()):
        lines.append(f"fit {{ epochs = {draw(values)}; batch_size = 32; validation_split = {draw(values)} }}")
    return "model m {\n    " + "\n    ".join(lines) + "\n}\n"


class _Stop(Exception):
    """Ends a --seconds run: hypothesis has no time limit of its own."""


def main(argv=None) -> int:
    from minimise import key, report
    from oracle import Crash, check_text

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=None, help="stop after this long, whatever the count")
    args = ap.parse_args(argv)
    counts = {"generated": 0, "distinct": 0, "ok": 0, "rejected": 0}
    crashes: dict[str, Crash] = {}
    seen: set[int] = set()
    stop = time.monotonic() + args.seconds if args.seconds else None

    @seed(args.seed)
    @settings(max_examples=args.count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(specs())
    def run(text):
        if stop and time.monotonic() > stop:
            raise _Stop
        counts["generated"] += 1
        if hash(text) in seen:  # hypothesis mutates its own examples, so some come twice
            return
        seen.add(hash(text))
        counts["distinct"] += 1
        try:
            counts[check_text(text)] += 1
        except Crash as c:
            crashes.setdefault(key(c), c)

    try:
        run()
    except _Stop:
        pass
    return report(counts, crashes)


if __name__ == "__main__":
    sys.exit(main())
