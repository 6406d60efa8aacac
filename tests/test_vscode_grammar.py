"""editors/vscode: the TextMate grammar's tests (vscode-tmgrammar-test, from npm) on files of
examples/, the grammar's word lists against the registry, and the extension's manifest."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from conftest import ROOT

from spec2net.builder import DTYPES, MERGE_FUNCS
from spec2net.registry import LAYERS, REGISTRIES

VSCODE = ROOT / "editors" / "vscode"
TOOL = VSCODE / "node_modules" / ".bin" / "vscode-tmgrammar-test"
GRAMMAR = VSCODE / "syntaxes" / "spec2net.tmLanguage.json"
CASES = sorted((VSCODE / "test").glob("*.test.net"))
ASSERTION = re.compile(r"#\s*(<[-~]|\^)")  # a `# ^^^ scope` or `# <--- scope` line of a grammar test


def run_tool(*files) -> subprocess.CompletedProcess:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("the grammar tests need Node.js and npm (vscode-tmgrammar-test)")
    assert TOOL.exists(), "vscode-tmgrammar-test is not installed: run `npm ci` in editors/vscode (./dev test does)"
    return subprocess.run([str(TOOL), "-c", "-g", str(GRAMMAR), *map(str, files)], check=False, cwd=VSCODE,
                          capture_output=True, text=True, timeout=120)


def test_grammar_tests_pass_on_the_examples():
    assert len(CASES) >= 4
    result = run_tool(*CASES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("successfuly") == len(CASES), result.stdout


def test_a_wrong_scope_fails(tmp_path):
    """The tool reads our assertions: a layer name asserted to be a keyword is reported."""
    case = tmp_path / "wrong.test.net"
    case.write_text('# SYNTAX TEST "source.spec2net"\nmodel m { input a: [4]; output y = Dense(2)(a) }\n'
                    "#                                   ^^^^^ storage.type.let.spec2net\n")
    result = run_tool(case)
    assert result.returncode != 0 and "storage.type.let.spec2net" in result.stdout + result.stderr


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_each_grammar_test_is_its_example(case):
    """Without its header and assertion lines, a grammar test is its example, unchanged."""
    lines = case.read_text().split("\n")
    header = re.fullmatch(r'# SYNTAX TEST "source\.spec2net" "examples/(\S+\.net)"', lines[0])
    assert header, lines[0]
    source = [x for x in lines[1:] if not ASSERTION.match(x)]
    assert "\n".join(source) == (ROOT / "examples" / header[1]).read_text()


def _words(scope: str) -> set[str]:
    grammar = json.loads(GRAMMAR.read_text())
    rule = next(p for p in grammar["repository"]["expression"]["patterns"] if p.get("name") == scope)
    return set(re.search(r"\(([A-Za-z0-9_|]+)\)", rule["match"])[1].split("|"))


def test_grammar_names_every_layer_function_and_dtype():
    assert _words("support.class.layer.spec2net") == set(LAYERS)
    assert _words("support.function.spec2net") == {n for t in REGISTRIES.values() for n in t} | set(MERGE_FUNCS)
    assert _words("storage.type.dtype.spec2net") == set(DTYPES)


def test_manifest_starts_the_server_and_names_its_files():
    manifest = json.loads((VSCODE / "package.json").read_text())
    assert manifest["engines"]["vscode"] and manifest["repository"]["url"]
    assert (VSCODE / manifest["main"]).exists() and (VSCODE / "LICENSE").exists()
    (language,) = manifest["contributes"]["languages"]
    assert language["extensions"] == [".net"] and (VSCODE / language["configuration"]).exists()
    assert (VSCODE / manifest["contributes"]["grammars"][0]["path"]).resolve() == GRAMMAR
    assert manifest["contributes"]["configuration"]["properties"]["spec2net.path"]["default"] == "spec2net"
    extension = (VSCODE / manifest["main"]).read_text()
    assert 'args: ["lsp"]' in extension and 'getConfiguration("spec2net").get("path")' in extension
    config = json.loads((VSCODE / "language-configuration.json").read_text())
    assert config["comments"]["lineComment"] == "#"
