"""The ONNX file spec2net build --backend onnx writes: the spec's names, symbolic `?`
dimensions, initializers in ONNX's layouts, the same bytes from the same command (in another
process too), and the CLI's refusals (tests/test_onnx.py compares its numbers with NumPy's)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy_keras_helpers import TOKENS

import spec2net
from spec2net.cli import main
from spec2net.equiv import perturbed_weights

onnx = pytest.importorskip("onnx", reason="needs onnx: pip install 'spec2net[onnx]'")
pytest.importorskip("onnxruntime", reason="needs onnxruntime: pip install 'spec2net[onnx]'")

from spec2net.backends.onnx import build_model, model_bytes
from test_onnx import compare

SPEC = """
model tagger {
    input tokens: int32[?]
    input extra: float64[?, 2]
    seq, h, c = Embedding(50, 4, mask_zero=true)(tokens) -> LSTM(3, return_sequences=true, return_state=true)
    both = concatenate([seq, Dense(3)(extra)])
    output tags = Dense(2, activation=softmax)(both)
    output last = h
}
"""


def test_names_and_symbolic_dims():
    net = spec2net.loads(SPEC)
    model = build_model(net.ir, net.init_weights(0))
    dims = lambda vi: [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
    ins = {vi.name: dims(vi) for vi in model.graph.input}
    outs = {vi.name: dims(vi) for vi in model.graph.output}
    assert ins == {"tokens": ["batch", "tokens_dim1"], "extra": ["batch", "extra_dim1", 2]}
    assert outs == {"tags": ["batch", "tags_dim1", 2], "last": ["batch", 3]}
    produced = {o for n in model.graph.node for o in n.output}
    assert {"seq", "c", "both", "tags", "last"} <= produced  # h is the output `last`: it takes that name
    inits = {i.name for i in model.graph.initializer}
    assert {"embedding/embeddings", "dense/kernel", "dense_1/bias"} <= inits
    # the masked LSTM runs as a Scan over Keras's cell: its weights stay in Keras's layout
    assert {"lstm/kernel", "lstm/recurrent_kernel", "lstm/bias"} <= inits
    assert "Scan" in {n.op_type for n in model.graph.node}
    x = {"tokens": TOKENS[:, :5].copy(), "extra": np.random.default_rng(0).normal(size=(4, 5, 2))}
    compare(net, x, "names", net.init_weights(0))


def test_lstm_layout_is_onnx_gate_order():
    """ONNX's LSTM reads gates i o f c, Keras's kernel columns are i f c o: the forget-gate quarter
    of Keras's bias (unit_forget_bias: ones) lands in ONNX's third quarter. An unmasked LSTM is
    ONNX's own op, its weights converted."""
    from spec2net.backends.onnx.weights import convert

    net = spec2net.loads("sequential s { input [5, 2]; LSTM(2); Dense(1) }")
    model = build_model(net.ir, net.init_weights(0))
    assert [n.op_type for n in model.graph.node].count("LSTM") == 1
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    assert inits["lstm/bias:lstm_B"][0].tolist() == [0, 0, 0, 0, 1, 1, 0, 0] + [0] * 8

    bias = np.concatenate([np.full(2, k, np.float32) for k in (1, 2, 3, 4)])  # i f c o
    assert convert("lstm_B", bias)[0].tolist() == [1, 1, 4, 4, 2, 2, 3, 3] + [0] * 8
    kernel = np.arange(6 * 5 * 2 * 3, dtype=np.float32).reshape(6, 5, 2, 3)  # H W I O
    assert convert("conv_kernel", kernel).shape == (3, 2, 6, 5)


def _cli(*argv):
    return main([str(a) for a in argv])


def test_cli_writes_the_same_bytes_twice(tmp_path, capsys):
    spec = tmp_path / "m.net"
    spec.write_text(SPEC)
    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    assert _cli("build", spec, "--backend", "onnx", "-o", a) == 0
    assert _cli("build", spec, "--backend", "onnx", "-o", b) == 0
    assert a.read_bytes() == b.read_bytes()
    # without --weights the initializers are `spec2net init`'s (seed 0); with it, the file's
    net = spec2net.loads(SPEC)
    assert a.read_bytes() == model_bytes(net.ir, net.init_weights(0))
    w = perturbed_weights(net.ir)
    spec2net.save_weights(tmp_path / "w.npz", w)
    assert _cli("build", spec, "--backend", "onnx", "--weights", tmp_path / "w.npz", "--opset", 21, "-o", a) == 0
    assert a.read_bytes() == model_bytes(net.ir, w, 21)


def test_cli_refusals(tmp_path, capsys):
    spec = tmp_path / "m.net"
    spec.write_text(SPEC)
    out = tmp_path / "m.onnx"
    cases = [
        (["--backend", "onnx"], "binary"),  # no -o: stdout
        (["--backend", "onnx", "-o", out, "--opset", 12], "--opset"),
        (["--backend", "keras", "-o", tmp_path / "m.py", "--opset", 18], "--opset"),
        (["--backend", "onnx", "-o", out, "--weights", tmp_path / "none.npz"], "none.npz"),
    ]
    spec2net.save_weights(tmp_path / "big.npz", {"x": np.zeros(100_000, np.float32)})
    cases.append((["--backend", "onnx", "-o", out, "--weights", tmp_path / "big.npz", "--max-memory", "1K"],
                   "memory budget"))
    spec2net.save_weights(tmp_path / "bad.npz", {"dense/kernel": np.zeros((3, 3), np.float32)})
    cases.append((["--backend", "onnx", "-o", out, "--weights", tmp_path / "bad.npz"], "missing"))
    for argv, said in cases:
        assert _cli("build", spec, *argv) == 2
        err = capsys.readouterr().err
        first = err.splitlines()[0]  # a weights file that does not fit lists each key below
        assert first.startswith("spec2net build: error: ") and said in err and "Traceback" not in err, err
        assert not out.exists()



def test_drawing_the_weights_keeps_to_the_memory_budget(tmp_path, capsys):
    spec = tmp_path / "m.net"
    spec.write_text(SPEC)
    assert _cli("build", spec, "--backend", "onnx", "-o", tmp_path / "m.onnx", "--max-memory", "1K") == 1
    assert "[memory]" in capsys.readouterr().err and not (tmp_path / "m.onnx").exists()


def test_a_model_over_2_gib_is_refused_before_any_weight():
    from spec2net.diagnostics import SpecError

    net = spec2net.loads("model huge {\n    input x: [50000]\n    output y = Dense(20000)(x)\n}")
    with pytest.raises(SpecError) as e:
        build_model(net.ir, {})  # refused before the (missing) weights are looked at
    (d,) = e.value.diagnostics
    assert d.code == "onnx-unsupported" and (d.span.line, d.span.col) == (3, 16) and "3.7 GiB" in d.message


def test_bytes_are_the_same_in_another_process(tmp_path):
    """No hash seed, id or clock reaches the file: a fresh interpreter writes the same bytes."""
    import os
    import subprocess
    import sys

    spec, out = tmp_path / "m.net", tmp_path / "m.onnx"
    spec.write_text(SPEC)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    cmd = [sys.executable, "-m", "spec2net", "build", str(spec), "--backend", "onnx", "-o", str(out)]
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    net = spec2net.loads(SPEC)
    assert out.read_bytes() == model_bytes(net.ir, net.init_weights(0))


def test_equiv_train_with_onnx_is_refused_before_any_comparison(capsys):
    code = main(["equiv", "examples/mlp.net", "--backends", "numpy,onnx", "--train", "2"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "--train: onnx runs inference only" in err
