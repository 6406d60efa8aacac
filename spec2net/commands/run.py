"""spec2net run FILE --inputs IN.npz [--weights W.npz] [--training] [--seed S] [-o OUT.npz]:
the NumPy reference interpreter on one batch."""

from __future__ import annotations

import numpy as np

from ..budget import resolve
from ..cli import UsageError, add_memory_option, add_spec_options, load_net
from ..fileio import check_output_paths
from ..weights import WeightsError, load_weights
from .datafiles import blaming, load_data, write_npz

HELP = "run the spec with the NumPy reference interpreter on inputs from an .npz file"


def add_arguments(p):
    p.add_argument("file", metavar="FILE")
    p.add_argument("--inputs", required=True, metavar="IN.npz", help="the batch, one array per input name")
    p.add_argument("--weights", metavar="W.npz", help="a weights file (default: those of `init --seed S`)")
    p.add_argument("--training", action="store_true", help="training mode: dropout on, batch statistics in BN")
    p.add_argument("--seed", type=int, default=0, help="seeds the initial weights and dropout (default 0)")
    p.add_argument("-o", "--output", metavar="OUT.npz", help="write the outputs here (default: print them)")
    add_memory_option(p)
    add_spec_options(p)


def run(args) -> int:
    from ..backends.numpy import InputError

    check_output_paths({"-o": args.output}, {"FILE": args.file, "--inputs": args.inputs, "--weights": args.weights})
    net = load_net(args)
    inputs = load_data(args.inputs, net, targets=False, max_memory=args.max_memory)
    try:
        # Without --weights, net.run draws them itself (seed S), after checking the memory budget.
        weights = load_weights(args.weights, max_bytes=resolve(args.max_memory)) if args.weights else None
        with blaming({None: args.inputs}):
            result = net.run(inputs, weights, training=args.training, seed=args.seed, max_memory=args.max_memory)
    except (WeightsError, InputError) as e:
        raise UsageError(str(e)) from None
    outputs = {name: result[name] for name in net.output_names}
    if args.output is None:
        for name, value in outputs.items():
            print(f"{name}: shape {value.shape}, {value.dtype}")
            print(np.array2string(value, precision=6, threshold=200))
        return 0
    write_npz(args.output, outputs)
    return 0
