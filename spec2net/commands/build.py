"""spec2net build FILE --backend keras|torch [-o OUT.py], or --backend onnx -o MODEL.onnx
[--weights W.npz] [--opset N]: write a standalone module, or the model as an ONNX graph."""

from __future__ import annotations

import sys

from ..cli import UsageError, add_memory_option, add_spec_options, load_net
from ..fileio import atomic_write, check_output_paths, shown

HELP = "write a standalone Keras 3 or PyTorch module for the spec, or the model as ONNX"


def add_arguments(p):
    p.add_argument("file", metavar="FILE")
    p.add_argument("--backend", required=True, choices=("keras", "torch", "onnx"))
    p.add_argument("-o", "--output", default="-", metavar="OUT.py",
                   help="where to write ('-': stdout; onnx: a file, MODEL.onnx)")
    p.add_argument("--standalone", action="store_true",
                   help="torch: paste spec2net's runtime into the module instead of importing it")
    p.add_argument("--weights", metavar="W.npz",
                   help="onnx: the initializers' values (default: those of `spec2net init` with seed 0)")
    p.add_argument("--opset", type=int, default=None, metavar="N",
                   help="onnx: the ONNX opset to write (default 18; 18 up to what the onnx package knows)")
    add_memory_option(p)  # onnx: the weights drawn or read
    add_spec_options(p)


def _check_flags(args) -> None:
    if args.standalone and args.backend != "torch":
        raise UsageError("--standalone is for --backend torch (the Keras module imports only keras)")
    if args.backend != "onnx":
        for flag, value in (("--weights", args.weights), ("--opset", args.opset), ("--max-memory", args.max_memory)):
            if value is not None:
                raise UsageError(f"{flag} is for --backend onnx (a generated module loads its weights itself)")
        return
    if args.output == "-":
        raise UsageError("an ONNX model is binary: give the file to write with -o MODEL.onnx")


def run(args) -> int:
    check_output_paths({"-o": args.output}, {"FILE": args.file, "--weights": args.weights})
    _check_flags(args)
    if args.backend == "onnx":
        data = _onnx(args)
    else:
        net = load_net(args)
        if args.standalone:
            from ..backends.torch import build_source

            data = build_source(net.ir, standalone=True).source
        else:
            data = net.build(args.backend)
    if args.output == "-":
        sys.stdout.write(data)
        return 0
    try:
        atomic_write(args.output, data)
    except OSError as e:
        raise UsageError(f"{shown(args.output)}: cannot write: {e.strerror or e}") from None
    return 0


def _onnx(args) -> bytes:
    """The serialized model, its weights from --weights or drawn as `spec2net init` draws them."""
    try:
        import onnx

        from ..backends.onnx import MIN_OPSET, check_size, model_bytes
    except ImportError as e:
        raise UsageError(f"--backend onnx needs the onnx package ({e}): pip install 'spec2net[onnx]'") from None
    opset, newest = args.opset, onnx.defs.onnx_opset_version()
    if opset is not None and not MIN_OPSET <= opset <= newest:
        raise UsageError(f"--opset {opset}: expected an opset from {MIN_OPSET} to {newest} (the onnx package's newest)")
    from ..budget import resolve
    from ..weights import WeightsError, load_weights

    net = load_net(args)
    check_size(net.ir, net.sources)  # before drawing or reading any weight
    try:
        if args.weights:  # read within the memory budget: a compressed bomb is refused before it inflates
            weights = load_weights(args.weights, max_bytes=resolve(args.max_memory))
        else:
            weights = net.init_weights(seed=0, max_memory=args.max_memory)
        return model_bytes(net.ir, weights, *([] if opset is None else [opset]))
    except WeightsError as e:
        raise UsageError(str(e)) from None
