"""The command line: exit codes 0/1/2 (CONTRACT.md), stderr formats, -D, --model, several files."""

from __future__ import annotations

import subprocess
import sys

import pytest

from spec2net.cli import main

BAD = "model m {\n    input a: float32[4]\n    x = Dense(8, activaton=relu)(a)\n    output y = Dropout(1.5)(x)\n}\n"
WARN = "model m {\n    input a: float32[4]\n    input b: float32[4]\n    output y = Dense(1)(a)\n}\n"
TWO = "let n = 3\nmodel first { input a: [4]; output y = Dense(n)(a) }\nmodel second { input a: [2]; output a }\n"


@pytest.fixture
def spec(tmp_path):
    def write(text, name="s.net"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)
    return write


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_ok_prints_nothing(capsys):
    assert run(capsys, "check", "examples/mlp.net", "examples/spam.net") == (0, "", "")


def test_check_reports_every_error_then_exits_1(capsys, spec):
    path = spec(BAD)
    code, out, err = run(capsys, "check", path)
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"{path}:3:18: error: Dense has no argument 'activaton'; did you mean 'activation'? [unknown-arg]"
    assert lines[1] == "        x = Dense(8, activaton=relu)(a)"
    assert lines[2] == "    " + " " * 17 + "^" * 9
    assert lines[3].startswith(f"{path}:4:24: error: Dropout: expected a float value between 0 and 1. Received: "
                               "rate=1.5")
    assert "Traceback" not in err


def test_warnings_do_not_fail(capsys, spec):
    path = spec(WARN)
    code, _, err = run(capsys, "check", path)
    assert code == 0
    assert err.splitlines()[0] == f"{path}:3:11: warning: input 'b' is not used by any output [unused-input]"


def test_several_files_each_reported(capsys, spec):
    bad, good = spec(BAD, "bad.net"), spec(WARN, "good.net")
    code, _, err = run(capsys, "check", good, bad, "examples/ffnn.net")
    assert code == 1
    assert f"{bad}:3:18: error:" in err and f"{bad}:4:24: error:" in err and f"{good}:3:11: warning:" in err


def test_summary_prints_the_table(capsys):
    code, out, err = run(capsys, "summary", "examples/mlp.net")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == 'Model: "mlp"'
    assert " Total params: 49 (196.00 B)" in out and "| dense_1 (Dense)    | (None, 1)" in out


def test_define_overrides_a_let(capsys, spec):
    path = spec(TWO)
    code, out, _ = run(capsys, "summary", path, "--model", "first", "-D", "n=5")
    assert code == 0 and "(None, 5)" in out and "Total params: 25 " in out


@pytest.mark.parametrize("argv,fragment", [(["-D", "N=5"], "the spec has no `let N`; did you mean 'n'?"),
                                           (["--model", "frist"], "no model named 'frist' (the file declares first, second); did you mean 'first'?")])
def test_define_or_model_that_names_nothing_is_a_spec_error(capsys, spec, argv, fragment):
    path = spec(TWO)
    code, _, err = run(capsys, "summary", path, *argv)
    assert code == 1 and fragment in err and err.startswith(f"{path}: error: ")


def test_check_with_model_selects(capsys, spec):
    path = spec(TWO)
    assert run(capsys, "check", path, "--model", "second")[0] == 0
    code, _, err = run(capsys, "check", path, "--model", "third")
    assert code == 1 and "no model named 'third'" in err


def test_model_defaults_to_the_last(capsys, spec):
    assert 'Model: "second"' in run(capsys, "summary", spec(TWO))[1]


@pytest.mark.parametrize("argv", [["check", "does/not/exist.net"], ["summary", "does/not/exist.net"],
                                  ["check", "examples/mlp.net", "-D", "novalue"], ["check", "examples"]])
def test_io_and_usage_errors_exit_2(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.startswith(f"spec2net {argv[0]}: error: ") and "Traceback" not in err


def test_argparse_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", "--no-such-flag", "examples/mlp.net"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


@pytest.mark.parametrize("data,fragment", [(b"", "file declares no model"), (b"\x00\x01\x02", "file looks binary"),
                                           (b"model \xff", "not valid UTF-8 text (byte 0xff)"),
                                           ("model m {}\n".encode("utf-16-le"), "it looks like UTF-16"),
                                           ("model m {}\n".encode("utf-16-be"), "it looks like UTF-16"),
                                           ("model m {}\n".encode("utf-16"), "it looks like UTF-16")])
def test_empty_binary_and_non_utf8_files_exit_1(capsys, tmp_path, data, fragment):
    path = tmp_path / "x.net"
    path.write_bytes(data)
    code, _, err = run(capsys, "check", str(path))
    assert code == 1 and fragment in err and err.startswith(f"{path}:1:")


def test_syntax_error_is_plain_words(capsys, spec):
    path = spec("model m {\n    input a: float32[4]\n    y = Dense(4(a)\n    output y\n}\n")
    code, _, err = run(capsys, "check", path)
    assert code == 1
    assert err.splitlines()[0] == (f"{path}:4:5: error: expected ')' to close the call or tuple opened at 3:14, "
                                   "found the keyword 'output' [syntax]")


def test_python_dash_m_is_the_same_command():
    proc = subprocess.run([sys.executable, "-m", "spec2net", "check", "examples/mlp.net", "examples/news.net"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    proc = subprocess.run([sys.executable, "-m", "spec2net", "check", "tests/diagnostics/names.net"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1 and "did you mean 'feats'?" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["check", "summary"])
def test_max_spec_size(capsys, spec, command):
    path = spec(TWO)
    size = len(TWO.encode())
    assert run(capsys, command, path, "--max-spec-size", str(size))[0] == 0  # the limit itself is allowed
    code, out, err = run(capsys, command, path, "--max-spec-size", str(size - 1))
    assert (code, out) == (2, "") and err == (f"spec2net {command}: error: {path}: cannot read: {size} B is over "
                                              f"the {size - 1} B limit for a spec (--max-spec-size raises it)\n")
    assert run(capsys, command, path, "--max-spec-size", "0")[0] == 0  # 0: no limit
    with pytest.raises(SystemExit) as info:
        main([command, path, "--max-spec-size", "0.5"])  # rounds to 0 bytes: not "no limit"
    assert info.value.code == 2 and "rounds to 0 bytes" in capsys.readouterr().err


def test_a_file_name_cannot_forge_a_line(capsys, tmp_path):
    name = str(tmp_path / "a\nspec2net check: error: forged.net")
    code, _, err = run(capsys, "check", name)
    assert code == 2 and len(err.splitlines()) == 1 and "a\\nspec2net check: error: forged.net: cannot read" in err
