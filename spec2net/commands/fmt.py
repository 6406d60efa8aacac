"""spec2net fmt FILE... [--check] [--diff]: rewrite specs in the one canonical layout.

Each file is formatted on its own: a file with a syntax error is reported (exit 1) and left as
it is, never half-formatted; the others are still formatted. A changed file is replaced whole
(fileio.atomic_write), an unchanged one is not touched. ``-`` reads stdin and writes stdout.
Exit: 0 done (or nothing to change), 1 a spec error or, with --check, a file that would change,
2 a file that cannot be read or written.
"""

from __future__ import annotations

import codecs
import difflib
import sys
from pathlib import Path

from .. import messages as M
from ..cli import UsageError
from ..diagnostics import Span, SpecError, diag
from ..fileio import MAX_SPEC_SIZE, PathError, atomic_write, shown
from ..fmt import format_text
from ..loader import read_source

HELP = "rewrite spec files in the one canonical layout (--check: only say which would change)"


def add_arguments(p):
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="a spec file, a folder (its .net files, recursively), or - for stdin to stdout")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file would change")
    p.add_argument("--diff", action="store_true", help="write nothing; print what would change as a unified diff")


def run(args) -> int:
    if args.files.count("-") > 1:
        raise UsageError("stdin (-) can be read only once")
    status = 0
    for path in _expand(args.files):
        status = max(status, _one(path, args))
    return status


def _expand(files: list[str]) -> list[str]:
    out = []
    for name in files:
        path = Path(name)
        if name != "-" and path.is_dir():
            out += sorted(str(p) for p in path.rglob("*.net") if p.is_file())
        else:
            out.append(name)
    return out


def _one(path: str, args) -> int:
    """Formats one file (or stdin): 0, 1 or 2, as the command's exit status."""
    try:
        text, diags = _read_stdin() if path == "-" else read_source(path)
    except PathError as e:
        return _error(str(e))
    except OSError as e:
        return _error(f"{shown(path)}: cannot read: {e.strerror or e}")
    name = "<stdin>" if path == "-" else path  # as diagnostics name it
    try:
        if text is None:
            raise SpecError(diags, {name: []})
        new = format_text(text, name)
    except SpecError as e:
        print("\n".join(e.render()), file=sys.stderr)
        return 1
    changed = new != text or (path != "-" and _has_bom(path))  # the layout's files have none
    if args.diff and changed:
        sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True),
                                                   shown(name), f"{shown(name)} (formatted)"))
    if args.check:
        if changed:
            print(f"would reformat {shown(name)}", file=sys.stderr)
        return int(changed)
    if args.diff:
        return 0
    if path == "-":
        sys.stdout.write(new)
    elif changed:
        try:
            atomic_write(path, new)
        except OSError as e:
            return _error(f"{shown(path)}: cannot write: {e.strerror or e}")
        print(f"reformatted {shown(path)}", file=sys.stderr)
    return 0


def _has_bom(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(3) == codecs.BOM_UTF8
    except OSError:  # it was read a moment ago; writing it will say what is wrong
        return False


def _error(message: str) -> int:
    print(f"spec2net fmt: error: {message}", file=sys.stderr)
    return 2


def _read_stdin() -> tuple[str | None, list]:
    """stdin's text, refused as ``read_source`` refuses a file: over the size limit, binary, not UTF-8."""
    data = sys.stdin.buffer.read(MAX_SPEC_SIZE + 1)
    if len(data) > MAX_SPEC_SIZE:
        raise PathError(f"<stdin>: cannot read: over the {MAX_SPEC_SIZE >> 20} MiB limit for a spec")
    where = Span("<stdin>", 1, 1)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, [diag(where, M.ENCODING_UTF16)]
    if b"\0" in data:
        return None, [diag(where, M.BINARY)]
    body = data.removeprefix(codecs.BOM_UTF8)
    try:
        return body.decode("utf-8"), []
    except UnicodeDecodeError as e:
        line = body[: e.start].count(b"\n") + 1
        col = len(body[body.rfind(b"\n", 0, e.start) + 1: e.start].decode("utf-8")) + 1
        return None, [diag(Span("<stdin>", line, col), M.ENCODING_BYTE, byte=body[e.start])]
