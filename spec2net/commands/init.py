"""spec2net init FILE [--seed S] -o W.npz: draw every weight from its initializer."""

from __future__ import annotations

from ..cli import UsageError, add_memory_option, add_spec_options, load_net
from ..fileio import check_output_paths
from ..weights import WeightsError, save_weights, weights_format

HELP = "draw every weight from its initializer (NumPy) and write a weights file"


def add_arguments(p):
    p.add_argument("file", metavar="FILE")
    p.add_argument("--seed", type=int, default=0, help="the global seed (default 0); same spec and seed, same bytes")
    p.add_argument("-o", "--output", required=True, metavar="W.npz", help="the weights file (.npz or .safetensors)")
    add_memory_option(p)
    add_spec_options(p)


def run(args) -> int:
    check_output_paths({"-o": args.output}, {"FILE": args.file})
    try:
        weights_format(args.output)  # a wrong suffix is known before any weight is drawn
        weights = load_net(args).init_weights(seed=args.seed, max_memory=args.max_memory)
        save_weights(args.output, weights)
    except WeightsError as e:
        raise UsageError(str(e)) from None
    return 0
