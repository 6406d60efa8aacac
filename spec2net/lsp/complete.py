"""Completion: what may be written at the cursor, from the registry and the names in scope.

The context comes from the text before the cursor (it is usually mid-edit, so no parse of it):
a scan that skips strings and comments tracks the open brackets, the callee of each '(' and
the ``key =`` before a value. Then: a call's argument position offers its argument names with
their defaults and the names in scope; ``activation=`` offers activations (every argument
typed by a registry kind offers that kind); `compile`'s ``optimizer =``, ``loss =`` and
``metrics = [`` offer optimizers, losses and metrics; ``input x:`` offers dtypes; elsewhere
layers, merge functions, defs, tensors and lets in scope, and keywords.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import syntax as S
from ..builder import DTYPES, MERGE_FUNCS, UNIVERSAL
from ..compile_check import COMPILE_KEYS, FIT_ARGS
from ..registry import LAYERS, REGISTRIES, LayerDef
from ..registry.types import REQUIRED, Bool, Func, Optional
from ..values import LayerValue
from . import describe
from .analysis import Analysis, tensors_of
from .navigate import KEYWORDS

# what a `compile` or `fit` key takes, by registry kind
SECTION_KINDS = {("compile", "optimizer"): "optimizer", ("compile", "loss"): "loss",
                 ("compile", "metrics"): "metric", ("fit", "callbacks"): "callback"}
SECTION_KEYS = {"compile": COMPILE_KEYS, "fit": tuple(a.name for a in FIT_ARGS)}


@dataclass
class Open:
    char: str  # ( [ {
    callee: str  # the name before a '(' ('' if none)
    key: str  # the `key =` that this bracket is the value of ('' if none)
    head: list  # the words of the statement before a '{' (["model", "m"], ["compile"])
    line: int


@dataclass
class Context:
    word: str = ""  # the part of a name before the cursor
    stack: list = field(default_factory=list)
    key: str = ""  # `key =` right before the word
    last: str = ""  # the last token before the word: "(" "," "=" ":" ... or a name
    words: list = field(default_factory=list)  # the statement's words so far, at this bracket level


def context(text: str, offset: int) -> Context:
    """The cursor's context in ``text[:offset]``."""
    c = Context()
    i, line, n = 0, 1, offset
    prev_word = ""
    while i < n:
        ch = text[i]
        if ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 or j > n else j
            continue
        if ch == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            i, c.last = j + 1, "string"
            continue
        if ch.isalnum() or ch == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            prev_word = text[i:j]
            if j == n:  # the word at the cursor
                c.word = prev_word
                break
            c.words.append(prev_word)
            c.last, i = prev_word, j
            continue
        if ch in "([{":
            callee = c.last if ch == "(" and c.last and (c.last[0].isalpha() or c.last[0] == "_") else ""
            c.stack.append(Open(ch, callee, c.key, list(c.words), line))
            c.key, c.words, c.last = "", [], ch
        elif ch in ")]}":
            if c.stack:
                c.stack.pop()
            c.key, c.words, c.last = "", [], ch
        elif ch == "=" and text[i + 1:i + 2] != ">" and c.last not in ("=", "<", ">", "!"):
            c.key = c.last if c.last and (c.last[0].isalpha() or c.last[0] == "_") else ""
            c.last = "="
        elif ch == "," or ch == ";" or (ch == "\n" and (not c.stack or c.stack[-1].char == "{")):
            c.key, c.words, c.last = "", [], "," if ch == "," else "\n"
        elif ch == "\n":
            pass
        elif not ch.isspace():
            c.last = ch
        if ch == "\n":
            line += 1
        i += 1
    return c


def complete(a: Analysis, text: str, offset: int, line: int) -> list[dict]:
    """Completion items at ``offset`` (on ``line``, 1-based), each a dict: label, kind, detail,
    documentation, insert."""
    c = context(text, offset)
    inner = c.stack[-1] if c.stack else None
    block = c.stack[0] if c.stack and c.stack[0].char == "{" else None
    section = inner.head[0] if inner and inner.char == "{" and inner.head and inner.head[0] in SECTION_KEYS else ""
    if c.words[:1] == ["input"] and c.last == ":":
        return [_item(d, "type", "dtype") for d in DTYPES]
    if c.last == "=" and c.key:
        where = inner.head[0] if section else (inner.callee if inner and inner.char == "(" else "")
        return _values(a, where, c.key, bool(section), line, block)
    if inner and inner.char in "[{" and inner.key and len(c.stack) >= 2:
        outer = c.stack[-2]
        if outer.char == "{" and outer.head and outer.head[0] in SECTION_KEYS:  # metrics = [acc, |
            return _values(a, outer.head[0], inner.key, True, line, block)
        if outer.char == "(":
            return _values(a, outer.callee, inner.key, False, line, block)
    if section and c.last in ("{", "\n", ",", ""):
        return [_item(k, "property", f"`{section}` key", insert=f"{k} = ") for k in SECTION_KEYS[section]]
    items = []
    if inner and inner.char == "(" and c.last in ("(", ","):
        items += _arguments(a, inner.callee)
    return items + _names(a, line, block)


def _values(a, where, key, section, line, block) -> list[dict]:
    """What ``key =`` takes: a registry kind's names, the words of a choice, true/false."""
    if section:
        kind = SECTION_KINDS.get((where, key))
        if kind:
            return _kind(kind)
        if key == "shuffle":
            return [_item(w, "value", "bool") for w in ("true", "false")]
        return _names(a, line, block)
    arg = _arg(where, key)
    if arg is None:
        return _names(a, line, block)
    typ, out = arg.type, []
    if isinstance(typ, Optional):
        out.append(_item("none", "value", "none"))
        typ = typ.inner
    if isinstance(typ, Func) or getattr(typ, "kind", "") in REGISTRIES:
        return out + _kind(typ.kind)
    if isinstance(typ, Bool):
        return out + [_item(w, "value", "bool") for w in ("true", "false")]
    if getattr(typ, "words", ()):
        return out + [_item(w, "value", f"{where}'s {key}") for w in typ.words]
    if type(typ).__name__ == "LayerArg":
        return out + _layers()
    return out + _names(a, line, block)


def _arg(callee: str, key: str):
    defn = describe.callee_entry(callee)
    if defn is None:
        return None
    return next((x for x in defn.args if x.name == key or key in x.aliases), None)


def _kind(kind: str) -> list[dict]:
    out = []
    for name, entry in REGISTRIES[kind].items():
        alias = f" (alias of {entry.name})" if name != entry.name else ""
        out.append(_item(name, "function", f"{kind}{alias}", describe.signature(entry) if entry.args else ""))
    return out


def _arguments(a, callee: str) -> list[dict]:
    """``units=`` and the like: a layer's or function's arguments with their defaults, a def's parameters."""
    defn = describe.callee_entry(callee)
    out = []
    if defn is not None:
        names = [(x.name, "required" if x.default is REQUIRED else f"= {describe.spec_value(x.default)}")
                 for x in defn.args]
        if isinstance(defn, LayerDef):
            names += [(k, "every layer") for k in UNIVERSAL if k not in {x.name for x in defn.args}]
        out = [_item(f"{k}=", "argument", detail, insert=f"{k}=", filter=k) for k, detail in names]
    elif a.tree is not None:
        for item in a.tree.items:
            if isinstance(item, S.Def) and item.name == callee:
                out = [_item(f"{p}=", "argument", f"def {callee}", insert=f"{p}=", filter=p)
                       for p, _s, _d in item.params]
    return out


def _layers() -> list[dict]:
    return [_item(name, "class", describe.signature(defn), _layer_doc(name, defn)) for name, defn in LAYERS.items()]


def _layer_doc(name, defn) -> str:
    alias = f"alias of {defn.name}; " if name != defn.name else ""
    return f"{alias}Keras's `keras.layers.{defn.name}`"


def _names(a: Analysis, line: int, block) -> list[dict]:
    """Layers, merge functions, defs, the bindings in scope and keywords."""
    items = _layers()
    items += [_item(name, "function", f"{name}(inputs, ...)", f"merge: {d.name}") for name, d in MERGE_FUNCS.items()]
    scope = None
    if block is not None and a.tree is not None:
        kind = "def" if block.head[:1] == ["def"] else "model"
        name = block.head[1] if len(block.head) > 1 else ""
        scope = a.index.scope_named(kind, name)
    for o in a.index.visible(scope, line):
        v = a.record.values.get((o.span.line, o.span.col))
        if o.what == "let":
            v = a.record.lets.get(o.name)
            items.append(_item(o.name, "constant", f"let = {describe.spec_value(v)}"))
        elif o.what == "def":
            items.append(_item(o.name, "function", "def"))
        elif o.what == "model":
            continue
        elif isinstance(v, LayerValue):
            items.append(_item(o.name, "class", f"{v.layer.type} '{v.layer.name}'"))
        else:
            ts = tensors_of(v)
            detail = ", ".join(describe.tensor_type(t) for t in ts) if ts else o.what
            items.append(_item(o.name, "variable", detail))
    items += [_item(k, "keyword", "keyword") for k in KEYWORDS]
    return items


def _item(label, kind, detail, documentation="", insert=None, filter=None) -> dict:
    return {"label": label, "kind": kind, "detail": detail, "documentation": documentation,
            "insert": insert or label, "filter": filter or label}
