"""The project's own code is lint-clean under its ruff settings (pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT


def test_ruff_check_is_clean():
    pytest.importorskip("ruff", reason="needs ruff: pip install 'spec2net[dev]'")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_generated_modules_are_formatted_as_black_would(tmp_path):
    """Every generated line goes through one layout (spec2net/pyformat.py, black's rules at 99
    columns): ruff's formatter, black's twin, would change nothing in any example's module."""
    pytest.importorskip("ruff", reason="needs ruff: pip install 'spec2net[dev]'")
    import spec2net

    files = []
    for spec in sorted((ROOT / "examples").glob("*.net")):
        net = spec2net.load(spec)
        for backend in ("keras", "torch"):
            path = tmp_path / f"{spec.stem}_{backend}.py"
            path.write_text(net.build(backend), encoding="utf-8")
            files.append(str(path))
    done = subprocess.run([sys.executable, "-m", "ruff", "format", "--no-cache", "--check", "--diff",
                           "--line-length", "99", *files], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
