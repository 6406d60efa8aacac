"""Shared fixtures. Framework tests skip with a clear reason when the framework
is absent; CI (./dev test) installs both, so nothing is skipped there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.net"))


@pytest.fixture(scope="session")
def keras():
    """Keras 3 on TensorFlow; skipped with a reason where it is not installed."""
    return pytest.importorskip("keras", reason="needs Keras 3 + TensorFlow: pip install 'spec2net[keras]'")


@pytest.fixture(scope="session")
def torch():
    """PyTorch; skipped with a reason where it is not installed."""
    return pytest.importorskip("torch", reason="needs PyTorch: pip install 'spec2net[torch]'")
