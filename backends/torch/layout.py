"""How the torch module's lines are laid out: statements through ``spec2net.pyformat`` (within
its 99 columns, black's style), comments that fit or are cut, the docstrings that name the spec."""

from __future__ import annotations

import ast

from spec2net import ir
from spec2net.codegen import comment_text, doc_text, header
from spec2net.pyformat import WIDTH, CallExpr, assign, render


def module_header(model: ir.Model, standalone: bool) -> str:
    text = header(model, "torch")
    # the command that regenerates the module, as it was made
    return text.replace(" --backend torch\n", " --backend torch --standalone\n") if standalone else text


def class_doc(name: str, spec: str) -> str:
    modes = "train() and eval() act as Keras's training=True/False."
    doc = f'"""The model `{doc_text(name)}` of {spec}: {modes}"""'
    if 4 + len(doc) <= WIDTH:
        return doc
    return f'"""The model `{doc_text(name)}` of {spec}.\n\n    {modes}"""'


def fit_comment(text: str, indent: int) -> str:
    """``text`` as a comment that ends within the formatter's width (cut with "...")."""
    text = comment_text(text)
    return text if indent + len(text) <= WIDTH else text[: WIDTH - indent - 3] + "..."


def with_comment(line: str, comment: str, indent: int) -> str:
    """``line  # comment`` where that fits in the formatter's width, else the line alone."""
    out = f"{line}  # {comment_text(comment)}"
    return out if indent + len(out) <= WIDTH else line


def init_line(key: str, call: str, name: str) -> str:
    """One entry of initial_weights' dict: with the initializer's name where that fits, else
    the call through the formatter."""
    line = with_comment(f"{key}: {call},", name, 8)
    if 8 + len(line) <= WIDTH:
        return line
    return f"{key}: " + render(_as_expr(call), 8, len(key) + 2, 1) + ","


def _as_expr(source: str):
    """An expression's source as the formatter's CallExpr where it is a call, else as it is."""
    tree = ast.parse(source, mode="eval").body
    if not isinstance(tree, ast.Call):
        return source
    src = lambda node: ast.get_source_segment(source, node)  # the text as written
    args = tuple((None, src(a)) for a in tree.args) + tuple((k.arg, src(k.value)) for k in tree.keywords)
    return CallExpr(src(tree.func), args)


def fit_line(line: str, indent: int) -> str:
    """A statement of the module, through the formatter: as it is where it fits in the width,
    else ``target = f(...)`` (or a bare call) with its arguments one per line, as black does."""
    if indent + len(line) <= WIDTH:
        return line
    code, sep, comment = line.partition("  # ")
    if sep:  # the comment goes on a line of its own, above the statement
        return f"# {comment}\n" + " " * indent + fit_line(code, indent)
    tree = ast.parse(line).body[0]
    if not isinstance(tree, (ast.Assign, ast.Expr)) or not isinstance(tree.value, ast.Call):
        return line
    value = ast.get_source_segment(line, tree.value)
    target = line[: len(line) - len(value)].removesuffix(" = ") if isinstance(tree, ast.Assign) else ""
    return assign(target, _as_expr(value), indent)
