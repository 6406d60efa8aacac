"""Token-level mutants of a spec: deleted, inserted, swapped, duplicated and hostile tokens.

``mutants(text, rng)`` yields endless variations of one spec, each one to three edits away;
``byte_mutant(text, rng)`` gives raw bytes with what no text can hold (NUL, invalid UTF-8, a BOM
in the middle). The hostile tokens are the inputs a front end tends to trip on: numbers beyond
int64 and float64, NaN-like names, unbalanced brackets, control and non-ASCII characters (an RTL
mark, U+2028, a BOM), very long names and numbers, stray quotes and backslashes.
"""

from __future__ import annotations

import random
import re

TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|->|-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?'
                   r"|[A-Za-z_][A-Za-z0-9_]*|\r?\n|[ \t]+|.", re.DOTALL)
HOSTILE = [
    "1e999", "-1e999", "99999999999999999999", "9223372036854775808", "-0", "-0.0", "1e-400", "0", "-1",
    "2.5", "nan", "inf", "NaN", "-inf", "(", ")", "[", "]", "{", "}", "((", "]]", "\x00", "é", "😀",
    "\u200f", "\u202e", "\u2028", "\u2029", "\ufeff", "\x85", "\x0b", "\r", "\t", "\n", '"', "\\", "'",
    '"\\"', '"\\q"', '"\\x4"', '"\\N{nothing}"', '"\\ud800"', '"a\\nb"', '"unclosed', "->", ",", ";", ":",
    "=", "?", "model", "sequential", "def", "let", "input", "output", "return", "compile", "fit", "true",
    "none", "Dense", "LSTM", "concatenate", "relu", "x", "a" * 300, "9" * 5000, "1" + "0" * 400 + ".0",
]


def tokens(text: str) -> list[str]:
    """``text`` cut into tokens that join back into it (blanks and newlines are tokens too)."""
    return TOKEN.findall(text)


def mutate_once(toks: list[str], rng: random.Random) -> list[str]:
    """One edit of a token list, on a copy."""
    toks = list(toks)
    i = rng.randrange(len(toks)) if toks else 0
    op = rng.choice(("delete", "insert", "swap", "duplicate", "replace", "replace"))
    pick = rng.choice(HOSTILE) if rng.random() < 0.7 or not toks else rng.choice(toks)
    if op == "delete" and toks:
        del toks[i:i + rng.choice((1, 1, 2, 5))]
    elif op == "insert":
        toks.insert(i, rng.choice(("", " ")) + pick + rng.choice(("", " ")))
    elif op == "swap" and toks:
        j = rng.randrange(len(toks))
        toks[i], toks[j] = toks[j], toks[i]
    elif op == "duplicate" and toks:
        toks[i:i] = toks[i:i + rng.choice((1, 3, 8))]
    elif toks:
        toks[i] = pick
    return toks


def mutants(text: str, rng: random.Random):
    """Endless mutants of ``text``, one to three edits each."""
    base = tokens(text)
    while True:
        toks = base
        for _ in range(rng.choice((1, 1, 2, 3))):
            toks = mutate_once(toks, rng)
        yield "".join(toks)


def byte_mutant(text: str, rng: random.Random) -> bytes:
    """A mutant as raw bytes, with NUL, invalid UTF-8, a surrogate's encoding, or a BOM spliced in."""
    data = next(mutants(text, rng)).encode("utf-8", "surrogatepass")
    junk = rng.choice((b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x80abc", b"\r"))
    at = rng.randrange(len(data) + 1)
    if rng.random() < 0.2:
        return b"\xef\xbb\xbf" + data  # a BOM in front is allowed, and must not shift columns
    return data[:at] + junk + data[at:]
