"""Outputs are written whole or not at all; corrupt inputs give clear errors; nothing unpickles.

Every command that writes (init, run, train with --history, build) is made to fail in each way
it can: a spec error, a usage error, a write that fails half-way. An existing output file must
keep its bytes and no temporary file may be left beside it.
"""

from __future__ import annotations

import re
import struct

import numpy as np
import pytest
from conftest import ROOT

import spec2net
from spec2net import fileio
from spec2net.cli import main
from spec2net.weights import WeightsError, load_weights

SPEC = ('model m {\n  input x: [4]\n  output y = Dense(3, activation=relu)(x)\n'
        '  compile { optimizer = sgd; loss = mse }\n}\n')
OLD = b"the previous output, which must survive"


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.net").write_text(SPEC)
    (tmp_path / "bad.net").write_text(SPEC.replace("Dense(3", "Dense(-3"))
    np.savez(tmp_path / "in.npz", x=np.ones((5, 4), np.float32))
    np.savez(tmp_path / "data.npz", x=np.ones((5, 4), np.float32), y=np.zeros((5, 3), np.float32))
    np.savez(tmp_path / "wrong.npz", z=np.ones((5, 4), np.float32))
    return tmp_path


# command -> (argv writing OUTS, the outputs it writes)
COMMANDS = {
    "init": (["init", "{spec}", "-o", "w.npz"], ["w.npz"]),
    "run": (["run", "{spec}", "--inputs", "{inputs}", "-o", "out.npz"], ["out.npz"]),
    "train": (["train", "{spec}", "--data", "{data}", "--epochs", "1", "-o", "w.npz", "--history", "h.json"],
              ["w.npz", "h.json"]),
    "build-keras": (["build", "{spec}", "--backend", "keras", "-o", "m_keras.py"], ["m_keras.py"]),
    "build-torch": (["build", "{spec}", "--backend", "torch", "-o", "m_torch.py"], ["m_torch.py"]),
}


def argv(command, spec="m.net", inputs="in.npz", data="data.npz"):
    return [a.format(spec=spec, inputs=inputs, data=data) for a in COMMANDS[command][0]]


def left_alone(work, outputs):
    assert all((work / name).read_bytes() == OLD for name in outputs)
    assert not [p.name for p in work.iterdir() if p.name.endswith(".tmp")], "a temporary file was left"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_failed_command_keeps_existing_outputs(work, command, monkeypatch, capsys):
    outputs = COMMANDS[command][1]
    for name in outputs:
        (work / name).write_bytes(OLD)
    assert main(argv(command, spec="bad.net")) == 1  # an error in the spec
    left_alone(work, outputs)
    if command in ("run", "train"):  # inputs that do not fit the model
        assert main(argv(command, inputs="wrong.npz", data="wrong.npz")) == 2
        left_alone(work, outputs)
    real_create = fileio._create_temp
    made = []

    def full_disk_at_the_last_output(*args, **kwargs):  # every earlier temporary file was written
        made.append(1)
        if len(made) == len(outputs):
            raise OSError(28, "No space left on device")
        return real_create(*args, **kwargs)

    monkeypatch.setattr(fileio, "_create_temp", full_disk_at_the_last_output)
    assert main(argv(command)) == 2
    assert "No space left on device" in capsys.readouterr().err
    left_alone(work, outputs)
    monkeypatch.setattr(fileio, "_create_temp", real_create)
    assert main(argv(command)) == 0
    assert all((work / name).read_bytes() != OLD for name in outputs)


def test_train_checks_where_it_writes_before_training(work, capsys, monkeypatch):
    (work / "w.npz").write_bytes(OLD)
    trained = []
    monkeypatch.setattr(spec2net.Net, "train", lambda *a, **k: trained.append(1))
    assert main(["train", "m.net", "--data", "data.npz", "-o", "w.npz", "--history", "no/such/h.json"]) == 2
    assert main(["train", "m.net", "--data", "data.npz", "-o", "w.h5"]) == 2
    err = capsys.readouterr().err
    assert "no/such/h.json: cannot write: no such folder 'no/such'" in err and ".npz or .safetensors" in err
    assert trained == [] and (work / "w.npz").read_bytes() == OLD


def test_atomic_write_many_writes_all_or_nothing(tmp_path, monkeypatch):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a")
    with pytest.raises(FileNotFoundError):  # the second temporary file cannot be created
        fileio.atomic_write_many([(a, "new a"), (tmp_path / "missing" / "b.txt", "new b")])
    assert a.read_text() == "old a" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    fileio.atomic_write_many([(a, "new a"), (b, b"new b")])
    assert (a.read_text(), b.read_bytes()) == ("new a", b"new b")


# -- corrupt and foreign files ---------------------------------------------------------------------
def _npz_bytes(**arrays) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


GOOD = _npz_bytes(**{"dense/kernel": np.ones((4, 3), np.float32), "dense/bias": np.zeros(3, np.float32)})
SAFETENSORS_HEADER = b'{"dense/bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}'
CORRUPT = {
    "empty.npz": (b"", "not a readable .npz"),
    "random.npz": (bytes(range(256)) * 4, "not a readable .npz"),
    "truncated.npz": (GOOD[: len(GOOD) // 2], "not a readable .npz"),
    "text.npz": (b"dense/kernel = [[1, 2]]\n", "not a readable .npz"),
    "pickled.npz": (_npz_bytes(**{"dense/kernel": np.array([{"a": 1}], dtype=object)}), "not a readable .npz"),
    "empty.safetensors": (b"", "not a readable .safetensors"),
    "huge-header.safetensors": (struct.pack("<Q", 2**62) + b"{}", "not a readable .safetensors"),
    "bad-json.safetensors": (struct.pack("<Q", 10) + b"{not json}", "not a readable .safetensors"),
    "truncated.safetensors": (struct.pack("<Q", len(SAFETENSORS_HEADER)) + SAFETENSORS_HEADER + b"\0" * 5,
                              "not a readable .safetensors"),
}


@pytest.mark.parametrize("name", CORRUPT)
def test_corrupt_weights_files_are_clear_errors(work, name, capsys):
    if name.endswith(".safetensors"):
        pytest.importorskip("safetensors", reason="needs safetensors: pip install 'spec2net[safetensors]'")
    data, message = CORRUPT[name]
    (work / name).write_bytes(data)
    with pytest.raises(WeightsError, match=re.escape(f"{name}: {message}")):
        load_weights(work / name)
    assert main(["run", "m.net", "--inputs", "in.npz", "--weights", name, "-o", "out.npz"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spec2net run: error: {name}: {message}") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not (work / "out.npz").exists()


@pytest.mark.parametrize(("value", "accepted"), [
    (np.ones((4, 3), np.int64), True),  # whole numbers are numbers: cast to float32
    (np.ones((4, 3), np.float16), True),
    (np.ones((4, 3), bool), True),
    (np.full((4, 3), "1.0"), False),  # text would be parsed by a float32 cast; refused instead
    (np.ones((4, 3), np.complex64), False),  # would lose its imaginary part silently
])
def test_weights_of_the_wrong_dtype(work, value, accepted, capsys):
    np.savez(work / "w.npz", **{"dense/kernel": value, "dense/bias": np.zeros(3, np.float32)})
    code = main(["run", "m.net", "--inputs", "in.npz", "--weights", "w.npz", "-o", "out.npz"])
    if accepted:
        assert code == 0
        np.testing.assert_allclose(np.load(work / "out.npz")["y"], np.full((5, 3), 4.0))
    else:
        assert code == 2
        assert f"dense/kernel: a weight is an array of real numbers, the file has dtype {value.dtype}" in (
            capsys.readouterr().err)


@pytest.mark.parametrize("value, kind", [(np.full((5, 4), "a"), "strings"),
                                         (np.ones((5, 4), np.complex64), "complex numbers")])
def test_inputs_of_the_wrong_dtype(work, value, kind, capsys):
    np.savez(work / "in.npz", x=value)
    assert main(["run", "m.net", "--inputs", "in.npz"]) == 2
    assert f"in.npz: input 'x': expected float32 real numbers, got {kind} (dtype {value.dtype})" in (
        capsys.readouterr().err)


def test_pickled_inputs_are_refused(work, capsys):
    np.savez(work / "in.npz", x=np.array([None, {"a": 1}], dtype=object))
    assert main(["run", "m.net", "--inputs", "in.npz"]) == 2
    assert "in.npz: not a readable .npz file" in capsys.readouterr().err


def test_nothing_unpickles():
    """Every np.load and read_array of the package and of the generated modules says
    allow_pickle=False, and nothing imports pickle or calls torch.load (which unpickles)."""
    sources = [p for d in ("spec2net", "backends") for p in (ROOT / d).rglob("*") if p.suffix in (".py", ".j2")]
    loads = 0
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import pickle|from pickle)|torch\.load\(|allow_pickle=True", text, re.MULTILINE), path
        for call in re.findall(r"np\.(?:load|lib\.format\.read_array)\([^)]*\)", text):
            loads += 1
            assert "allow_pickle=False" in call, (path, call)
    assert loads >= 3  # every .npz the package reads (weights.read_npz), and both generated modules
