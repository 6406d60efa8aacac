"""Text -> AST. Lark LALR with the lexer and post-lexer of ``lexer.py``, and the
AST built by an inline transformer while parsing (no tree, no recursion, so
depth never raises RecursionError). Syntax errors become plain-word
Diagnostics (``syntax_errors.py``); a Lark exception never reaches the user."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput

from . import literals
from . import messages as M
from . import syntax as S
from .diagnostics import Diagnostic, Span, diag, from_problem
from .lexer import FastLexer, SepPostLex
from .syntax_errors import explain
from .values import ERR

PYTHON_LITERALS = {"True": "true", "False": "false", "None": "none (or ? for a dimension known only at run time)"}


# Binary operators by precedence, Python's; unary minus (NEG) binds below ** and above the rest.
PRECEDENCE = {"PLUS": 1, "MINUS": 1, "STAR": 2, "SLASH": 2, "DSLASH": 2, "PERCENT": 2, "POW": 4}
NEG = 3


def _span_of(file: str, first, last=None) -> Span:
    a = first.span if isinstance(first, S.Node) else _tok_span(file, first)
    if last is None or last is first:
        return a
    b = last.span if isinstance(last, S.Node) else _tok_span(file, last)
    return Span(file, a.line, a.col, b.end_line, b.end_col)


def _tok_span(file: str, tok: Token) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line, tok.end_column)


class _Build(Transformer):
    """Callbacks run at each LALR reduction; ``self.file`` names the source."""

    file = "<spec>"
    numbers: dict  # id(Const) -> (token, its literal error or None), for neg(): `-5` stays one literal
    problems: list  # errors in literals, found while parsing; they do not stop the parse
    postlex: SepPostLex  # the last tokens read, for the spans of keyword literals

    def _s(self, first, last=None):
        return _span_of(self.file, first, last)

    # expressions
    def name(self, c):
        span = _tok_span(self.file, c[0])
        if c[0] in PYTHON_LITERALS:  # Keras's True/False/None: an error that names the spec's spelling
            self.problems.append(diag(span, M.PYTHON_LITERAL, name=str(c[0]), spec=PYTHON_LITERALS[c[0]]))
            return S.Const(span, ERR)  # ERR: the value's uses stay quiet
        return S.Name(span, str(c[0]))

    def number(self, c):
        before = len(self.problems)
        const = S.Const(_tok_span(self.file, c[0]), self._literal(literals.number, c[0]))
        if len(self.numbers) > 4096:  # a minus comes within its run of arithmetic: only recent ones matter
            self.numbers.clear()
        self.numbers[id(const)] = (c[0], self.problems[-1] if len(self.problems) > before else None)
        return const

    def arith(self, c):
        """Operands and operator tokens in a flat run -> BinOp/Neg nodes by Python's precedence
        (shunting-yard, with explicit stacks: a run may be 20,000 long)."""
        out, ops, operand_next = [], [], True  # ops: (precedence, token); a minus before an operand is unary
        for x in c:
            if not isinstance(x, Token):
                out.append(x)
                operand_next = False
            elif operand_next:
                ops.append((NEG, x))
            else:
                p = PRECEDENCE[x.type]
                while ops and (ops[-1][0] > p or (ops[-1][0] == p and x.type != "POW")):
                    self._reduce(out, ops.pop())
                ops.append((p, x))
                operand_next = True
        while ops:
            self._reduce(out, ops.pop())
        return out[0]

    def _reduce(self, out, op):
        precedence, tok = op
        if precedence == NEG:
            out.append(self.neg([tok, out.pop()]))
        else:
            right, left = out.pop(), out.pop()
            out.append(S.BinOp(self._s(left, right), str(tok), left, right, _tok_span(self.file, tok)))

    def neg(self, c):
        minus, operand = c
        span = self._s(minus, operand)
        tok, problem = self.numbers.get(id(operand), (None, None))
        if tok is not None and minus.end_pos == tok.start_pos:
            # `-5` is the literal -5 (as in 0.1, where the sign was part of the number), so
            # `-9223372036854775807` and `-1e999` are judged and reported as written.
            if problem is not None:
                self.problems.remove(problem)
            return S.Const(span, self._literal(literals.number, "-" + tok, span))
        return S.Neg(span, operand)

    def string(self, c):
        return S.Const(_tok_span(self.file, c[0]), self._literal(literals.string, c[0]))

    def _literal(self, convert, tok, span=None):
        """The literal's value; if it has none (1e999, "\\q"), ERR and an error for the checker to report."""
        try:
            return convert(str(tok))
        except literals.LiteralError as e:
            self.problems.append(from_problem(span or _tok_span(self.file, tok), e))
            return ERR

    def true(self, c):
        return S.Const(self._fake("TRUE"), True)

    def false(self, c):
        return S.Const(self._fake("FALSE"), False)

    def none(self, c):
        return S.Const(self._fake("NONE"), None)

    def unknown(self, c):
        return S.Unknown(self._fake("QMARK"))

    def _fake(self, kind=None):
        # Keyword literals are filtered from the children. LALR reduces one once it has read the
        # next token, so the literal is usually the token before the last (the last at the end).
        tok, before = self.postlex.last, self.postlex.before
        if kind is not None and tok.type != kind and before is not None and before.type == kind:
            tok = before
        return Span(self.file, tok.line, tok.column, tok.end_line, tok.end_column)

    def list(self, c):
        items = [x for x in c if x is not None]
        return S.ListExpr(self._s(items[0], items[-1]) if items else self._fake(), items)

    def tuple(self, c):
        items = [x for x in c if x is not None]
        return S.TupleExpr(self._s(items[0], items[-1]), items)

    def dict(self, c):
        pairs = [x for x in c if x is not None]
        span = Span(self.file, pairs[0][1].line, pairs[0][1].col) if pairs else self._fake()
        return S.DictExpr(span, pairs)

    def pair(self, c):
        key = c[0]
        text = self._literal(literals.string, key) if key.type == "STRING" else str(key)
        text = str(key)[1:-1] if text is ERR else text
        return (text, _tok_span(self.file, key), c[1])

    def kwarg(self, c):
        return ("kw", str(c[0]), _tok_span(self.file, c[0]), c[1])

    def call(self, c):
        func, rest = c[0], [x for x in c[1:] if x is not None]
        # Tuples, not lists: most calls have no keywords (the empty tuple is shared), and a tuple
        # of untracked values leaves the GC's watch, so a long spec's AST costs each collection less.
        args = tuple(a for a in rest if not (isinstance(a, tuple) and a and a[0] == "kw"))
        kwargs = tuple(a[1:] for a in rest if isinstance(a, tuple) and a and a[0] == "kw")
        return S.Call(self._s(func), func, args, kwargs)

    def chain(self, c):
        stages = [x for x in c if not isinstance(x, Token)]
        return S.Chain(self._s(stages[0], stages[-1]), stages)

    # statements
    def tensor_type(self, c):
        dtype_tok = c[0]
        dims = [x for x in c[1:] if x is not None]
        return (str(dtype_tok) if dtype_tok else None, _tok_span(self.file, dtype_tok) if dtype_tok else None, dims)

    def input_stmt(self, c):
        name_tok, (dtype, dspan, dims) = c
        anchor = name_tok if name_tok is not None else None
        span = _tok_span(self.file, anchor) if anchor else (dspan or (dims[0].span if dims else self._fake()))
        return S.Input(span, str(name_tok) if name_tok else None, dtype, dspan, dims)

    def assign(self, c):
        targets = tuple((str(t), _tok_span(self.file, t)) for t in c[:-1])
        return S.Assign(self._s(c[0], c[-1]), targets, c[-1])

    def output_stmt(self, c):
        return S.Output(_tok_span(self.file, c[0]), str(c[0]), c[1])

    def return_stmt(self, c):
        return S.Return(c[0].span, c[0])

    def section_kind(self, c):
        return c[0]

    def section(self, c):
        kind = c[0]
        return S.Section(_tok_span(self.file, kind), str(kind), [x for x in c[1:] if x is not None])

    def entry(self, c):
        return (str(c[0]), _tok_span(self.file, c[0]), c[1])

    def expr_stmt(self, c):
        return S.ExprStmt(c[0].span, c[0])

    # top level
    def let_stmt(self, c):
        return S.Let(_tok_span(self.file, c[0]), str(c[0]), c[1])

    def model_kind(self, c):
        return c[0]

    def model(self, c):
        kind, name = c[0], c[1]
        return S.Model(_tok_span(self.file, kind), str(kind), str(name), c[2:], _tok_span(self.file, name))

    def param(self, c):
        return (str(c[0]), _tok_span(self.file, c[0]), c[1])

    def def_block(self, c):
        name = c[0]
        params, body = [], []
        for x in c[1:]:
            if isinstance(x, tuple):
                params.append(x)
            elif x is not None:
                body.append(x)
        return S.Def(_tok_span(self.file, name), str(name), params, body)

    def start(self, c):
        return S.File(Span(self.file, 1, 1), list(c))


@lru_cache(maxsize=1)
def _grammar() -> str:
    return resources.files("spec2net.grammar").joinpath("spec2net.lark").read_text(encoding="utf-8")


class Parser:
    def __init__(self):
        self.builder = _Build()
        self.postlex = self.builder.postlex = SepPostLex()
        self.lark = Lark(_grammar(), parser="lalr", lexer=FastLexer, postlex=self.postlex,
                         transformer=self.builder, maybe_placeholders=True, cache=False)

    def parse(self, text: str, file: str) -> tuple[S.File | None, list[Diagnostic]]:
        self.builder.file, self.builder.problems, self.builder.numbers = file, [], {}
        try:
            return self.lark.parse(text), []
        except UnexpectedInput as err:
            return None, [explain(err, file, self.postlex, text)]


_PARSER: Parser | None = None


MAX_SYNTAX_ERRORS = 20


def parse(text: str, file: str = "<spec>") -> tuple[S.File | None, list[Diagnostic]]:
    """Parse spec text: ``parse('model m { input a: [4]; output a }')``.

    After a syntax error on a line that stands alone (its brackets balanced, inside no
    open ``(`` or ``[``, opening or closing no block), that line is blanked and the text
    parsed again, so independent mistakes on several lines are all reported; any other
    error ends the search, since guessing past it would report errors that are not there.

    Without a syntax error the tree comes back with the errors of its literals (``1e999``,
    ``"\\q"``, whose values are ERR in the tree), for the checker to report with its own.
    """
    global _PARSER
    if _PARSER is None:
        _PARSER = Parser()
    tree, diags = _PARSER.parse(text, file)
    if tree is not None:
        return tree, list(_PARSER.builder.problems)
    found = list(diags)
    while diags and len(found) < MAX_SYNTAX_ERRORS:
        line = diags[0].span.line
        lines = text.split("\n")
        if not _stands_alone(lines, line):
            break
        lines[line - 1] = " " * len(lines[line - 1])
        text = "\n".join(lines)
        _, diags = _PARSER.parse(text, file)
        if diags and diags[0].span.line <= line:
            break  # no progress: the rest would be guesses
        found += diags
    return None, found


def _depths(line: str) -> tuple[int, int]:
    """How one line changes the '(' + '[' depth and the '{' depth, strings and comments skipped."""
    paren = brace = 0
    in_str, i = False, 0
    while i < len(line):
        ch = line[i]
        if in_str:
            in_str = ch != '"'
            i += 2 if ch == "\\" else 1
            continue
        if ch == "#":
            break
        in_str = ch == '"'
        paren += (ch in "([") - (ch in ")]")
        brace += (ch == "{") - (ch == "}")
        i += 1
    return paren, brace


def _stands_alone(lines: list[str], line: int) -> bool:
    if not 1 <= line <= len(lines):
        return False
    before = sum(_depths(text)[0] for text in lines[: line - 1])
    return before == 0 and _depths(lines[line - 1]) == (0, 0)
