"""The formatter's view of a file: every token, comments included, grouped into statements and
blocks, with the comments and blank lines that belong to each.

The tokens come from the parser's own lexer (``spec2net.lexer.FastLexer``, built from the same
grammar) with comments no longer ignored, so a token here is exactly a token there. Statements
end where ``SepPostLex`` ends them: at ``;`` or a newline outside free brackets.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace

from ..lexer import DICT_AFTER, OPENERS, FastLexer

# A statement that starts with one of these opens a block at its first '{' outside brackets
# (`model m {`, `compile {`, `def f(x) {`); any other '{' is a dict's.
BLOCK_KEYWORDS = frozenset({"MODEL", "SEQUENTIAL", "DEF", "COMPILE", "FIT"})


@dataclass
class Comment:
    text: str
    blank: bool  # a blank line stands before it in the source


@dataclass
class Stmt:
    """One statement: its tokens (with the comments inside its brackets), the own-line comments
    before it, the comment after it on its last line, and the block it opens, if any."""

    tokens: list
    leading: list = field(default_factory=list)
    blank: bool = False  # a blank line right before its first token
    trailing: str | None = None  # for a block statement: the comment after its '}'
    block: Block | None = None


@dataclass
class Block:
    """The statements between a block's braces (or of the whole file)."""

    body: list = field(default_factory=list)
    end: list = field(default_factory=list)  # comments after the last statement
    open_line: int = 0
    close_line: int = 0
    open_trailing: str | None = None  # the comment after '{'


@lru_cache(maxsize=1)
def _lexer() -> FastLexer:
    from ..parser import Parser

    conf = copy.copy(Parser().lark.lexer_conf)
    conf.ignore = tuple(t for t in conf.ignore if t != "COMMENT")
    return FastLexer(conf)


def lex(text: str) -> list:
    """Every token of ``text`` but blanks: the parser's tokens, ``_NL`` and ``COMMENT`` ones."""
    state = SimpleNamespace(text=SimpleNamespace(text=text))
    return list(_lexer().lex(state, None))


def comments(tokens: list) -> list[str]:
    """The comments' texts, in order (what the formatter must keep)."""
    return [clean(t) for t in tokens if t.type == "COMMENT"]


def clean(tok) -> str:
    return str(tok).rstrip()  # a CRLF file's comment ends in '\r'


def structure(tokens: list) -> Block:
    """The file as nested blocks of statements; ``tokens`` come from a file that parses."""
    root = Block()
    blocks: list[tuple[Block, Stmt | None]] = [(root, None)]  # open blocks and their headers
    cur: Stmt | None = None  # the statement being read
    brackets: list[bool] = []  # open brackets of the statement: whether newlines are free inside
    pending: list[Comment] = []  # own-line comments waiting for the next statement
    last_line = 0  # the line of the last token read
    last = None  # what a comment on last_line trails: a Stmt ended on it, or a Block opened on it
    prev = None  # the last token but newlines and comments, as SepPostLex sees them

    def end():
        nonlocal cur, last
        if cur is not None:
            blocks[-1][0].body.append(cur)
            last, cur = cur, None

    for tok in tokens:
        kind = tok.type
        if kind == "_NL":
            if not (brackets and brackets[-1]):
                end()
            continue
        gap = tok.line - last_line > 1
        if brackets:  # inside brackets: the statement's own business, comments included
            cur.tokens.append(tok)
            if kind != "COMMENT":
                track_brackets(brackets, tok, prev)
        elif kind == "COMMENT":
            if cur is not None:  # after a statement on its line (a newline would have ended it)
                cur.trailing = clean(tok)
            elif last is not None and last_line == tok.line and _trailing(last) is None:
                if isinstance(last, Block):
                    last.open_trailing = clean(tok)
                else:
                    last.trailing = clean(tok)
            else:
                pending.append(Comment(clean(tok), gap))
        elif kind == "SEMI":
            if cur is None and tok.line != last_line:  # a `;` alone on its line: a comment after it trails nothing
                last = None
            end()
        elif kind == "LBRACE" and cur is not None and cur.tokens[0].type in BLOCK_KEYWORDS and cur.block is None:
            cur.block = Block(open_line=tok.line)
            blocks[-1][0].body.append(cur)
            blocks.append((cur.block, cur))
            last, cur = cur.block, None
        elif kind == "RBRACE":  # at statement level: a dict's '}' would be inside brackets
            end()
            block, header = blocks.pop()
            block.end, pending = pending, []
            block.close_line = tok.line
            last = header
        else:
            if cur is None:
                cur = Stmt([], pending, gap)
                pending = []
            cur.tokens.append(tok)
            track_brackets(brackets, tok, prev)
        last_line = tok.line
        if kind not in ("COMMENT", "SEMI"):
            prev = tok
    end()
    root.end = pending
    return root


def _trailing(last) -> str | None:
    return last.open_trailing if isinstance(last, Block) else last.trailing


def track_brackets(brackets: list, tok, prev) -> None:
    """Opens and closes brackets as SepPostLex does: a '{' after '=', ':', '(', '[' or ','
    is a dict whose newlines are free; any other '{' inside a statement is not."""
    kind = tok.type
    if kind in OPENERS:
        brackets.append(kind != "LBRACE" or (prev is not None and prev.type in DICT_AFTER))
    elif kind in ("RPAR", "RSQB", "RBRACE") and brackets:
        brackets.pop()
