"""What "the front end never crashes" means, as one check shared by the tests and the fuzz scripts.

``check_text(text)`` loads a spec and returns ``"ok"`` or ``"rejected"``; it raises ``Crash`` when
anything other than a located ``SpecError`` comes out: another exception, a diagnostic without a
line and column (or one past the end of the file), a message of several lines, a slow load, or a
loaded model whose summary or generated Keras/torch source fails.
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
import time
import traceback
from pathlib import Path

import spec2net
from spec2net.cli import main as cli_main

SLOW_S = 5.0  # a small spec that takes longer than this counts as a hang
FIRST_LINE = r"^{file}:\d+:\d+: (error|warning): [^\n]* \[[a-z-]+\]$"


class Crash(Exception):
    """A broken promise of the front end; ``.text`` reproduces it, ``.kind`` names what broke."""

    def __init__(self, kind: str, text, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind, self.text, self.detail = kind, text, detail


def check_text(text: str, file: str = "<fuzz>") -> str:
    """Load ``text`` with ``spec2net.loads``: ``"ok"``, ``"rejected"``, or raise Crash."""
    start = time.perf_counter()
    try:
        net = spec2net.loads(text, file=file)
    except spec2net.SpecError as e:
        _check_error(e, text, text, file)
        outcome = "rejected"
    except Exception as e:
        raise Crash(type(e).__name__, text, _trace(e)) from e
    else:
        _check_net(net, text, file)
        outcome = "ok"
    if time.perf_counter() - start > SLOW_S:
        raise Crash("hang", text, f"took {time.perf_counter() - start:.1f} s")
    return outcome


def check_bytes(data: bytes) -> str:
    """Like check_text for raw bytes (NUL, invalid UTF-8), through a file and ``spec2net.load``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.net"
        path.write_bytes(data)
        try:
            net = spec2net.load(path)
        except spec2net.SpecError as e:
            _check_error(e, data, data.decode("utf-8-sig", "replace"), str(path))
            return "rejected"
        except Exception as e:
            raise Crash(type(e).__name__, data, _trace(e)) from e
        _check_net(net, data, str(path))
        return "ok"


def check_cli(data: bytes) -> None:
    """``spec2net check`` on a broken spec: exit 1, and every message line is ``FILE:L:C: error: ... [code]``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.net"
        path.write_bytes(data)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = cli_main(["check", str(path)])
        err = err.getvalue()
    pattern = re.compile(FIRST_LINE.format(file=re.escape(str(path))))
    # Source excerpts and carets are indented by four spaces; every other line is a message.
    # ... and the count after the first 100 errors (diagnostics.MAX_SHOWN).
    messages = [line for line in err.split("\n") if line and not line.startswith("    ")
                and not re.match(r"\.\.\. and [\d,]+ more errors?( and [\d,]+ warnings?)?$", line)]
    bad = [line for line in messages if not pattern.match(line)]
    if code != 1 or bad or not messages or "Traceback" in err:
        raise Crash("cli", data, f"exit {code}, stderr:\n{err}")


def _check_error(e: spec2net.SpecError, reproducer, text: str, file: str) -> None:
    lines = text.split("\n")
    if not e.diagnostics:
        raise Crash("no-diagnostic", reproducer, "SpecError without diagnostics")
    for d in e.diagnostics:
        _check_located(d, reproducer, lines, file)
    rendered = str(e)
    if "Traceback" in rendered:
        raise Crash("traceback", reproducer, rendered)


def _check_located(d, reproducer, lines: list[str], file: str) -> None:
    span = d.span
    if span is None or span.line < 1 or span.col < 1 or span.line > len(lines) + 1:
        raise Crash("unlocated", reproducer, f"{d.code} at {span!r}: {d.message}")
    if span.line <= len(lines) and span.col > len(lines[span.line - 1]) + 2:
        raise Crash("unlocated", reproducer, f"{d.code} column past the line's end at {span!r}: {d.message}")
    first = d.format().split("\n")[0]
    if "\n" in d.message or not re.match(FIRST_LINE.format(file=re.escape(file)), first):
        raise Crash("message", reproducer, repr(d.format()))


def _check_net(net, reproducer, file: str) -> None:
    text = reproducer if isinstance(reproducer, str) else reproducer.decode("utf-8-sig", "replace")
    lines = text.split("\n")
    for w in net.warnings:
        _check_located(w, reproducer, lines, file)
    step = "summary"
    try:
        net.summary()
        for backend in ("keras", "torch"):
            step = f"build {backend}"
            compile(net.build(backend), f"<{backend}>", "exec")
    except Exception as e:
        raise Crash(step, reproducer, _trace(e)) from e


def _trace(e: BaseException) -> str:
    return "".join(traceback.format_exception(type(e), e, e.__traceback__, limit=-4))
