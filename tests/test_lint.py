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
