"""docs/errors.md, the error catalogue: every example in it gives exactly the output it shows,
and every diagnostic code has an example, so the page cannot drift from the messages."""

from __future__ import annotations

import ast
import re
import shlex
from dataclasses import dataclass

import pytest
from conftest import ROOT

from spec2net.cli import main
from spec2net.messages import CODES as MESSAGES

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
            examples.append(pending)
            pending = None
        else:
            raise AssertionError(f"{where}: unexpected ```{lang} block in a code section")
    assert pending is None, f"line {pending.line}: example without a `text` block"
    return codes, examples


CODES, EXAMPLES = parse_catalogue(CATALOGUE.read_text(encoding="utf-8"))


def test_every_code_has_an_example_and_no_other():
    documented = {e.code for e in EXAMPLES}
    missing = sorted(set(MESSAGES) - documented)
    unknown = sorted(set(CODES) - set(MESSAGES))
    assert (missing, unknown) == ([], [])
    assert sorted(set(CODES) - documented) == [], "a section without an example"
    assert len(CODES) == len(set(CODES)), "a code with two sections"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.code}@{e.line}")
def test_example_prints_exactly_what_the_catalogue_shows(example, tmp_path, monkeypatch, capsys):
    (tmp_path / "example.net").write_bytes(example.data)
    monkeypatch.chdir(tmp_path)  # so the diagnostics name the file `example.net`, as the page does
    argv = shlex.split(example.command)
    assert argv[0] == "spec2net" and argv[1] in ("check", "init") and "example.net" in argv
    status = main(argv[1:])
    out, err = capsys.readouterr()
    assert err.rstrip("\n") == example.expected
    assert out == ""
    # Warnings alone leave the status at 0: the exit codes the page's introduction states.
    assert status == (1 if ERROR_LINE.search(example.expected) else 0)
    assert f"[{example.code}]" in example.expected, "the example shows another code than its section's"
