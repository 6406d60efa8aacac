"""Resource limits: no spec, however large or deep, exhausts the stack, the clock or the memory.

The front end only counts parameters; `init`, `run` and `train` refuse, before allocating
anything, a model over the memory budget; runaway `def` expansion is refused.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

import spec2net
from spec2net import budget
from spec2net import builder as B
from spec2net.cli import main


def doubling_defs(levels: int) -> str:
    """Each def calls the one below twice: ``2**levels`` Dense layers from a few lines."""
    lines = ["def d0(x) { return Dense(2)(x) }"]
    lines += [f"def d{i}(x) {{ return d{i - 1}(d{i - 1}(x)) }}" for i in range(1, levels + 1)]
    return "\n".join(lines) + f"\nmodel m {{\n  input x: [4]\n  output y = d{levels}(x)\n}}\n"


def codes(info) -> list[str]:
    return [d.code for d in info.value.diagnostics]


# -- size and depth ------------------------------------------------------------------------------
def test_ten_thousand_layer_file():
    text = "sequential s {\n  input [4]\n" + "  Dense(2)\n" * 10_000 + "}\n"
    net = spec2net.loads(text)
    assert len(net.ir.layers) == 10_000 and net.ir.layers[-1].name == "dense_9999"
    assert net.count_params() == 4 * 2 + 2 + 9_999 * (2 * 2 + 2)


@pytest.mark.parametrize("form", ["call", "chain", "list"])
def test_ten_thousand_deep_expressions(form):
    depth = 10_000
    if form == "call":
        expr = "Dense(2)(" * depth + "x" + ")" * depth
    elif form == "chain":
        expr = "x" + " -> Dense(2)" * depth
    else:  # a constant nested 10,000 deep: a list argument no layer accepts, reported, not a crash
        expr = "Dense(" + "[" * depth + "2" + "]" * depth + ")(x)"
    text = "model m { input x: [4]\n output y = " + expr + " }"
    if form == "list":
        with pytest.raises(spec2net.SpecError) as info:
            spec2net.loads(text)
        assert codes(info) == ["arg-type"] and info.value.diagnostics[0].span.line == 2
    else:
        assert len(spec2net.loads(text).ir.layers) == depth


def test_thousand_nested_def_calls():
    lines = ["def d0(x) { return Dense(2)(x) }"]
    lines += [f"def d{i}(x) {{ return d{i - 1}(x) }}" for i in range(1, 1000)]
    net = spec2net.loads("\n".join(lines) + "\nmodel m { input x: [4]; output y = d999(x) }")
    assert [layer.name for layer in net.ir.layers] == ["dense"]


# -- runaway expansion ---------------------------------------------------------------------------
def test_runaway_def_expansion_is_refused_quickly(monkeypatch):
    monkeypatch.setattr(B, "MAX_EXPANSION", 1_000)
    start = time.perf_counter()
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.loads(doubling_defs(40), file="runaway.net")  # 2**40 layers if it ran to the end
    assert time.perf_counter() - start < 5
    (d,) = info.value.diagnostics
    assert d.code == "expansion" and (d.span.line, d.span.col) == (44, 14)  # the model's call of d40
    assert "model 'm' expands to more than 1,000 layers and def calls (through d40 -> d39" in d.message


def test_expansion_below_the_limit_is_fine(monkeypatch):
    monkeypatch.setattr(B, "MAX_EXPANSION", 1_535)  # 512 layers, 512 calls of d0, 511 of d1..d9
    assert len(spec2net.loads(doubling_defs(9)).ir.layers) == 512
    monkeypatch.setattr(B, "MAX_EXPANSION", 1_534)
    with pytest.raises(spec2net.SpecError):
        spec2net.loads(doubling_defs(9))


def test_runaway_expansion_inside_a_let_is_refused(monkeypatch):
    monkeypatch.setattr(B, "MAX_EXPANSION", 100)
    text = doubling_defs(12).replace("model m", "let big = d12(1)\nmodel m")
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.loads(text)
    assert "expansion" in codes(info) and "`let big` expands" in str(info.value)


def test_the_default_limit_refuses_the_real_thing_in_seconds():
    start = time.perf_counter()
    with pytest.raises(spec2net.SpecError) as info:
        spec2net.loads(doubling_defs(30))
    assert codes(info) == ["expansion"] and f"{B.MAX_EXPANSION:,}" in str(info.value)
    assert time.perf_counter() - start < 20  # about 1.5 s on a 2-core CI machine


# -- the front end never allocates weights --------------------------------------------------------
def test_front_end_of_a_huge_model_allocates_no_weights():
    text = ("model huge { input x: [100000]\n input ids: int32[?]\n h = Dense(100000000)(x)\n"
            " e = Embedding(1000000000000, 4096)(ids)\n output y = concatenate([h, LSTM(100000)(e)]) }")
    tracemalloc.start()
    try:
        net = spec2net.loads(text)
        table = net.summary()
        sources = [net.build("keras"), net.build("torch")]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert net.count_params() > 4 * 10**15 and "Total params: 4,1" in table
    assert all("100000000" in s for s in sources)
    assert peak < 20 << 20  # a few MB of Python objects, not 16 PB of float32


# -- the memory budget -----------------------------------------------------------------------------
BIG = "model big {\n  input x: [1000]\n  h = Dense(64)(x)\n  output y = Dense(1000000)(h)\n}\n"


@pytest.mark.parametrize(("text", "size"), [("512M", 512 << 20), ("16G", 16 << 30), ("1.5GiB", 3 << 29),
                                            ("100000", 100_000), ("2k", 2048), ("0", 0)])
def test_parse_size(text, size):
    assert budget.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "12X", "-1G", "G", "1e9"])
def test_parse_size_refuses_nonsense(text):
    with pytest.raises(ValueError, match="a size like 512M"):
        budget.parse_size(text)


def test_init_over_budget_is_refused_before_allocating(monkeypatch):
    net = spec2net.loads(BIG, file="big.net")
    drawn = []
    monkeypatch.setattr("spec2net.backends.numpy.init_weights", lambda *a: drawn.append(a))
    with pytest.raises(spec2net.SpecError) as info:
        net.init_weights(max_memory=100 << 20)
    (d,) = info.value.diagnostics
    assert drawn == [] and d.code == "memory" and (d.span.line, d.span.col) == (4, 14)
    # 248.2 MiB of float32 weights, and 732 MiB while the largest (64M floats) is drawn in float64
    assert ("init of model 'big' would need about 980.6 MiB (weights 980.6 MiB), over the 100.0 MiB memory "
            "budget; the biggest layer is 'dense_1' (Dense: 248.0 MiB of weights, 0 B of activations); a larger "
            "budget: --max-memory 1G (max_memory= in Python)") == d.message
    assert "output y = Dense(1000000)(h)" in str(info.value)  # the spec line is quoted


def test_budget_zero_means_no_limit_and_a_big_enough_budget_passes():
    net = spec2net.loads("model m { input x: [3]; output y = Dense(2)(x) }")
    assert net.init_weights(max_memory=0)["dense/kernel"].shape == (3, 2)
    needed = 4 * 8 + 2 * budget.PER_WEIGHT + 12 * 6  # 8 floats, 2 arrays, drawing the 6 of the kernel
    assert net.init_weights(max_memory=needed)["dense/kernel"].shape == (3, 2)
    with pytest.raises(spec2net.SpecError):
        net.init_weights(max_memory=needed - 1)


def test_run_counts_activations_at_the_batch_size_and_sequence_length():
    net = spec2net.loads("model m { input x: [?, 3]\n output y = SimpleRNN(500, return_sequences=true)(x) }")
    w = net.init_weights(max_memory=0)
    x = np.zeros((50, 40, 3), np.float32)  # batch 50, 40 steps: the `?` counts as 40
    weights = 4 * (3 * 500 + 500 * 500 + 500) + 3 * budget.PER_WEIGHT + 32 * 500 * 500  # orthogonal's QR
    activations = 4 * 50 * 40 * (2 * 500 + 3 * 500)  # the outputs twice, each step's state and output once
    needed = weights + activations + 4 * 50 * 40 * 3  # and the inputs
    assert net.run({"x": x}, w, max_memory=needed)["y"].shape == (50, 40, 500)
    with pytest.raises(spec2net.SpecError) as info:
        net.run({"x": x}, w, max_memory=needed - 1)
    assert "activations 19.1 MiB at batch 50" in str(info.value)
    with pytest.raises(spec2net.SpecError):  # float64 runs take twice the bytes
        net.run({"x": x}, w, max_memory=needed, dtype="float64")


def test_train_counts_weights_four_times_and_the_batch_size():
    text = ("model m { input x: [10]\n output y = Dense(1000)(x)\n"
            " compile { loss = \"mse\"; optimizer = \"adam\" } }")
    net = spec2net.loads(text)
    data = {"x": np.zeros((64, 10), np.float32), "y": np.zeros((64, 1000), np.float32)}
    w = net.init_weights()
    weights = 12 * 4 * (10 * 1000 + 1000) + 2 * budget.PER_WEIGHT + 12 * 10 * 1000  # 12 copies, drawing
    needed = weights + 5 * 4 * 16 * 1000 + 2 * 4 * 16 * (10 + 1000)  # 5 of the outputs; inputs and targets
    trained, _ = net.train(data, w, epochs=1, batch_size=16, max_memory=needed)
    assert trained["dense/kernel"].shape == (10, 1000)
    with pytest.raises(spec2net.SpecError, match="train of model 'm'.* at batch 16"):
        net.train(data, w, epochs=1, batch_size=16, max_memory=needed - 1)


def test_cli_refuses_with_a_located_error_and_writes_nothing(tmp_path, capsys):
    spec = tmp_path / "big.net"
    spec.write_text(BIG)
    out = tmp_path / "w.npz"
    assert main(["init", str(spec), "-o", str(out), "--max-memory", "100M"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{spec}:4:14: error: init of model 'big' would need about 980.6 MiB")
    assert "--max-memory 1G" in err and err.rstrip().endswith("^^^^^") and not out.exists()
    assert main(["init", str(spec), "-o", str(out), "--max-memory", "1G"]) == 0
    assert np.load(out)["dense_1/kernel"].shape == (64, 1_000_000)


@pytest.mark.parametrize("command", ["run", "train"])
def test_cli_run_and_train_take_the_flag(tmp_path, capsys, command):
    spec = tmp_path / "m.net"
    spec.write_text("model m { input x: [40]\n output y = Dense(3000)(x)\n"
                    " compile { loss = \"mse\"; optimizer = \"sgd\" } }\n")
    data = tmp_path / "data.npz"
    # 486 KB of data, under the budget; the model needs 972 KB to run, 2 MB to train: over it.
    arrays = {"x": np.ones((40, 40), np.float32), "y": np.ones((40, 3000), np.float32)}
    np.savez(data, **(arrays if command == "train" else {"x": arrays["x"]}))
    flag = ["--inputs", str(data)] if command == "run" else ["--data", str(data), "--epochs", "1"]
    out = tmp_path / "out.npz"
    assert main([command, str(spec), *flag, "-o", str(out), "--max-memory", "700K"]) == 1
    assert f"{spec}:2:13: error: {command} of model 'm' would need" in capsys.readouterr().err
    assert not out.exists()
    assert main([command, str(spec), *flag, "-o", str(out), "--max-memory", "64M"]) == 0 and out.exists()


def test_cli_rejects_a_bad_size(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["init", "x.net", "-o", str(tmp_path / "w.npz"), "--max-memory", "lots"])
    assert info.value.code == 2 and "expected a size like 512M or 16G, got 'lots'" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "where"), [
    (BIG, "4:14: error: run of model 'big' would need about 1011.2 MiB"),
    # a `?` of 7 steps (equiv's length) by 50M features: 5.6 GB of random inputs, then the outputs
    ("model m { input x: [?, 50000000]\n output y = Activation(relu)(x) }", "2:13: error: run of model 'm'"),
])
def test_equiv_checks_the_budget_before_drawing_inputs(tmp_path, capsys, monkeypatch, text, where):
    spec = tmp_path / "m.net"
    spec.write_text(text)
    drawn = []
    monkeypatch.setattr("spec2net.equiv.random_inputs", lambda *a: drawn.append(a))
    assert main(["equiv", str(spec), "--backends", "numpy,torch", "--max-memory", "500M"]) == 1
    assert capsys.readouterr().err.startswith(f"{spec}:{where}") and drawn == []


@pytest.mark.parametrize("argv", [["--batch", "-1"], ["--batch", "0"], ["--seed", "-1"], ["--train", "-3"],
                                  ["--max-memory", "0.1"], ["--max-memory", "0.0001K"]])
def test_equiv_arguments_out_of_range_are_usage_errors(tmp_path, capsys, argv):
    spec = tmp_path / "m.net"
    spec.write_text("model m { input x: [3]; output y = Dense(2)(x) }")
    with pytest.raises(SystemExit) as info:
        main(["equiv", str(spec), "--backends", "numpy,torch", *argv])
    err = capsys.readouterr().err
    assert info.value.code == 2 and f"argument {argv[0]}: " in err and "agree" not in err


def test_training_a_recurrent_layer_counts_every_step():
    net = spec2net.loads('model m { input x: [?, 3]\n output y = LSTM(100)(x)\n'
                         ' compile { loss = "mse"; optimizer = "sgd" } }')
    x = np.zeros((8, 50, 3), np.float32)  # 50 steps, 8 samples
    floats = 3 * 400 + 100 * 400 + 400
    drawing = 3 * budget.PER_WEIGHT + 32 * 100 * 400  # the orthogonal recurrent kernel's QR
    steps = 4 * 8 * 50 * (4 + 2) * 100  # gates, state and output per step
    data = 4 * 8 * (50 * 3 + 100)  # inputs and targets
    train = 12 * 4 * floats + drawing + 5 * 4 * 8 * 100 + 3 * steps + 2 * data
    net.check_memory("train", {"x": x}, batch=8, max_memory=train)
    with pytest.raises(spec2net.SpecError, match="train of model 'm'"):
        net.check_memory("train", {"x": x}, batch=8, max_memory=train - 1)
    run = 4 * floats + drawing + 2 * 4 * 8 * 100 + steps + 4 * 8 * 50 * 3  # each step once, as one GEMM
    net.check_memory("run", {"x": x}, max_memory=run)
    with pytest.raises(spec2net.SpecError, match="run of model 'm'"):
        net.check_memory("run", {"x": x}, max_memory=run - 1)
