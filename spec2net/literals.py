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

from .registry.types import INT_MAX

_SIMPLE = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b",
           "f": "\f", "v": "\v"}
_ESCAPE = re.compile(r"\\(?:x(?P<x>[0-9A-Fa-f]{2})|u(?P<u>[0-9A-Fa-f]{4})|U(?P<U>[0-9A-Fa-f]{8})"
                     r"|N\{(?P<N>[^}\n]*)\}|(?P<o>[0-7]{1,3})|(?P<c>.?))", re.DOTALL)


class LiteralError(ValueError):
    """A literal the lexer accepts but no value fits; ``str(e)`` is the diagnostic's detail."""


def number(text: str) -> int | float:
    """``number("42") == 42``, ``number("1e-3") == 0.001``; LiteralError out of int64/float64 range."""
    if any(ch in text for ch in ".eE"):
        value = float(text)
        if not math.isfinite(value):
            raise LiteralError(f"the number {_short(text)} is too large for a 64-bit float (the largest is "
                               "about 1.8e308)")
        return value
    digits = text.lstrip("-").lstrip("0") or "0"
    # A length check first: int() refuses strings of over 4300 digits with a ValueError of its own.
    if len(digits) > len(str(INT_MAX)) or int(digits) > INT_MAX:
        raise LiteralError(f"the integer {_short(text)} does not fit in 64 bits (the largest is {INT_MAX}); "
                           "write it as a float, like 1e20, if a float is meant")
    return -int(digits) if text.startswith("-") else int(digits)


def string(text: str) -> str:
    """The value of a string token, quotes included: ``string('"a\\\\tb"') == "a\\tb"``."""
    return _ESCAPE.sub(_unescape, text[1:-1])


def _unescape(m: re.Match) -> str:
    simple, name = m.group("c"), m.group("N")
    if simple is not None:
        if simple and simple in "xuUN":
            raise LiteralError(f"incomplete escape '\\{simple}' in a string: \\x takes 2 hex digits, \\u 4, "
                               "\\U 8, \\N a {name}")
        if simple not in _SIMPLE:
            raise LiteralError(f"unknown escape '\\{simple}' in a string; write '\\\\' for a backslash")
        return _SIMPLE[simple]
    if name is not None:
        try:
            return unicodedata.lookup(name)
        except KeyError:
            raise LiteralError(f"unknown character name in '\\N{{{name}}}'") from None
    code = int(m.group("o"), 8) if m.group("o") else int(m.group("x") or m.group("u") or m.group("U"), 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise LiteralError(f"'{m.group()}' is not a character")
    return chr(code)


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:24] + "..." + f" ({len(text)} characters)"
