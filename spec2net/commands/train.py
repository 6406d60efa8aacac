"""spec2net train FILE --data DATA.npz [...] -o W_OUT.npz [--history H.json]: Keras fit() with NumPy."""

from __future__ import annotations

import json
import sys

from ..budget import resolve
from ..cli import UsageError, add_memory_option, add_spec_options, load_net
from ..diagnostics import SpecError
from ..fileio import atomic_write_many, check_output_paths, shown
from ..weights import WeightsError, load_weights, weights_bytes, weights_format
from .datafiles import blaming, load_data, strict_json
from .evaluate import add_engine_options

HELP = ("train the spec with Keras fit() semantics (the NumPy trainer, or in-process PyTorch or Keras: "
        "--backend) and write the trained weights")


def add_arguments(p):
    p.add_argument("file", metavar="FILE")
    p.add_argument("--data", required=True, metavar="DATA.npz",
                   help="inputs keyed by input names and targets keyed by output names")
    p.add_argument("--weights", metavar="W.npz", help="start weights (default: those of `init --seed S`)")
    p.add_argument("--epochs", type=int, help="override the fit block's epochs")
    p.add_argument("--batch-size", type=int, help="override the fit block's batch_size")
    p.add_argument("--shuffle", action=_Bool, nargs=0, help="shuffle each epoch (--no-shuffle: keep order)")
    p.add_argument("--no-shuffle", dest="shuffle", action=_Bool, nargs=0, help="keep the data's order")
    p.add_argument("--validation-split", type=float, help="validate on this last fraction of the data")
    p.add_argument("--validation-data", metavar="VAL.npz",
                   help="validate on this data set instead (as Keras's validation_data: it takes precedence "
                        "over --validation-split)")
    p.add_argument("--keep-going", action="store_true",
                   help="train on when the loss becomes NaN or infinite, as Keras does (default: stop, exit 1, "
                        "write nothing); non-finite history values are written as null")
    p.add_argument("--seed", type=int, default=0, help="seeds start weights, shuffling and dropout (default 0)")
    p.add_argument("-o", "--output", required=True, metavar="W_OUT.npz", help="where to write trained weights")
    p.add_argument("--history", metavar="H.json", help="write the per-epoch loss and metrics as JSON")
    add_engine_options(p, "train")
    add_memory_option(p)
    add_spec_options(p)


class _Bool:
    """--shuffle / --no-shuffle on one destination."""

    def __new__(cls, option_strings, dest, nargs=None, **kw):
        import argparse

        class Action(argparse.Action):
            def __call__(self, parser, ns, values, option_string=None):
                setattr(ns, self.dest, not option_string.startswith("--no-"))

        return Action(option_strings, dest, nargs=0, default=None, **kw)


def run(args) -> int:
    from ..engines import distributed

    if not distributed.active():
        return _train(args)
    if args.backend != "torch":
        raise UsageError(f"torchrun trains with --backend torch only, not {args.backend}")
    # torchrun: every rank runs this; rank 0 alone writes and speaks, unless its own error is not
    # everyone's (a deterministic one -- the spec, the data, the flags -- every rank finds alike)
    try:
        return _train(args)
    except (UsageError, SpecError) as e:
        if distributed.rank() == 0:
            raise
        return 1 if isinstance(e, SpecError) else 2
    except distributed.Stopped as e:
        print(f"spec2net train: error: rank {distributed.rank()} of {distributed.world()}: stopped: {e}",
              file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 -- this rank's own failure (the session told the others)
        print(f"spec2net train: error: rank {distributed.rank()} of {distributed.world()}: {type(e).__name__}: {e}",
              file=sys.stderr)
        return 1


def _train(args) -> int:
    from ..backends.numpy import InputError
    from ..backends.numpy.train import NonFiniteError, TrainError
    from ..engines import distributed, engine
    from ..progress import Progress

    # Before anything else: a bad -o must not cost hours of training, nor replace an input.
    check_output_paths({"-o": args.output, "--history": args.history},
                       {"FILE": args.file, "--data": args.data, "--weights": args.weights,
                        "--validation-data": getattr(args, "validation_data", None)})
    net = load_net(args)
    data = load_data(args.data, net, max_memory=args.max_memory)
    val = None if args.validation_data is None else load_data(args.validation_data, net, max_memory=args.max_memory)
    for flag, value, lo in (("--epochs", args.epochs, 1), ("--batch-size", args.batch_size, 1)):
        if value is not None and value < lo:
            raise UsageError(f"{flag} must be >= {lo}, got {value}")
    if args.validation_split is not None and not 0 <= args.validation_split < 1:
        raise UsageError(f"--validation-split must lie in [0, 1), got {args.validation_split}")
    first = distributed.rank() == 0  # the only process (or rank 0 under torchrun): it writes and draws
    try:
        weights_format(args.output)
        # Without --weights, the engine draws them itself, after checking the memory budget.
        weights = load_weights(args.weights, max_bytes=resolve(args.max_memory)) if args.weights else None
        progress = Progress(args.epochs or (net.ir.fit or {}).get("epochs", 1)) if first else None
        with distributed.session(args.device), blaming({None: args.data, "validation_data": args.validation_data}):
            weights, history = engine(args.backend).train(
                net, data, weights, epochs=args.epochs, batch_size=args.batch_size, shuffle=args.shuffle,
                validation_split=args.validation_split, seed=args.seed, callback=progress,
                max_memory=args.max_memory, validation_data=val, keep_going=args.keep_going, device=args.device)
        outputs = [(args.output, weights_bytes(args.output, weights))]
    except NonFiniteError as e:  # the spec's training diverged, not a usage error: exit 1, nothing written
        if first:
            print(f"spec2net train: error: {e}", file=sys.stderr)
        return 1
    except (WeightsError, InputError, TrainError) as e:
        raise UsageError(str(e)) from None
    if not first:
        return 0
    if args.history:
        outputs.append((args.history, json.dumps(strict_json(history), indent=2, allow_nan=False) + "\n"))
    try:
        atomic_write_many(outputs)
    except OSError as e:
        raise UsageError(f"{shown(e.filename or 'the outputs')}: cannot write: {e.strerror or e}") from None
    return 0
