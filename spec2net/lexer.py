"""The lexer side of the parser: one compiled regex for the grammar's terminals, and a
post-lexer that turns newlines and ';' into statement separators."""

from __future__ import annotations

import re

from lark import Token
from lark.exceptions import UnexpectedCharacters
from lark.lexer import Lexer

OPENERS = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
CLOSERS = {v: k for k, v in OPENERS.items()}
# A '{' after one of these opens a dict (newlines inside are free); after
# anything else it opens a block, whose newlines end statements.
DICT_AFTER = {"EQUAL", "COLON", "LPAR", "LSQB", "COMMA"}


class SepPostLex:
    """Turns newlines and ';' into _SEP tokens where they end a statement.

    It also remembers the last two tokens handed to the parser (``before``, ``last``), for the
    spans of keyword literals, which the grammar filters out of the tree.
    """

    always_accept = ("_NL", "SEMI")

    def __init__(self):
        self.stack: list[tuple[str, Token, bool]] = []  # (opener type, token, newlines free)
        self.before = self.last = None

    def process(self, stream):
        self.stack = []
        self.before = self.last = None
        pending = None  # a separator waiting to see whether '}' or the end follows
        prev = None
        for tok in stream:
            if tok.type in ("_NL", "SEMI"):
                if tok.type == "_NL" and self.stack and self.stack[-1][2]:
                    continue
                if prev is not None and prev.type not in ("_SEP", "LBRACE") and pending is None:
                    pending = Token.new_borrow_pos("_SEP", tok.value, tok)
                continue
            if pending is not None and tok.type != "RBRACE":
                self.before, self.last = self.last, pending
                yield pending
            pending = None
            if tok.type in OPENERS:
                free = tok.type != "LBRACE" or (prev is not None and prev.type in DICT_AFTER)
                self.stack.append((tok.type, tok, free))
            elif tok.type in CLOSERS and self.stack and self.stack[-1][0] == CLOSERS[tok.type]:
                self.stack.pop()
            prev = tok
            self.before, self.last = self.last, tok
            yield tok


class FastLexer(Lexer):
    """The grammar's terminals as one compiled regex, matched in Lark's own priority order.

    Lark's basic lexer spends most of a long spec's parse time in per-token
    bookkeeping; this one does the same job (keywords via a lookup on NAME,
    lines counted on newline tokens only) at about a third of the cost.
    """

    __future_interface__ = 2

    def __init__(self, conf):
        terms = sorted(conf.terminals, key=lambda t: (-t.priority, -t.pattern.max_width,
                                                       -len(t.pattern.value), t.name))
        regexes = [t for t in terms if t.pattern.type == "re"]
        self.keywords = {}  # string terminals a regex terminal also matches: "let" is a NAME, retyped
        alts = []
        for t in terms:
            if t.pattern.type == "str" and any(re.fullmatch(r.pattern.to_regexp(), t.pattern.value) for r in regexes):
                self.keywords[t.pattern.value] = t.name
            else:
                alts.append(f"(?P<{t.name}>{t.pattern.to_regexp()})")
        self.scanner = re.compile("|".join(alts))
        self.ignore = frozenset(conf.ignore)  # only _NL holds a newline: strings and comments end at one

    def lex(self, lexer_state, parser_state):
        text = lexer_state.text.text
        match, keywords, ignore, new = self.scanner.match, self.keywords, self.ignore, Token._future_new
        pos, line, line_start, end = 0, 1, 0, len(text)
        while pos < end:
            m = match(text, pos)
            if m is None:
                raise UnexpectedCharacters(text, pos, line, pos - line_start + 1, state=parser_state)
            kind, stop = m.lastgroup, m.end()
            if kind not in ignore:
                value = m.group()
                if kind == "NAME":
                    kind = keywords.get(value, kind)
                col = pos - line_start + 1
                yield new(kind, value, pos, line, col, line, col + stop - pos, stop)
            if kind == "_NL":
                line, line_start = line + 1, stop
            pos = stop
