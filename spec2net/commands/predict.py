"""spec2net predict FILE --inputs IN.npz --weights W.npz [--batch-size B] -o OUT.npz: Keras's
``predict`` with the NumPy interpreter, in batches; the same outputs as ``run``."""

from __future__ import annotations

from ..budget import resolve
from ..cli import add_memory_option, add_spec_options, load_net
from ..fileio import check_output_paths
from ..weights import load_weights
from .datafiles import blaming, load_data, write_npz
from .evaluate import add_batched_arguments, add_engine_options, checked_batch_size, engine_of

HELP = ("the spec's outputs on every sample of an .npz file, in batches (Keras's predict), with NumPy, "
        "PyTorch or Keras (--backend)")


def add_arguments(p):
    add_batched_arguments(p, "--inputs", "IN.npz",
                          "one array per input name (other arrays, such as targets, are ignored)", "run")
    p.add_argument("-o", "--output", required=True, metavar="OUT.npz", help="where to write the outputs")
    add_engine_options(p, "predict")
    add_memory_option(p)
    add_spec_options(p)


def run(args) -> int:
    check_output_paths({"-o": args.output}, {"FILE": args.file, "--inputs": args.inputs, "--weights": args.weights})
    batch_size = checked_batch_size(args)
    net = load_net(args)
    inputs = load_data(args.inputs, net, targets=False, max_memory=args.max_memory)
    with blaming({None: args.inputs}):
        weights = load_weights(args.weights, max_bytes=resolve(args.max_memory))
        outputs = engine_of(args).predict(net, inputs, weights, batch_size=batch_size, max_memory=args.max_memory,
                                          device=args.device)
    write_npz(args.output, outputs)
    return 0
