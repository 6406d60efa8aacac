"""Naming and escaping for generated modules, shared by the Keras and torch backends.

Every name and value a spec supplies reaches generated source through one of
these three functions, so no spec can inject code: identifiers are reduced to
ASCII letters, digits and ``_`` and kept clear of keywords and builtins; values
are written as Python literals built from ``repr``; the header escapes the spec
file's name before it enters a docstring.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
from dataclasses import dataclass, field
from pathlib import PurePath

from . import __version__
from .diagnostics import one_line
from .pyformat import quote

_NOT_WORD = re.compile(r"[^0-9A-Za-z_]+")
# keywords (soft ones like `match` are valid names) and builtins without the underscored ones: ``_`` is in builtins only in an interactive session,
# and the generated code must not depend on where it was generated
_AVOID = frozenset(keyword.kwlist) | frozenset(
    n for n in dir(builtins) if not n.startswith("_"))


def safe_identifier(name: str, taken: set) -> str:
    """A readable ASCII identifier for ``name``, unique in ``taken`` (which it updates).

    Runs of characters outside ``[A-Za-z0-9_]`` become one ``_``; a leading digit gets a
    ``_`` before it; keywords and builtins get a ``_`` after them; a name
    already taken gets ``_2``, ``_3``, ... (ASCII only, because Python folds
    non-ASCII identifiers by NFKC and two spec names could become one). A name starting with two
    underscores loses its leading and trailing ones: ``__debug__`` cannot be assigned (a
    SyntaxError), ``__class__`` in a method hides the class cell, and ``__x`` is name-mangled
    inside a class body.

    >>> taken = {"dense"}
    >>> safe_identifier("class", taken), safe_identifier("dense", taken), safe_identifier("1x'y", taken)
    ('class_', 'dense_2', '_1x_y')
    >>> safe_identifier("__debug__", set()), safe_identifier("__class__", set())
    ('debug', 'class_')
    """
    base = _NOT_WORD.sub("_", name)
    if base != name or base.startswith("__"):  # "x'); import os #" -> "x_import_os", not "__"
        base = base.strip("_") or "_"
    if base[0].isdigit():
        base = "_" + base
    if base in _AVOID:
        base += "_"
    out, k = base, 1
    while out in taken:
        k += 1
        out = f"{base}_{k}"
    taken.add(out)
    return out


class Namer:
    """Unique, readable identifiers keyed by IR object, as torch.fx's ``_Namespace.create_name``.

    The first request for an object fixes its name; later requests return the same name whatever
    candidate they bring, so a tensor used on several lines has one name. ``reserved`` holds the
    names the module itself uses (``self``, ``torch``, ``layers``...), which no spec name may take.

    >>> n = Namer(reserved={"self"})
    >>> a, b = object(), object()
    >>> n.name(a, "seq"), n.name(b, "seq"), n.name(a, "other"), n.name(object(), "self")
    ('seq', 'seq_2', 'seq', 'self_2')
    """

    def __init__(self, reserved=()):
        self._taken: set = set(reserved)
        self._names: dict = {}  # id(obj) -> name
        self._objs: list = []  # keeps each named object alive, so its id is never reused

    def name(self, obj, candidate: str) -> str:
        key = id(obj)
        if key not in self._names:
            self._names[key] = safe_identifier(candidate, self._taken)
            self._objs.append(obj)
        return self._names[key]

    def __contains__(self, obj) -> bool:
        return id(obj) in self._names


@dataclass
class GeneratedModule:
    """What a backend's ``build_source`` returns (torch.fx's ``PythonCode``): the source, the name
    each IR tensor has in it (``equiv`` reads this instead of guessing), and the IR node behind each
    generated line (1-based line number -> ``ir.Node``), so a difference found at run time is traced
    back to the spec line that made it."""

    source: str
    tensor_names: dict = field(default_factory=dict)  # id(ir.Tensor) -> identifier in the module
    line_nodes: dict = field(default_factory=dict)  # line number -> ir.Node

    def name_of(self, tensor) -> str:
        return self.tensor_names[id(tensor)]


def py_literal(value) -> str:
    """Python source for a plain value (None, bool, int, float, str, tuple, list, dict), built from ``repr``.

    Strings take black's double quotes (``pyformat.quote``); non-finite floats become
    ``float("inf")``-style calls, because ``repr`` gives ``inf``, which is not a literal; any other
    type is a TypeError rather than a guess.

    >>> print(py_literal({"a": (1, 2.5, None)}), py_literal("x'); import os #"))
    {"a": (1, 2.5, None)} "x'); import os #"
    """
    if isinstance(value, str):
        return quote(value)
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f'float("{value}")'
    if isinstance(value, tuple):
        items = [py_literal(v) for v in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a Python literal")


def header(model, backend: str) -> str:
    """The module docstring of a generated file: the spec file's base name and spec2net's version.

    >>> class M: name, file = "mlp", "examples/mlp.net"
    >>> header(M, "keras").splitlines()[0][3:]  # after the opening quotes
    'The model `mlp` as a Keras 3 functional model.'
    """
    framework = {"keras": "a Keras 3 functional model", "torch": "a PyTorch module"}[backend]
    spec = spec_file_name(model.file)
    text = (f"The model `{model.name}` as {framework}.\n\n"
            f"Generated by spec2net {__version__} from {spec}; regenerate it rather than edit it:\n"
            f"    spec2net build {spec} --backend {backend}\n")
    return '"""' + doc_text(text) + '"""'


def spec_file_name(file) -> str:
    """The spec file's base name with every non-printable character written as an escape (for
    docstrings, after ``doc_text``): ``spec_file_name("dir/a\nb.net") == "a\\nb.net"``."""
    return one_line(PurePath(str(file)).name)


def doc_text(text: str) -> str:
    r"""``text`` made safe inside a triple-quoted docstring: backslashes and double quotes escaped,
    non-printable characters (newlines aside) written as escapes, so nothing can close the string.

    >>> print(doc_text('a' + '"' * 3 + 'b' + chr(92) + chr(0x2028)))
    a\"\"\"b\\\u2028
    """
    out = []
    for c in text:
        if c in '\\"':
            out.append("\\" + c)
        elif c == "\n" or c.isprintable():
            out.append(c)
        else:
            out.append(repr(c)[1:-1])  # "\\x85", "\\u2028": an escape, never a raw line break
    return "".join(out)


def comment_text(text: str) -> str:
    """``text`` safe for one ``#`` comment: no line breaks or other non-printables survive.

    >>> comment_text("x = Dense(8)\\r\\nimport os")
    'x = Dense(8)  import os'
    """
    return "".join(c if c.isprintable() else " " for c in text).rstrip()
