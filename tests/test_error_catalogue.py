"""docs/errors.md, the error catalogue: every example in it gives exactly the output it shows,
and every diagnostic code has an example, so the page cannot drift from the messages.

After a deliberate change of wording, ``python tests/test_error_catalogue.py`` rewrites every
`text` block with what spec2net prints now; review the diff before committing it."""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT

from spec2net.cli import main
from spec2net.messages import CODES as KNOWN_CODES

CATALOGUE = ROOT / "docs" / "errors.md"
DEFAULT_COMMAND = "spec2net check example.net"

SECTION = re.compile(r"^## `([^`]+)`$")
FENCE = re.compile(r"^```(\w*)$")
ERROR_LINE = re.compile(r"^example\.net(:\d+:\d+)?: error: ", re.MULTILINE)


@dataclass
class Example:
    code: str
    line: int  # of its spec block in docs/errors.md, for the test id and failure messages
    data: bytes
    command: str = DEFAULT_COMMAND
    expected: str | None = None
    text_lines: tuple[int, int] = (0, 0)  # the `text` block's body, as a slice of the page's lines


def parse_catalogue(text: str) -> tuple[list[str], list[Example]]:
    """The codes of the `## `code`` sections, in order, and the examples under them.

    An example is a `net` block (the spec) or a `python` block (a bytes literal, for the codes
    about the file's bytes), an optional `console` block (the command), then a `text` block
    (the output). Blocks before the first code section belong to the introduction.
    """
    codes: list[str] = []
    examples: list[Example] = []
    pending: Example | None = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        heading = SECTION.match(lines[i])
        if heading:
            assert pending is None, f"line {pending.line}: example without a `text` block"
            codes.append(heading.group(1))
            i += 1
            continue
        fence = FENCE.match(lines[i])
        if not fence or not fence.group(1):
            i += 1
            continue
        lang, start = fence.group(1), i + 1
        end = lines.index("```", start)
        body = "\n".join(lines[start:end])
        i = end + 1
        if not codes:
            continue
        where = f"docs/errors.md:{start}"
        if lang in ("net", "python"):
            assert pending is None, f"{where}: a new example before the last one's `text` block"
            data = body.encode("utf-8") + b"\n" if lang == "net" else ast.literal_eval(body)
            assert isinstance(data, bytes), f"{where}: a `python` block holds one bytes literal"
            pending = Example(codes[-1], start, data)
        elif lang == "console":
            assert pending is not None and pending.expected is None, f"{where}: a command outside an example"
            assert body.startswith("$ "), f"{where}: a command reads `$ spec2net ...`"
            pending.command = body[2:]
        elif lang == "text":
            assert pending is not None, f"{where}: an output without a spec before it"
            pending.expected = body
            pending.text_lines = (start, end)
            examples.append(pending)
            pending = None
        else:
            raise AssertionError(f"{where}: unexpected ```{lang} block in a code section")
    assert pending is None, f"line {pending.line}: example without a `text` block"
    return codes, examples


CODES, EXAMPLES = parse_catalogue(CATALOGUE.read_text(encoding="utf-8"))


def test_every_code_has_an_example_and_no_other():
    documented = {e.code for e in EXAMPLES}
    missing = sorted(set(KNOWN_CODES) - documented)
    unknown = sorted(set(CODES) - set(KNOWN_CODES))
    assert (missing, unknown) == ([], [])
    assert sorted(set(CODES) - documented) == [], "a section without an example"
    assert len(CODES) == len(set(CODES)), "a code with two sections"


def output_of(example: Example, folder) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of the example's command, run on ``folder/example.net``."""
    (folder / "example.net").write_bytes(example.data)
    argv = shlex.split(example.command)
    assert argv[0] == "spec2net" and argv[1] in ("check", "init", "build") and "example.net" in argv
    out, err, cwd = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(folder)  # so the diagnostics name the file `example.net`, as the page does
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv[1:])
    finally:
        os.chdir(cwd)
    return status, out.getvalue(), err.getvalue().rstrip("\n")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.code}@{e.line}")
def test_example_prints_exactly_what_the_catalogue_shows(example, tmp_path):
    status, out, err = output_of(example, tmp_path)
    assert err == example.expected
    assert out == ""
    # Warnings alone leave the status at 0: the exit codes the page's introduction states.
    assert status == (1 if ERROR_LINE.search(example.expected) else 0)
    assert f"[{example.code}]" in example.expected, "the example shows another code than its section's"


def regenerate() -> int:
    """Rewrite every `text` block of docs/errors.md with the current output; the number changed."""
    lines = CATALOGUE.read_text(encoding="utf-8").split("\n")
    changed = 0
    for example in reversed(EXAMPLES):  # from the end, so earlier line numbers stay valid
        with tempfile.TemporaryDirectory() as folder:
            err = output_of(example, Path(folder))[2]
        if err != example.expected:
            start, end = example.text_lines
            lines[start:end] = err.split("\n")
            changed += 1
    CATALOGUE.write_text("\n".join(lines), encoding="utf-8")
    return changed


if __name__ == "__main__":
    print(f"docs/errors.md: {regenerate()} example output(s) rewritten")
