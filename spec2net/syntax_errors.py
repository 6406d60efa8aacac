"""Syntax errors in plain words: Lark's exception -> a Diagnostic that says what was expected and
what was found (an unclosed bracket with where it opened), and for what a Keras script writes by
habit (``layers.Dense``, ``'same'``, ``for``, ``import``, ``def f(x):``), the spec's form."""

from __future__ import annotations

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from . import messages as M
from .diagnostics import Diagnostic, Span, diag
from .lexer import OPENERS, SepPostLex

WHAT = {"LPAR": "call or tuple", "LSQB": "list or shape", "LBRACE": "block"}
READABLE = {
    "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "LSQB": "'['", "RBRACE": "'}'",
    "LBRACE": "'{'", "COMMA": "','", "COLON": "':'", "EQUAL": "'='", "ARROW": "'->'",
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "_SEP": "a new line or ';'",
    "QMARK": "'?'", "$END": "the end of the file", "SEMI": "';'",
}

# Python statements a Keras script is made of, and what a spec writes instead.
PYTHON_WORDS = {
    "import": "needs no imports: layers, functions, losses and optimizers are known by their names",
    "from": "needs no imports: layers, functions, losses and optimizers are known by their names",
    "for": "has no loops: write each layer, or call a def once per repetition",
    "while": "has no loops: write each layer, or call a def once per repetition",
    "if": "has no conditionals: give what varies a `let` and set it with -D",
    "lambda": "has no lambdas or custom layers: the layers and functions of LANGUAGE.md section 7",
}
# Left out of a syntax error's list of what could come next: after any value an operator could,
# and listing seven of them would hide the one the user missed (a ')' or ',').
OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH", "DSLASH", "PERCENT", "POW"}


def explain(err: UnexpectedInput, file: str, postlex: SepPostLex, text: str) -> Diagnostic:
    """The Diagnostic of Lark's syntax error ``err``, in plain words: what was expected, what was
    found, where an unclosed bracket opened; and the spec's form of a Python or Keras habit."""
    line, col = max(err.line, 1), max(err.column, 1)
    if isinstance(err, UnexpectedCharacters):
        span = Span(file, line, col, line, col + 1)
        if err.char == '"':
            return diag(span, M.UNCLOSED_STRING)
        previous = text[err.pos_in_stream - 1] if err.pos_in_stream else ""
        if err.char == "." and (previous.isalnum() or previous in "_)"):  # layers.Dense, model.fit(...)
            return diag(span, M.ATTRIBUTE_ACCESS)
        if err.char == "'":
            return diag(span, M.SINGLE_QUOTE)
        return diag(span, M.UNEXPECTED_CHARACTER, char=repr(err.char))
    tok = getattr(err, "token", None)
    expected = set(getattr(err, "expected", None) or getattr(err, "accepts", None) or ())
    habit = _python_habit(tok, expected, file, postlex)
    if habit is not None:
        return habit
    open_ = postlex.stack[-1] if postlex.stack else None
    if isinstance(err, UnexpectedEOF) or (tok is not None and tok.type == "$END"):
        found = "the end of the file"
        if open_ is not None:
            line, col = _last_line_col(postlex)
    else:
        found = f"{tok.value!r}" if tok.type != "_SEP" else "the end of the line"
        if tok.type != "NAME" and str(tok.value).isidentifier():
            found = f"the keyword {found}"  # `input`, `model`, ... are not names
    closer = OPENERS.get(open_[0]) if open_ else None
    inner = closer in expected and open_[0] != "LBRACE"  # an unclosed ( or [ explains it best
    if not inner and "_SEP" in expected and tok is not None and tok.type not in ("$END", "_SEP"):
        # a complete statement is followed by more on the same line
        message, fields = M.EXPECTED_SEPARATOR, {"found": found}
    elif closer and closer in expected:
        o = open_[1]
        message = M.UNCLOSED_BRACKET
        fields = {"closer": READABLE[closer], "what": WHAT[open_[0]], "line": o.line, "col": o.column,
                  "found": found}
    else:
        names = {READABLE.get(e, repr(e.lower()) if e.isupper() else e) for e in expected - OPERATORS}
        # words ("a name") before punctuation and keywords
        names = sorted((n for n in names if not n.startswith("'_")), key=lambda n: (n.startswith("'"), n))
        want = ", ".join(names[:6]) + (" or ..." if len(names) > 6 else "")
        message = M.UNEXPECTED_TOKEN
        fields = {"found": found.removeprefix("the "), "expected": f"; expected {want}" if want else ""}
    end = col + (len(str(tok.value)) if tok is not None and tok.type not in ("$END", "_SEP") else 1)
    return diag(Span(file, line, col, line, end), message, **fields)


def _python_habit(tok, expected, file, postlex) -> Diagnostic | None:
    """A syntax error that Python's habits explain better: `for`, `import`, `def f(x):`."""
    if tok is None or tok.type == "$END":
        return None
    for word in (tok, postlex.before):  # `import keras` fails at `import`, `for i` at `i`
        if word is not None and word.type == "NAME" and word in PYTHON_WORDS:
            return diag(_tok_span(file, word), M.PYTHON_STATEMENT, word=str(word), instead=PYTHON_WORDS[word])
    before = postlex.before
    if tok.type == "COLON" and "LBRACE" in expected and before is not None and before.type == "RPAR":
        return diag(_tok_span(file, tok), M.DEF_COLON)
    return None


def _last_line_col(postlex: SepPostLex) -> tuple[int, int]:
    last = postlex.last
    return (last.end_line, last.end_column) if last is not None else (1, 1)


def _tok_span(file: str, tok) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line, tok.end_column)
