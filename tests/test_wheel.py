"""Packaging: the wheel installs spec2net, with grammar and backends inside it, and its CLI works.

Slow-ish (a build and a venv, about 15 s) but in the default run. It never downloads:
the wheel is built without isolation from a copy of the sources (so the work tree
gets no build/ folder), installed with --no-deps --no-index, and the fresh venv
finds lark/numpy/jinja2 in this interpreter's own site-packages through a .pth
file (a plain path line, so no other .pth there, e.g. an editable spec2net, runs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def sh(*argv, cwd=None, env=None):
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, check=False,
                          timeout=300)
    assert proc.returncode == 0, f"{argv}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("build", reason="needs the 'build' package: pip install 'spec2net[dev]'")
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("spec2net", "grammar", "backends"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    sh(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, src)
    (path,) = dist.glob("spec2net-*.whl")
    return path


def test_wheel_holds_only_the_spec2net_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"spec2net", next(t for t in tops if t.endswith(".dist-info"))}
    assert "spec2net/grammar/spec2net.lark" in names
    assert "spec2net/grammar/__init__.py" in names and "spec2net/backends/__init__.py" in names
    assert not any(n.startswith(("grammar/", "backends/")) for n in names)
    # every package of the tree is installed (pyproject lists them by hand, so a new one is easy to miss)
    for root, prefix in (("spec2net", "spec2net/"), ("grammar", "spec2net/grammar/"),
                         ("backends", "spec2net/backends/")):
        for pattern in ("__init__.py", "*.j2", "*.lark"):  # and the templates and grammar they read
            for path in (ROOT / root).rglob(pattern):
                assert prefix + path.relative_to(ROOT / root).as_posix() in names
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "spec2net = spec2net.cli:main" in entry


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    env_dir = tmp_path_factory.mktemp("venv") / "fresh"
    sh(sys.executable, "-m", "venv", env_dir)
    py = env_dir / "bin" / "python"
    sh(py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--disable-pip-version-check", wheel)
    site = Path(sh(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    import jinja2
    import lark
    import numpy

    deps = sorted({str(Path(m.__file__).resolve().parent.parent) for m in (lark, numpy, jinja2)})
    (site / "zz_spec2net_test_deps.pth").write_text("\n".join(deps) + "\n")
    return env_dir


def test_installed_cli_checks_an_example_outside_the_tree(venv, tmp_path):
    shutil.copy(ROOT / "examples" / "multi_output.net", tmp_path / "m.net")
    (tmp_path / "bad.net").write_text("model m { input a: [4]; output y = Dense(0)(a) }\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    spec2net = venv / "bin" / "spec2net"
    proc = subprocess.run([str(spec2net), "check", "m.net"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
                          timeout=120)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    out = sh(spec2net, "summary", "m.net", cwd=tmp_path, env=env)
    assert "Total params: 14,078 " in out
    proc = subprocess.run([str(spec2net), "check", "bad.net"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
                          timeout=120)
    assert proc.returncode == 1 and "bad.net:1:42: error: Dense: expected a positive integer" in proc.stderr


def test_installed_package_has_no_top_level_grammar_or_backends(venv, tmp_path):
    code = ("import importlib.util as u, spec2net, spec2net.grammar, spec2net.backends\n"
            "print(spec2net.__file__)\n"
            "print(u.find_spec('grammar'), u.find_spec('backends'))\n"
            "from importlib import resources\n"
            "print(resources.files('spec2net.grammar').joinpath('spec2net.lark').is_file())\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    lines = sh(venv / "bin" / "python", "-c", code, cwd=tmp_path, env=env).splitlines()
    assert Path(lines[0]).resolve().is_relative_to(venv.resolve())  # the wheel's copy, not the work tree
    assert lines[1:] == ["None None", "True"]
