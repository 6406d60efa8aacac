"""docs/architecture.md maps the pipeline to files: every file and folder it names must exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# a path in backquotes: contains a slash or ends with a file suffix this project uses
PATH = re.compile(r"`([\w./-]+(?:/|\.py|\.lark|\.j2|\.md))`")


def named_paths(text: str) -> set[str]:
    return {p for p in PATH.findall(text) if not p.startswith("../")}


def test_every_named_file_exists():
    text = (ROOT / "docs" / "architecture.md").read_text()
    names = named_paths(text)
    assert len(names) > 30, "the page should name the pipeline's files"
    # family files are named bare in the table ("`core.py`" under its folder's row): look in the
    # folders the page names too
    folders = [ROOT / n for n in names if n.endswith("/")]
    missing = [n for n in sorted(names)
               if not (ROOT / n).exists() and not any((f / n).exists() for f in folders)]
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_pattern_finds_paths():
    assert named_paths("`spec2net/ir.py` and `x` and `backends/numpy/` and `../shared/STYLE.md`") == {
        "spec2net/ir.py", "backends/numpy/"}
