"""Data sources (spec2net.datasets, spec2net.tabular): a directory of .npy files (memory-mapped,
read a batch at a time), .csv and .parquet train exactly as the same data in an .npz file; a
data set twice the memory budget trains within it; every bad file is one line naming the file
and the array, exit 2."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import spec2net
from spec2net.cli import main
from spec2net.commands.datafiles import load_data
from spec2net.datasets import open_data
from spec2net.fileio import PathError
from spec2net.net import data_spec
from spec2net.runtime import data as rdata
from spec2net.runtime.data import rows

ROOT = Path(__file__).resolve().parents[1]
SPEC = """model m {
  input x: float32[3]; input t: int32[2]
  e = t -> Embedding(5, 2) -> Flatten()
  output y = concatenate([x, e]) -> Dense(3, activation=softmax)
  compile { optimizer = adam; loss = sparse_categorical_crossentropy; metrics = [accuracy] }
  fit { epochs = 2; batch_size = 4; validation_split = 0.25 }
}"""
N = 22


def arrays() -> dict:
    rng = np.random.default_rng(0)
    return {"x": rng.normal(size=(N, 3)).astype(np.float32), "t": rng.integers(0, 5, (N, 2)).astype(np.int32),
            "y": rng.integers(0, 3, (N, 1))}


def write_dir(path: Path, data: dict) -> Path:
    path.mkdir()
    for name, value in data.items():
        np.save(path / f"{name}.npy", value)
    return path


def write_csv(path: Path, data: dict, header=None, cell=None) -> Path:
    """Columns x.0, x.1, x.2, t.0, t.1, y (or ``header``); ``cell``: (row, column, text) replaced."""
    columns = [(f"{k}.{j}" if v.shape[1:] != (1,) or k != "y" else k, v[:, j])
               for k, v in data.items() for j in range(v.shape[1])]
    lines = [",".join(header or [c for c, _ in columns])]
    for i in range(len(data["x"])):
        cells = [repr(v[i].item()) for _, v in columns]
        if cell and cell[0] == i:
            cells[cell[1]] = cell[2]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


def write_parquet(path: Path, data: dict) -> Path:
    """x as a list column (a vector per row), t as element columns t.0, t.1, y as one column."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"x": pa.array(list(data["x"]), pa.list_(pa.float32())),
                      "t.1": data["t"][:, 1], "t.0": data["t"][:, 0], "y": data["y"][:, 0]})
    pq.write_table(table, path)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("datasets")
    (d / "m.net").write_text(SPEC)
    data = arrays()
    np.savez(d / "d.npz", **data)
    write_dir(d / "dir", data)
    write_csv(d / "d.csv", data)
    write_parquet(d / "d.parquet", data)
    return d


def cli(d: Path, *argv, capsys) -> tuple[int, str]:
    cwd = os.getcwd()
    os.chdir(d)
    try:
        code = main(list(argv))
    finally:
        os.chdir(cwd)
    return code, capsys.readouterr().err


def trained(d: Path, source: str, capsys) -> tuple[dict, dict]:
    out = f"w-{source.replace('.', '-')}.npz"
    code, err = cli(d, "train", "m.net", "--data", source, "-o", out, "--history", out + ".json", capsys=capsys)
    assert (code, err) == (0, ""), err
    return dict(np.load(d / out)), json.loads((d / (out + ".json")).read_text())


@pytest.mark.parametrize("source", ["dir", "d.csv", "d.parquet"])
def test_a_source_trains_as_the_same_data_in_an_npz(files, source, capsys):
    """Shuffled batches, an Embedding's ids, class-id targets and a validation split (the last
    quarter, as Keras): the same weights and history to the last bit."""
    want_w, want_h = trained(files, "d.npz", capsys)
    got_w, got_h = trained(files, source, capsys)
    assert got_w.keys() == want_w.keys() and got_h == want_h
    for key in want_w:
        np.testing.assert_array_equal(got_w[key], want_w[key], err_msg=key)
    assert set(want_h) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_predict_and_evaluate_read_a_directory_as_an_npz(files, capsys):
    trained(files, "d.npz", capsys)
    for source in ("d.npz", "dir"):
        code, err = cli(files, "predict", "m.net", "--inputs", source, "--weights", "w-d-npz.npz",
                        "--batch-size", "5", "-o", f"p-{source}.npz", capsys=capsys)
        assert (code, err) == (0, ""), err
    np.testing.assert_array_equal(np.load(files / "p-dir.npz")["y"], np.load(files / "p-d.npz.npz")["y"])
    logs = [cli(files, "evaluate", "m.net", "--data", s, "--weights", "w-d-npz.npz", "--json", capsys=capsys)
            for s in ("d.npz", "dir")]
    assert logs[0][0] == 0 and logs[0] == logs[1]


def test_load_data_maps_a_directory_and_types_columns_as_the_spec(files):
    net = spec2net.load(str(files / "m.net"))
    mapped = load_data(files / "dir", net)
    assert all(isinstance(a, np.memmap) and not a.flags.writeable for a in mapped.values())
    csv = load_data(files / "d.csv", net)
    assert {k: (v.dtype, v.shape) for k, v in csv.items()} == {
        "x": (np.float32, (N, 3)), "t": (np.int32, (N, 2)), "y": (np.float64, (N,))}  # y: aligned later
    np.testing.assert_array_equal(csv["t"], arrays()["t"])
    parquet = load_data(files / "d.parquet", net, targets=False)
    assert set(parquet) == {"x", "t"} and parquet["x"].dtype == np.float32
    np.testing.assert_array_equal(parquet["x"], arrays()["x"])


# -- refusals: one line naming the file and the array, exit 2 ---------------------------------------
def _object_npy(d):
    np.save(d / "y.npy", np.array([{"a": 1}] * N, dtype=object), allow_pickle=True)


def _pickled_npy(d):
    (d / "y.npy").write_bytes(pickle.dumps(list(range(N))))


def _short_rows(d):
    np.save(d / "y.npy", arrays()["y"][:-1])


def _fortran(d):
    np.save(d / "x.npy", np.asfortranarray(arrays()["x"]))


def _truncated(d):
    (d / "x.npy").write_bytes((d / "x.npy").read_bytes()[:-5])


def _not_finite(d):
    x = arrays()["x"]
    x[17, 2] = np.inf
    np.save(d / "x.npy", x)


DIR_CASES = [
    (_object_npy, ("dir/y.npy: array 'y' holds Python objects (dtype object), which would need unpickling; save "
                  "an array of numbers")),
    (_pickled_npy, ("dir/y.npy: array 'y': not a .npy file (it does not start with NumPy's magic bytes; a pickle "
                   "or np.savez output?)")),
    (_short_rows, "dir/y.npy: array 'y' holds 21 rows, dir/t.npy 22: every array needs one row per sample"),
    (_fortran, ("dir/x.npy: array 'x' is stored in Fortran order: a sample's values are spread over the whole "
               "file, so every batch would read all of it; save np.ascontiguousarray(...) instead")),
    (_truncated, ("dir/x.npy: array 'x': the file is truncated: its header promises float32 (22, 3) (264 B), the "
                 "file holds 259 B after it")),
    (_not_finite, "dir: input 'x': expected finite values, got 1 non-finite, the first inf at index (17, 2)"),
]


@pytest.mark.parametrize("change, message", DIR_CASES, ids=[c[0].__name__ for c in DIR_CASES])
def test_a_bad_directory_is_one_line(tmp_path, change, message, capsys):
    (tmp_path / "m.net").write_text(SPEC)
    change(write_dir(tmp_path / "dir", arrays()))
    code, err = cli(tmp_path, "train", "m.net", "--data", "dir", "-o", "w.npz", capsys=capsys)
    assert (code, err) == (2, f"spec2net train: error: {message}\n")
    assert not (tmp_path / "w.npz").exists()


def _header(*names):
    return list(names)


CSV_CASES = [  # (header, cell, message after "d.csv: ")
    (None, (2, 1, "abc"), "row 3 (line 4), column 'x.1' (array 'x'): 'abc' is not a number"),
    (None, (0, 5, " "), "row 1 (line 2), column 'y' (array 'y'): the cell is empty"),
    (_header("x.0", "x.2", "x.3", "t.0", "t.1", "y"), None,
     "array 'x': no column x.1 (its columns go up to x.3: every index from 0 needs one)"),
    (_header("x.0", "x.1", "x.2", "t.0", "t.1", "z"), None,
     "no array for 'y' (the model takes inputs 'x', 't' and targets 'y')"),
    (_header("x.0", "x.1", "x", "t.0", "t.1", "y"), None,
     "array 'x': columns 'x' and 'x.0' give it different shapes; name its columns either 'x' or x.0, x.1, ..."),
    (_header("x.0", "x.1", "x.01", "t.0", "t.1", "y"), None, ("columns 'x.1' and 'x.01' both give array 'x' "
                                                              "element (1,)")),
    (None, (4, 3, "1.5"), "input 't': expected int32 (integers), got 1.5 at index (4, 0)"),
    (None, (6, 5, "7"), ("target 'y': class ids (output width 3) must lie in [0, 3), got 7 at index (6,) "
                        "(1 out of range)")),
]


@pytest.mark.parametrize("header, cell, message", CSV_CASES)
def test_a_bad_csv_is_one_line_with_its_row_and_column(tmp_path, header, cell, message, capsys):
    (tmp_path / "m.net").write_text(SPEC)
    write_csv(tmp_path / "d.csv", arrays(), header, cell)
    code, err = cli(tmp_path, "train", "m.net", "--data", "d.csv", "-o", "w.npz", capsys=capsys)
    assert (code, err) == (2, f"spec2net train: error: d.csv: {message}\n")


def test_a_ragged_or_empty_csv_is_refused(tmp_path):
    (tmp_path / "r.csv").write_text("x,y\n1,2\n3\n")
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(PathError, match=r"r.csv: row 2 \(line 3\) has 1 cells, the header 2$"):
        open_data(tmp_path / "r.csv")
    with pytest.raises(PathError, match="e.csv: empty: a CSV data file starts with a header row"):
        open_data(tmp_path / "e.csv")


def test_a_bad_parquet_is_one_line(tmp_path, monkeypatch):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": ["a", "b"], "y": [1.0, None]}), tmp_path / "p.parquet")
    with pytest.raises(PathError, match=r"p.parquet: column 'x' holds string values: expected numbers$"):
        open_data(tmp_path / "p.parquet", {"x"})
    with pytest.raises(PathError, match=r"column 'y' has 1 missing values, the first at row 2$"):
        open_data(tmp_path / "p.parquet", {"y"})
    pq.write_table(pa.table({"x": [[1.0, 2.0], [3.0]]}), tmp_path / "r.parquet")
    with pytest.raises(PathError, match=r"lists of different lengths, 2 and 1 \(rows 1 and 2\)"):
        open_data(tmp_path / "r.parquet")
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # as where pyarrow is not installed
    with pytest.raises(PathError, match=r"p.parquet: reading .parquet data needs pyarrow: pip install "
                                        r"'spec2net\[data\]'$"):
        open_data(tmp_path / "p.parquet")


def test_tabular_data_over_the_budget_is_refused_while_read(files):
    with pytest.raises(PathError, match=r"d.csv: its arrays take over 256 B by row 6, the memory budget"):
        open_data(files / "d.csv", max_memory=256)
    pytest.importorskip("pyarrow")
    with pytest.raises(PathError, match=r"d.parquet: its arrays would take 1.5 KiB, over the 256 B memory "
                                        "budget .*; nothing was read$"):
        open_data(files / "d.parquet", max_memory=256)
    assert open_data(files / "dir", max_memory=256)["x"].shape == (N, 3)  # mapped: not counted


# -- memory-mapped arrays: read a piece at a time ------------------------------------------------------
def test_rows_read_from_the_file_what_indexing_reads(tmp_path, monkeypatch):
    """Every way rows are read (single rows, adjacent runs, spans of near rows) on views of every
    layout, against NumPy's indexing of the same array in memory."""
    monkeypatch.setattr(rdata, "GAP", 40)
    monkeypatch.setattr(rdata, "SPAN", 200)
    rng = np.random.default_rng(1)
    for shape, dtype in (((300,), np.float32), ((300, 1), np.int64), ((120, 4, 3), ">f8"), ((90, 50), np.uint8)):
        a = (rng.normal(size=shape) * 100).astype(dtype)
        np.save(tmp_path / "a.npy", a)
        m = np.load(tmp_path / "a.npy", mmap_mode="r")
        for view, ref in ((m, a), (m[7:], a[7:]), (m[::3], a[::3]), (np.asarray(m)[5:, None], a[5:, None])):
            n = len(ref)
            for index in (rng.permutation(n), rng.permutation(n)[:9], np.arange(n), slice(2, n - 1),
                          slice(1, n, 4), rng.integers(0, n, 30), np.array([-1, 0, -2]), np.array([], int),
                          3, -1, rng.integers(0, n, (4, 5)), rng.random(n) < 0.3, np.array([4, 4, 6, 6, 7, 4])):
                got = rows(view, index)
                assert type(got) is np.ndarray and got.dtype == ref.dtype
                np.testing.assert_array_equal(got, ref[index])


def test_checks_of_a_mapped_array_read_it_in_pieces(tmp_path, monkeypatch):
    """The finite, integer and range checks find the first bad value across piece boundaries and
    count them all, as on the array in memory."""
    data = arrays()
    data["x"][[5, 19], [1, 0]] = np.nan
    data["y"] = data["y"].astype(np.float64)
    data["y"][[3, 8, 20]] = 3
    write_dir(tmp_path / "dir", data)
    spec = data_spec(spec2net.load(str(_spec_file(tmp_path))).ir)
    mapped = open_data(tmp_path / "dir")
    messages = []
    for chunk in (rdata.CHUNK, 24):  # 24 bytes: two rows of x per piece
        monkeypatch.setattr(rdata, "CHUNK", chunk)
        for source in (data, mapped):
            with pytest.raises(rdata.DataError) as e:
                rdata.check_data(spec, source)
            messages.append(str(e.value))
    assert messages == [messages[0]] * 4
    assert messages[0] == "input 'x': expected finite values, got 2 non-finite, the first nan at index (5, 1)"
    data["x"][[5, 19], [1, 0]] = 0
    np.save(tmp_path / "dir" / "x.npy", data["x"])
    with pytest.raises(rdata.DataError, match=r"class ids \(output width 3\) must lie in \[0, 3\), got 3 at "
                                              r"index \(3, 0\) \(3 out of range\)"):
        rdata.check_data(spec, open_data(tmp_path / "dir"))


def _spec_file(d: Path) -> Path:
    (d / "m.net").write_text(SPEC)
    return d / "m.net"


# -- larger than the budget --------------------------------------------------------------------------
BIG_SPEC = "model big { input x: float32[1024]\n output y = Dense(1)(x)\n compile { optimizer = sgd; loss = mse } }"
CHILD = textwrap.dedent("""
    import re, sys
    sys.path.insert(0, {root!r})
    import numpy as np
    import spec2net
    from spec2net.cli import main
    code = main(["train", "big.net", "--data", "big", "-o", "w.npz", "--max-memory", "128M", "--batch-size", "1024"])
    with open("/proc/self/status") as f:
        peak = int(re.search(r"VmHWM:\\s*(\\d+) kB", f.read()).group(1)) // 1024
    # the reference, after the peak is read: the same data whole in memory, through the API
    net = spec2net.load("big.net")
    data = {{k: np.load(f"big/{{k}}.npy") for k in ("x", "y")}}
    start = net.init_weights(0)
    w, _ = net.train(data, start, batch_size=1024, seed=0)
    got = np.load("w.npz")
    print(code, peak, max(float(np.abs(got[k] - w[k]).max()) for k in w),
          float(np.abs(got["dense/kernel"] - start["dense/kernel"]).max()))
""")


def write_big(d: Path, rows_: int, width: int) -> None:
    """x (rows_, width) float32 and y (rows_, 1), written a block at a time through file writes
    (never mapped, never whole in memory): every eighth block of 1024 rows holds data, the rest
    zeros (a sparse file, quick to write)."""
    (d / "big").mkdir()
    block = np.random.default_rng(0).normal(size=(1024, width)).astype(np.float32)
    for name, w, values in (("x", width, block), ("y", 1, block[:, :1] * 0.5)):
        path = d / "big" / f"{name}.npy"
        del_me = np.lib.format.open_memmap(path, "w+", np.float32, (rows_, w))  # the header; a sparse file
        del del_me
        start = path.stat().st_size - rows_ * w * 4
        with open(path, "r+b") as f:
            for s in range(0, rows_, 8 * 1024):
                f.seek(start + s * w * 4)
                f.write(values[:min(1024, rows_ - s)].tobytes())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak RSS from /proc")
def test_a_data_set_over_twice_the_budget_trains_within_it(tmp_path):
    """288 MiB of data (73,728 samples of 1024 floats) under --max-memory 128M, one shuffled epoch:
    the process peaks far below the budget, and the weights are those of training on the same data
    held whole in memory. bench/data_scale.py runs 4 GiB under 1G."""
    if shutil.disk_usage(tmp_path).free < 2 << 30:
        pytest.skip("needs 2 GiB free on the temporary folder's disk")
    (tmp_path / "big.net").write_text(BIG_SPEC)
    write_big(tmp_path, 73_728, 1024)
    proc = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT))], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    code, peak, diff, moved = proc.stdout.split()
    assert (code, float(diff)) == ("0", 0.0) and float(moved) > 0, proc.stdout
    assert int(peak) < 110, f"peak RSS {peak} MiB for a 288 MiB data set under a 128 MiB budget"
