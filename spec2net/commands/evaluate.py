"""spec2net evaluate FILE --data DATA.npz --weights W.npz [--batch-size B] [--json]: Keras's
``evaluate`` with the NumPy interpreter."""

from __future__ import annotations

import json

from ..budget import resolve
from ..cli import UsageError, add_memory_option, add_spec_options, load_net
from ..weights import load_weights
from .datafiles import blaming, load_data, strict_json

HELP = ("the loss and metrics of the spec with these weights on a data set (Keras's evaluate), with NumPy, "
        "PyTorch or Keras (--backend)")


def add_arguments(p):
    add_batched_arguments(p, "--data", "DATA.npz", "inputs keyed by input names and targets keyed by output names",
                          "evaluate")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of one line per value")
    add_engine_options(p, "evaluate")
    add_memory_option(p)
    add_spec_options(p)


def add_batched_arguments(p, data_flag: str, metavar: str, data_help: str, verb: str) -> None:
    """FILE, the data file, --weights and --batch-size: what evaluate and predict both take."""
    p.add_argument("file", metavar="FILE")
    p.add_argument(data_flag, required=True, metavar=metavar, help=data_help)
    p.add_argument("--weights", required=True, metavar="W.npz", help=f"the weights to {verb}")
    p.add_argument("--batch-size", type=int, default=32, metavar="B",
                   help="samples per batch (default 32, as Keras); the numbers do not depend on it")


def add_engine_options(p, verb: str) -> None:
    """--backend and --device: which engine runs the command (spec2net.engines), and where."""
    from ..engines import ENGINES

    p.add_argument("--backend", choices=tuple(ENGINES), default="numpy",
                   help=f"{verb} with the NumPy reference (default), or the generated PyTorch or Keras module "
                        "run in-process; the same data, flags, outputs and exit codes")
    p.add_argument("--device", metavar="DEVICE",
                   help="cpu (default), cuda, cuda:N or mps (torch); cpu, cuda or cuda:N (keras)")


def engine_of(args):
    """The engine module of ``--backend`` (a usage error where its framework is missing)."""
    from ..engines import engine

    return engine(args.backend)


def checked_batch_size(args) -> int:
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")
    return args.batch_size


def run(args) -> int:
    batch_size = checked_batch_size(args)
    net = load_net(args)
    data = load_data(args.data, net, max_memory=args.max_memory)
    with blaming({None: args.data}):
        weights = load_weights(args.weights, max_bytes=resolve(args.max_memory))
        logs = engine_of(args).evaluate(net, data, weights, batch_size=batch_size, max_memory=args.max_memory,
                                        device=args.device)
    if args.json:
        print(json.dumps(strict_json(logs), allow_nan=False))
    else:
        for key, value in logs.items():
            print(f"{key}: {value:.6g}")
    return 0
