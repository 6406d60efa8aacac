"""Output paths are checked before any work, and written with the right mode, or not at all.

Each case is a way an output once destroyed an input, a device or hours of training: the
command must refuse it with exit 2 and one line naming the path(s), leave every file as it
was, and never start training.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from conftest import ROOT

import spec2net
from spec2net import fileio
from spec2net.cli import main

SPEC = ('model m {\n  input x: [4]\n  output y = Dense(3, activation=relu)(x)\n'
        '  compile { optimizer = sgd; loss = mse }\n}\n')


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.net").write_text(SPEC)
    np.savez(tmp_path / "in.npz", x=np.ones((5, 4), np.float32))
    np.savez(tmp_path / "d.npz", x=np.ones((5, 4), np.float32), y=np.zeros((5, 3), np.float32))
    os.link(tmp_path / "d.npz", tmp_path / "alias.npz")  # a second name for the data
    (tmp_path / "folder").mkdir()
    return tmp_path


@pytest.fixture
def no_training(monkeypatch):
    calls = []
    monkeypatch.setattr(spec2net.Net, "train", lambda *a, **k: calls.append(1))
    return calls


TRAIN = ["train", "m.net", "--data", "d.npz", "--epochs", "1"]
REFUSED = {
    "train -o DATA": (TRAIN + ["-o", "d.npz"], "d.npz: cannot write -o: it is the input --data d.npz"),
    "train -o ./DATA": (TRAIN + ["-o", "./d.npz"], "./d.npz: cannot write -o: it is the input --data d.npz"),
    "train -o HARD-LINK-TO-DATA": (TRAIN + ["-o", "alias.npz"],
                                   "alias.npz: cannot write -o: it is the input --data d.npz"),
    "train --history DATA": (TRAIN + ["-o", "w.npz", "--history", "d.npz"],
                             "d.npz: cannot write --history: it is the input --data d.npz"),
    "train -o W --history W": (TRAIN + ["-o", "w.npz", "--history", "w.npz"],
                               "w.npz: cannot write --history: it is also the output -o w.npz"),
    "train -o DIR": (TRAIN + ["-o", "folder"], "folder: cannot write -o: it is a directory"),
    "train -o SPEC": (TRAIN + ["-o", "m.net"], "m.net: cannot write -o: it is the input FILE m.net"),
    "build -o SPEC": (["build", "m.net", "--backend", "keras", "-o", "m.net"],
                      "m.net: cannot write -o: it is the input FILE m.net"),
    "run -o INPUTS": (["run", "m.net", "--inputs", "in.npz", "-o", "in.npz"],
                      "in.npz: cannot write -o: it is the input --inputs in.npz"),
    "init -o DIR": (["init", "m.net", "-o", "folder"], "folder: cannot write -o: it is a directory"),
    "init -o /dev/null": (["init", "m.net", "-o", "/dev/null"],
                          "/dev/null: cannot write -o: it is a character device, not a regular file"),
    "missing folder": (TRAIN + ["-o", "w.npz", "--history", "no/such/h.json"],
                       "no/such/h.json: cannot write: no such folder 'no/such'"),
    "an empty name": (["init", "m.net", "-o", ""], "'': cannot write -o: not a file name"),
    "a folder's name": (["init", "m.net", "-o", "new/"], "new/: cannot write -o: not a file name"),
    "newline in a name": (TRAIN + ["-o", "a\nb/w.npz"], "a\\nb/w.npz: cannot write: no such folder 'a\\nb'"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_bad_outputs_are_refused_before_any_work(work, case, no_training, capsys):
    argv, message = REFUSED[case]
    before = {p.name: p.read_bytes() for p in work.iterdir() if p.is_file()}
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spec2net {argv[0]}: error: {message}") and len(err.splitlines()) == 1, err
    assert no_training == []
    assert {p.name: p.read_bytes() for p in work.iterdir() if p.is_file()} == before
    assert (work / "folder").is_dir() and not [p for p in work.rglob("*.tmp")]


def test_a_fifo_is_refused_never_replaced(work, capsys):
    os.mkfifo(work / "pipe")
    assert main(["init", "m.net", "-o", "pipe"]) == 2
    assert "pipe: cannot write -o: it is a FIFO, not a regular file (refused, never replaced)" in (
        capsys.readouterr().err)
    assert stat.S_ISFIFO(os.stat(work / "pipe").st_mode)


def test_a_read_only_folder_is_refused_before_training(work, no_training, capsys, monkeypatch):
    (work / "ro").mkdir(mode=0o500)
    if os.geteuid() == 0:  # root may write into any folder: let the check see what a user's would
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: os.path.basename(p) != "ro" and real(p, mode))
    assert main(TRAIN + ["-o", "ro/w.npz"]) == 2
    assert "ro/w.npz: cannot write: the folder" in capsys.readouterr().err and no_training == []


def test_check_output_paths_in_python(work):
    fileio.check_output_paths({"-o": "w.npz", "--history": "h.json", "--other": None}, {"--data": "d.npz"})
    fileio.check_output_paths({"-o": "-"}, {"FILE": "-"})  # stdout is no file
    with pytest.raises(fileio.PathError, match="it is the input --data d.npz"):
        fileio.check_output_paths({"-o": os.path.abspath("alias.npz")}, {"--data": "d.npz"})
    os.symlink("d.npz", work / "link.npz")
    with pytest.raises(fileio.PathError, match="link.npz: cannot write -o: it is the input --data d.npz"):
        fileio.check_output_paths({"-o": "link.npz"}, {"--data": "d.npz"})


# -- modes ---------------------------------------------------------------------------------------
@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_get_the_mode_the_umask_gives(work, umask, mask, mode):
    umask(mask)
    assert main(["init", "m.net", "-o", "w.npz"]) == 0
    assert main(["run", "m.net", "--inputs", "in.npz", "-o", "out.npz"]) == 0
    fileio.atomic_write_many([("m.py", "source"), ("h.json", "{}")])  # build's and train's way
    for name in ("w.npz", "out.npz", "m.py", "h.json"):
        assert stat.S_IMODE(os.stat(work / name).st_mode) == mode, name


def test_a_replaced_file_keeps_its_mode(work, umask):
    (work / "w.npz").write_bytes(b"old")
    os.chmod(work / "w.npz", 0o640)
    os.symlink("w.npz", work / "link.npz")
    assert main(["init", "m.net", "-o", "w.npz"]) == 0
    assert stat.S_IMODE(os.stat(work / "w.npz").st_mode) == 0o640
    assert main(["init", "m.net", "--seed", "1", "-o", "link.npz"]) == 0  # through the link, which stays
    assert (work / "link.npz").is_symlink() and stat.S_IMODE(os.stat(work / "w.npz").st_mode) == 0o640
    assert spec2net.load_weights(work / "w.npz")["dense/kernel"].shape == (4, 3)


# -- signals -------------------------------------------------------------------------------------
SLOW_WRITER = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {root!r})
    from spec2net import fileio
    from spec2net.cli import main

    real = os.fdopen

    class Slow:  # a large write, cut in pieces the signal can fall between
        def __init__(self, f): self.f = f
        def __enter__(self): return self
        def __exit__(self, *a): self.f.close()
        def write(self, data):
            for i in range(0, len(data), 64):
                self.f.write(data[i:i + 64])
                print("writing", flush=True)
                time.sleep(0.2)

    fileio.os.fdopen = lambda fd, mode: Slow(real(fd, mode)) if mode == "wb" else real(fd, mode)
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_the_write_removes_the_temporary_file(work, sig):
    (work / "w.npz").write_bytes(b"old")
    script = SLOW_WRITER.format(root=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", script, "init", "m.net", "-o", "w.npz"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "writing\n"
    assert [p.name for p in work.iterdir() if p.name.endswith(".tmp")], "the write should be under way"
    proc.send_signal(sig)
    proc.communicate(timeout=30)
    # SIGTERM ends the process by the signal; SIGINT as Python's KeyboardInterrupt (exit 130).
    assert proc.returncode == (-signal.SIGTERM if sig == signal.SIGTERM else 130)
    assert not [p.name for p in work.iterdir() if p.name.endswith(".tmp")]
    assert (work / "w.npz").read_bytes() == b"old"


def test_the_library_leaves_signal_handlers_as_they_were(work):
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    spec2net.save_weights(work / "w.npz", {"k": np.zeros(3)})
    with fileio.removing_temporaries():
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]  # caught while writing
        assert signal.getsignal(signal.SIGINT) is before[signal.SIGINT]  # KeyboardInterrupt cleans up itself
    assert {s: signal.getsignal(s) for s in before} == before


def test_a_spec_must_be_a_small_regular_file(work, capsys):
    start = time.perf_counter()
    assert main(["check", "/dev/zero"]) == 2
    assert time.perf_counter() - start < 1
    assert capsys.readouterr().err == ("spec2net check: error: /dev/zero: cannot read: it is a character "
                                       "device, not a regular file\n")
    os.mkfifo(work / "spec.net")  # no writer: opening it must not wait for one
    assert main(["summary", "spec.net"]) == 2
    assert "spec.net: cannot read: it is a FIFO" in capsys.readouterr().err
    (work / "big.net").write_text(SPEC + "# padding\n" * 2000)  # 20 KB
    assert main(["check", "big.net", "--max-spec-size", "16K"]) == 2
    assert capsys.readouterr().err == ("spec2net check: error: big.net: cannot read: 19.6 KiB is over the "
                                       "16.0 KiB limit for a spec (--max-spec-size raises it)\n")
    assert main(["check", "big.net", "--max-spec-size", "32K"]) == 0
    assert main(["check", "big.net"]) == 0  # the default: 16 MiB
    with pytest.raises(fileio.PathError, match="huge.net: cannot read: 16.0 MiB is over the 16.0 MiB limit"):
        spec2net.load(_sparse(work / "huge.net", (16 << 20) + 1))  # the library's default too


def _sparse(path, size):
    with open(path, "wb") as f:
        f.truncate(size)
    return path


@pytest.mark.parametrize("flag", ["--inputs", "--weights"])
def test_arrays_must_come_from_regular_files(work, capsys, flag):
    os.mkfifo(work / "pipe.npz")  # no writer: opening it must not wait for one
    os.symlink("/dev/zero", work / "zero.npz")
    for name, kind in (("pipe.npz", "a FIFO"), ("zero.npz", "a character device")):
        argv = ["run", "m.net", "--inputs", "in.npz", flag, name]
        assert main(argv) == 2
        assert capsys.readouterr().err == f"spec2net run: error: {name}: cannot read: it is {kind}, not a regular file\n"
