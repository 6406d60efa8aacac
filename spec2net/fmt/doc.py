"""A statement's tokens -> a layout document -> lines no wider than the limit, when they can be.

The document is Wadler's (as prettier prints it): text, line breaks that are a blank or nothing
when their group fits on the line and a new line when it does not, and groups for the brackets.
A group that does not fit puts each item on its own line with a trailing comma, as black does;
the groups of a line are tried outermost and leftmost first, so ``LSTM(...)(x)`` breaks in its
last call when the first fits. Building and printing keep their own stacks: a spec nested
10,000 deep is formatted without deep recursion.
"""

from __future__ import annotations

from ..lexer import DICT_AFTER

WIDTH = 99  # as black's default, less one
INDENT = 4
# Past this column a group is not broken (unless a comment needs it) and a broken one indents no
# further: breaking helps no more there, and a spec nested 10,000 deep would print gigabytes.
DEEP = 48

# Tokens after which '(' is a call and '-' a binary minus: the ends of a value.
VALUE_END = frozenset({"NAME", "NUMBER", "STRING", "RPAR", "RSQB", "RBRACE", "TRUE", "FALSE", "NONE", "QMARK"})
CLOSERS = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
TIGHT_BEFORE = frozenset({"COMMA", "RPAR", "RSQB", "RBRACE", "COLON"})


class _Line:
    """A line break: ``flat`` is what it prints as when its group fits on the line."""

    __slots__ = ("flat",)

    def __init__(self, flat: str):
        self.flat = flat


SOFT, LINE, HARD = _Line(""), _Line(" "), _Line("\n")  # HARD: always a new line


class Group:
    __slots__ = ("contents", "flat_only", "hard")

    def __init__(self, contents: list, hard: bool = False, flat_only: bool = False):
        self.contents, self.hard, self.flat_only = contents, hard, flat_only


class Indent:
    __slots__ = ("contents",)

    def __init__(self, contents: list):
        self.contents = contents


class IfBreak:
    """``broken`` where its group was broken, ``flat`` where it fits on one line."""

    __slots__ = ("broken", "flat")

    def __init__(self, broken: str, flat: str):
        self.broken, self.flat = broken, flat


class _Frame:
    """An open bracket while its tokens are read: its items, each a list of document parts."""

    __slots__ = (
        "call",
        "carry",
        "comma",
        "end",
        "free",
        "hard",
        "item",
        "items",
        "leading",
        "open",
        "open_comment",
        "trailing",
    )

    def __init__(self, open_tok, free: bool, call: bool):
        self.open, self.free, self.call, self.comma = open_tok, free, call, False
        self.items, self.item, self.leading, self.carry = [], [], [], []
        self.trailing: dict[int, str] = {}
        self.open_comment, self.end, self.hard = None, [], False

    def close_item(self) -> None:
        self.items.append((self.item, self.leading))
        self.item, self.leading, self.carry = [], self.carry, []


def build(tokens: list) -> list:
    """The document of one statement's tokens (comments inside its brackets included)."""
    top = _Frame(None, True, True)
    stack = [top]
    prev = None  # the last token of the current item, for spacing
    last = None  # the last token read, for the line a comment is on
    unary = False  # whether prev is a unary minus
    n = len(tokens)
    for i, tok in enumerate(tokens):
        kind, frame = tok.type, stack[-1]
        if kind == "COMMENT":
            _comment(frame, str(tok).rstrip(), last is not None and last.line == tok.line, last,
                     _next(tokens, i + 1, n))
            continue
        last = tok
        if kind == "COMMA" and frame is not top:
            frame.close_item()
            frame.comma = True
            prev = None
            continue
        if kind in ("RPAR", "RSQB", "RBRACE") and frame is not top:
            stack.pop()
            if frame.item:
                frame.close_item()
            else:  # comments after a trailing comma: before the closer
                frame.end[:0], frame.leading = frame.leading, []
            group = _group(frame, str(tok))
            parent = stack[-1]
            parent.item.append(group)
            parent.hard |= group.hard
            prev, unary = tok, False
            continue
        space = _space(prev, tok, unary, frame is not top)
        if space and not (frame.item and frame.item[-1] is HARD):  # no blank to start a line
            frame.item.append(space)
        if kind in CLOSERS:
            free = kind != "LBRACE" or prev is None or prev.type in DICT_AFTER
            call = kind == "LPAR" and prev is not None and prev.type in VALUE_END
            stack.append(_Frame(tok, free, call))
            prev, unary = None, False
            continue
        frame.item.append(str(tok))
        unary = kind == "MINUS" and (prev is None or prev.type not in VALUE_END)
        prev = tok
    return top.item


def _next(tokens: list, i: int, n: int):
    while i < n and tokens[i].type == "COMMENT":
        i += 1
    return tokens[i] if i < n else None


def _comment(frame: _Frame, text: str, same_line: bool, last, nxt) -> None:
    """Places a comment inside brackets: after the opener, after an item, before an item, before
    the closer, or (rarely) inside an item, where it ends the line and the item goes on."""
    frame.hard = True
    closer = nxt is None or nxt.type in ("RPAR", "RSQB", "RBRACE")
    if frame.item:
        if same_line and (closer or nxt.type == "COMMA"):
            frame.trailing[len(frame.items)] = text
        elif same_line:
            frame.item += ["  " + text, HARD]
        elif closer:
            frame.end.append(text)
        elif nxt.type == "COMMA":
            frame.carry.append(text)
        else:
            frame.item += [text, HARD] if frame.item[-1] is HARD else [HARD, text, HARD]
    elif same_line and last is frame.open:
        frame.open_comment = text
    elif same_line and frame.items and not frame.leading and len(frame.items) - 1 not in frame.trailing:
        frame.trailing[len(frame.items) - 1] = text
    elif closer:
        frame.end.append(text)
    else:
        frame.leading.append(text)


def _space(prev, tok, unary: bool, in_brackets: bool) -> str:
    """The blank before ``tok`` on a line, after ``prev`` (None at the start of an item)."""
    if prev is None:
        return ""
    kind, before = tok.type, prev.type
    if kind in TIGHT_BEFORE:
        return ""
    if unary:  # `-x`, `-5`; `- 5` stays apart: the parser folds only a touching minus into the literal
        return " " if kind == "NUMBER" and prev.end_pos != tok.start_pos else ""
    if kind == "LPAR" and before in VALUE_END:  # a call
        return ""
    if kind == "LSQB" and before == "NAME":  # a dtype's shape: float32[4]
        return ""
    if in_brackets and "EQUAL" in (kind, before):  # a keyword argument or a parameter's default
        return ""
    return " "


def _group(frame: _Frame, close: str) -> Group:
    """The group of a closed bracket: on one line if it fits, else one item per line."""
    items, last, trailing = frame.items, len(frame.items) - 1, frame.trailing
    # `(x,)` is a tuple and `(x)` a value in parentheses: both keep their one item as written.
    single = None if frame.call or frame.open.type != "LPAR" or last != 0 else "," if frame.comma else ""
    if not items and not frame.open_comment and not frame.end:
        return Group([str(frame.open), close])
    inner = ["  " + frame.open_comment] if frame.open_comment else []
    for k, (item, leading) in enumerate(items):
        inner.append(SOFT if k == 0 else LINE)
        for text in leading:
            inner += [text, HARD]
        inner.append(item)
        inner.append("," if k < last else single if single is not None else IfBreak(",", ""))
        if k in trailing:
            inner.append("  " + trailing[k])
    for text in frame.end:
        inner += [HARD, text]
    return Group([str(frame.open), Indent(inner), SOFT, close], hard=frame.hard, flat_only=not frame.free)


# -- printing ------------------------------------------------------------------------------------
_FLAT, _BREAK = 0, 1


def render(doc, indent: int, width: int = WIDTH) -> str:
    """The text of ``doc`` starting at column ``indent`` (the caller writes the indent)."""
    out, pos = [], indent
    stack = [(indent, _BREAK, doc)]
    while stack:
        ind, mode, d = stack.pop()
        if isinstance(d, str):
            out.append(d)
            pos += len(d)
        elif isinstance(d, list):
            stack.extend((ind, mode, x) for x in reversed(d))
        elif isinstance(d, Group):
            if d.flat_only:
                m = _FLAT
            elif d.hard:
                m = _BREAK
            elif mode == _FLAT or ind >= DEEP:
                m = _FLAT
            else:
                m = _FLAT if _fits((ind, _FLAT, d.contents), stack, width - pos) else _BREAK
            stack.append((ind, m, d.contents))
        elif isinstance(d, Indent):
            stack.append((ind + INDENT if ind < DEEP else ind, mode, d.contents))
        elif isinstance(d, IfBreak):
            stack.append((ind, mode, d.broken if mode == _BREAK else d.flat))
        elif mode == _BREAK or d is HARD:
            out.append("\n" + " " * ind)
            pos = ind
        else:
            out.append(d.flat)
            pos += len(d.flat)
    return "\n".join(line.rstrip() for line in "".join(out).split("\n"))


def flat(doc) -> str:
    """``doc`` on one line (its caller knows it has no comments)."""
    return render(Group([doc]), 0, width=1 << 62)


def _fits(first, rest: list, width: int) -> bool:
    """Whether ``first`` and what follows it, up to the next line break, fits in ``width``."""
    cmds, k = [first], len(rest)
    while width >= 0:
        if not cmds:
            if k == 0:
                return True
            k -= 1
            cmds.append(rest[k])
            continue
        ind, mode, d = cmds.pop()
        if isinstance(d, str):
            width -= len(d)
        elif isinstance(d, list):
            cmds.extend((ind, mode, x) for x in reversed(d))
        elif isinstance(d, Group):
            m = _FLAT if d.flat_only else _BREAK if d.hard else mode
            cmds.append((ind, m, d.contents))
        elif isinstance(d, Indent):
            cmds.append((ind, mode, d.contents))
        elif isinstance(d, IfBreak):
            cmds.append((ind, mode, d.broken if mode == _BREAK else d.flat))
        elif mode == _BREAK or d is HARD:
            return True
        else:
            width -= len(d.flat)
    return False
