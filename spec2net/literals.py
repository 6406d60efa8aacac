"""Number and string literals: token text -> value, or a LiteralError that says what is wrong.

Numbers are what every backend can hold: an integer fits in int64, a float is a finite float64
(``1e-400`` rounds to 0.0 as in Python; ``1e999`` would be inf and is refused). Strings take
``\\"``, ``\\\\`` and Python's other escapes; an escape Python would refuse or merely warn about
(``\\q``, ``\\x4``, ``\\N{nothing}``, a lone surrogate) is an error here, never an exception.
"""

from __future__ import annotations

import math
import re
import unicodedata

from . import messages as M
from .messages import Problem
from .registry.types import INT_MAX

_SIMPLE = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b",
           "f": "\f", "v": "\v"}
_ESCAPE = re.compile(r"\\(?:x(?P<x>[0-9A-Fa-f]{2})|u(?P<u>[0-9A-Fa-f]{4})|U(?P<U>[0-9A-Fa-f]{8})"
                     r"|N\{(?P<N>[^}\n]*)\}|(?P<o>[0-7]{1,3})|(?P<c>.?))", re.DOTALL)


class LiteralError(Problem, ValueError):
    """A literal the lexer accepts but no value fits; ``str(e)`` is the diagnostic's message."""


def number(text: str) -> int | float:
    """``number("42") == 42``, ``number("1e-3") == 0.001``; LiteralError out of int64/float64 range."""
    if any(ch in text for ch in ".eE"):
        value = float(text)
        if not math.isfinite(value):
            raise LiteralError(M.FLOAT_TOO_LARGE, text=_short(text))
        return value
    digits = text.lstrip("-").lstrip("0") or "0"
    # A length check first: int() refuses strings of over 4300 digits with a ValueError of its own.
    if len(digits) > len(str(INT_MAX)) or int(digits) > INT_MAX:
        raise LiteralError(M.INT_TOO_LARGE, text=_short(text), largest=INT_MAX)
    return -int(digits) if text.startswith("-") else int(digits)


def string(text: str) -> str:
    """The value of a string token, quotes included: ``string('"a\\\\tb"') == "a\\tb"``."""
    return _ESCAPE.sub(_unescape, text[1:-1])


def _unescape(m: re.Match) -> str:
    simple, name = m.group("c"), m.group("N")
    if simple is not None:
        if simple and simple in "xuUN":
            raise LiteralError(M.INCOMPLETE_ESCAPE, char=simple)
        if simple not in _SIMPLE:
            raise LiteralError(M.UNKNOWN_ESCAPE, char=simple)
        return _SIMPLE[simple]
    if name is not None:
        try:
            return unicodedata.lookup(name)
        except KeyError:
            raise LiteralError(M.UNKNOWN_CHARACTER_NAME, name=name) from None
    code = int(m.group("o"), 8) if m.group("o") else int(m.group("x") or m.group("u") or m.group("U"), 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise LiteralError(M.NOT_A_CHARACTER, escape=m.group())
    return chr(code)


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:24] + "..." + f" ({len(text)} characters)"
