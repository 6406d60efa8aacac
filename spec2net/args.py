"""Binding call arguments to a registry entry's Args: positions, keywords,
aliases, defaults, type and range checks, and function references."""

from __future__ import annotations

from . import ir
from . import messages as M
from .arith import Computed, made_where
from .diagnostics import diag, suggest
from .registry import LAYERS, REGISTRIES
from .registry.types import REQUIRED, ArgError, FCall, Sym
from .values import ERR, show

# An ArgError's code (the registry's types raise them) -> the message that reports it.
ARG_ERRORS = {"arg-type": M.ARG_TYPE, "arg-range": M.ARG_RANGE}


class Reported(Exception):
    """The error is already in the diagnostics; give up on this value."""


class Binder:
    """Checks arguments against registry entries, reporting into ``diags``."""

    def __init__(self, diags: list, scope=lambda: ()):
        self.diags = diags
        self.scope = scope  # the names bound where the call is, for "did you mean" hints

    def bind(self, owner: str, spec_args, pos, kw, span, extra=()):
        """Return {arg: checked value} with defaults filled, or ERR.

        ``pos`` is [(value, span)], ``kw`` is [(name, name_span, value, span)];
        ``extra`` names keywords the caller handles itself (left in the result raw).
        """
        by_name = {a.name: a for a in spec_args}
        alias = {al: a.name for a in spec_args for al in a.aliases}
        raw, spans, ok = {}, {}, True
        if len(pos) > len(spec_args):
            self.diags.append(diag(pos[len(spec_args)][1], M.TOO_MANY_ARGS, owner=owner, n=len(spec_args),
                                   got=len(pos)))
            ok = False
        for a, (v, s) in zip(spec_args, pos):
            raw[a.name], spans[a.name] = v, s
        for name, nspan, v, s in kw:
            key = alias.get(name, name)
            if key not in by_name and name not in extra:
                hint = suggest(name, [*by_name, *alias, *extra])
                self.diags.append(diag(nspan, M.UNKNOWN_ARG, owner=owner, name=name, hint=hint))
                ok = False
                continue
            if key in raw:
                self.diags.append(diag(nspan, M.DUPLICATE_ARG, owner=owner, name=key))
                ok = False
                continue
            raw[key], spans[key] = v, s
        out = {}
        for a in spec_args:
            if a.name not in raw:
                if a.default is REQUIRED:
                    self.diags.append(diag(span, M.MISSING_ARG, owner=owner, name=a.name))
                    ok = False
                else:
                    out[a.name] = a.default
                continue
            v = self.value(owner, a.name, a.type, raw[a.name], spans[a.name])
            ok &= v is not ERR
            out[a.name] = v
        for name in extra:
            if name in raw:
                out[name] = (raw[name], spans[name])
        return out if ok else ERR

    def value(self, owner, name, typ, v, span):
        if _has_err(v):
            return ERR
        if isinstance(v, Sym) and not _takes_symbols(typ):
            if any(v.name in table for table in REGISTRIES.values()):  # relu where a number belongs
                self.diags.append(diag(v.span or span, M.ARG_TYPE, owner=owner, expected=typ.expected, name=name,
                                       value=v.name))
            else:
                self.diags.append(diag(v.span or span, M.NAME_DEFINED, name=v.name,
                                       hint=suggest(v.name, self.scope())))
            return ERR
        try:
            out = typ.coerce(v, lambda kind, x: self.resolve(kind, x, span))
        except ArgError as e:
            if isinstance(v, (FCall, Sym)) and "layer" in e.expected and _unknown(v.name):
                # TimeDistributed(Denes(8)): a misspelt layer, wherever it is written
                self.diags.append(diag(v.span or span, M.UNKNOWN_LAYER, name=v.name, hint=suggest(v.name, LAYERS)))
                return ERR
            made = _float_made_int(v, None)  # Reshape((2, n / 2)): the float is the mistake
            if made is None:
                self.diags.append(diag(span, ARG_ERRORS[e.code], owner=owner, expected=e.expected, name=name,
                                       value=show(v)))
                return ERR
        except Reported:
            return ERR
        else:
            made = _float_made_int(v, out)
        if made is not None:  # Dense(n / 2): the literal 8.0 is accepted, a computed 8.0 is a mistake
            where, at = made_where(made, span)
            self.diags.append(diag(where, M.INT_FROM_FLOAT, owner=owner, expected=typ.expected, name=name,
                                   value=show(v), at=at))
            return ERR
        return out

    def resolve(self, kind: str, v, span) -> ir.Ref:
        """A name, string or call -> the Ref of a registry function of ``kind``."""
        if isinstance(v, ir.Ref) and v.kind == kind:
            return v
        if isinstance(v, str):
            v = Sym(v, span)
        if not isinstance(v, (Sym, FCall)):
            raise ArgError("arg-type", f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} name or call")
        table = REGISTRIES[kind]
        entry = table.get(v.name)
        if entry is None:
            hint = suggest(v.name, table) or f"; the {kind}{'es' if kind.endswith('s') else 's'} are " \
                f"{', '.join(sorted(table))}"  # nothing close: what exists
            self.diags.append(diag(v.span or span, M.UNKNOWN_VALUE, kind=kind, name=v.name, hint=hint))
            raise Reported
        pos = list(v.args) if isinstance(v, FCall) else []
        kw = list(v.kwargs) if isinstance(v, FCall) else []
        bound = self.bind(f"{kind} '{entry.name}'", entry.args, pos, kw, v.span or span)
        if bound is ERR:
            raise Reported
        return ir.Ref(kind, entry.name, tuple(bound.items()), "" if v.name == entry.name else v.name)


def _has_err(v) -> bool:
    """An ERR inside a value (a bad literal in a tuple, `(1e999, 2)`) is already reported.
    (An explicit stack: a list may nest 10,000 deep.)"""
    todo = [v]
    while todo:
        x = todo.pop()
        if x is ERR:
            return True
        if isinstance(x, (list, tuple)):
            todo.extend(x)
    return False


def _unknown(name: str) -> bool:
    return name not in LAYERS and not any(name in table for table in REGISTRIES.values())


def _float_made_int(v, out):
    """The first float of ``v`` made by arithmetic that coercion turned into an integer of ``out``
    (any integral one, when ``out`` is None: the coercion refused ``v``), or None."""
    todo = [(v, out)]
    while todo:
        a, b = todo.pop()
        if isinstance(a, Computed) and (isinstance(b, int) or (b is None and a.is_integer())):
            return a
        if isinstance(a, (list, tuple)) and b is None:
            todo.extend((x, None) for x in a)
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
            todo.extend(zip(a, b))
    return None


def _takes_symbols(typ) -> bool:
    inner = getattr(typ, "inner", typ)
    return hasattr(inner, "kind") or hasattr(typ, "kind")
