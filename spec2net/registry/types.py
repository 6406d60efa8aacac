"""Argument types: each checks and converts one evaluated argument value.

A check failure raises ArgError with the code and the "expected ..." text;
the checker turns it into a Diagnostic that also says what was received,
as Keras's constructors do ("expected a positive integer. Received: units=-3").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

REQUIRED = object()
INT_MAX = 2**63 - 1  # the largest integer every backend holds (int64)


class ArgError(Exception):
    def __init__(self, code: str, expected: str):
        super().__init__(expected)
        self.code, self.expected = code, expected


@dataclass(frozen=True)
class Sym:
    """A bare name that is bound to nothing: an activation, initializer, ... by name."""

    name: str
    span: object = field(compare=False, default=None)


@dataclass(frozen=True)
class FCall:
    """A call of a function name that is not a layer: ``l2(0.01)``, ``adam(lr=1e-3)``."""

    name: str
    args: tuple
    kwargs: tuple  # ((name, span, value), ...)
    span: object = field(compare=False, default=None)


class ArgType:
    expected = "a value"

    def coerce(self, v, resolve):
        """Return the checked value; ``resolve(kind, value)`` resolves function references."""
        raise NotImplementedError


class Int(ArgType):
    def __init__(self, lo=None, hi=None, what=None):
        self.lo, self.hi = lo, hi
        self.expected = what or ("a positive integer" if lo == 1 and hi is None else "an integer" + _range(lo, hi))

    def coerce(self, v, resolve):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
            raise ArgError("arg-type", self.expected)
        v = int(v)
        if (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
            raise ArgError("arg-range", self.expected)
        if abs(v) > INT_MAX:  # Dense(1e30): integral, but no backend holds it
            raise ArgError("arg-range", "an integer that fits in 64 bits")
        return v


class Float(ArgType):
    def __init__(self, lo=None, hi=None, hi_open=False, lo_open=False, what=None):
        self.lo, self.hi, self.lo_open, self.hi_open = lo, hi, lo_open, hi_open
        if what is None:
            what = "a number" + _range(lo, hi, lo_open, hi_open)
        self.expected = what

    def coerce(self, v, resolve):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ArgError("arg-type", self.expected)
        v = float(v)
        bad = not math.isfinite(v)
        if self.lo is not None:
            bad |= v <= self.lo if self.lo_open else v < self.lo
        if self.hi is not None:
            bad |= v >= self.hi if self.hi_open else v > self.hi
        if bad:
            raise ArgError("arg-range", self.expected)
        return v


class Bool(ArgType):
    expected = "true or false"

    def coerce(self, v, resolve):
        if not isinstance(v, bool):
            raise ArgError("arg-type", self.expected)
        return v


class Str(ArgType):
    expected = "a string"

    def coerce(self, v, resolve):
        if not isinstance(v, str):
            raise ArgError("arg-type", self.expected)
        return v


class Optional(ArgType):
    """``none`` or the inner type."""

    def __init__(self, inner: ArgType):
        self.inner = inner
        self.expected = inner.expected + " or none"

    def coerce(self, v, resolve):
        return None if v is None else self.inner.coerce(v, resolve)


class Fixed(ArgType):
    """A value that Keras's name fixes (``leaky_relu``'s slope): filled by the checker, not settable."""

    def __init__(self, value: float, hint: str):
        self.value = value
        self.expected = f"{value} ({hint})"

    def coerce(self, v, resolve):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or float(v) != self.value:
            raise ArgError("arg-range", self.expected)
        return self.value


class Shape(ArgType):
    """A tuple of dimensions; ``minus_one`` allows one -1 (Reshape)."""

    def __init__(self, minus_one=False):
        self.minus_one = minus_one
        self.expected = "a tuple of positive integers" + (" (one may be -1)" if minus_one else "")

    def coerce(self, v, resolve):
        if isinstance(v, int) and not isinstance(v, bool):
            v = (v,)
        if not isinstance(v, (tuple, list)):
            raise ArgError("arg-type", self.expected)
        dims = []
        for d in v:
            if isinstance(d, bool) or not isinstance(d, int):
                raise ArgError("arg-type", self.expected)
            if (d < 1 and not (self.minus_one and d == -1)) or d > INT_MAX:
                raise ArgError("arg-range", self.expected)
            dims.append(d)
        if dims.count(-1) > 1:
            raise ArgError("arg-range", "at most one -1 in the shape")
        return tuple(dims)


class Axis(ArgType):
    """An axis in Keras's numbering (0 is the batch axis), or a list of them."""

    def __init__(self, many=False):
        self.many = many
        self.expected = "an integer axis" + (" or a list of axes" if many else "")

    def coerce(self, v, resolve):
        items = v if self.many and isinstance(v, (list, tuple)) else [v]
        if not items or any(isinstance(a, bool) or not isinstance(a, int) for a in items):
            raise ArgError("arg-type", self.expected)
        return tuple(items) if isinstance(v, (list, tuple)) else v


class Func(ArgType):
    """A reference into one of the function registries (activation, initializer, ...)."""

    def __init__(self, kind: str, optional=False, none=None):
        # ``none``: the name that ``none`` stands for (Keras reads activation=None as linear)
        self.kind, self.optional, self.none = kind, optional, none
        self.expected = f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}" + (" or none" if optional else "")

    def coerce(self, v, resolve):
        if v is None and self.none is not None:
            return resolve(self.kind, self.none)
        if v is None and self.optional:
            return None
        return resolve(self.kind, v)


def _range(lo, hi, lo_open=False, hi_open=False) -> str:
    if lo is None and hi is None:
        return ""
    if hi is None:
        return f" {'>' if lo_open else '>='} {lo}"
    if lo is None:
        return f" {'<' if hi_open else '<='} {hi}"
    return f" in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"


@dataclass(frozen=True)
class Arg:
    """One argument of a registry entry: name, type, Keras 3 default, accepted aliases."""

    name: str
    type: ArgType
    default: object = REQUIRED
    aliases: tuple = ()
