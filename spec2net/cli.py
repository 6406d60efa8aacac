"""The ``spec2net`` command line. Each command lives in spec2net/commands/ and
exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.

Exit codes (CONTRACT.md): 0 ok, 1 errors in the spec (or `train` diverged), 2 usage, I/O or data errors.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__
from .diagnostics import SpecError, render
from .fileio import PathError, shown

# Command name -> module in spec2net/commands/ (`import` is a Python keyword).
COMMANDS = {
    "check": "check",
    "summary": "summary",
    "build": "build",
    "init": "init",
    "run": "run",
    "predict": "predict",
    "evaluate": "evaluate",
    "train": "train",
    "equiv": "equiv",
    "import": "import_model",
    "graph": "graph",
    "fmt": "fmt",
    "lsp": "lsp",
}


class UsageError(Exception):
    """A problem with the command line or a file outside the spec: exit 2."""


def add_spec_options(p: argparse.ArgumentParser) -> None:
    """--model and -D, taken by every command that reads a spec."""
    p.add_argument("--model", help="the model to use (default: the only, or else the last, of the file)")
    p.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME=VALUE",
                   help="override a `let` of the spec (repeatable)")
    p.add_argument("--max-spec-size", type=_size, default=None, metavar="SIZE",
                   help="refuse a spec file larger than this (default 16M; 0: no limit)")


def add_memory_option(p: argparse.ArgumentParser) -> None:
    """--max-memory, taken by the commands that allocate weights and activations."""
    p.add_argument("--max-memory", type=_size, default=None, metavar="SIZE",
                   help="refuse, before allocating, a model needing more memory than this (e.g. 512M, 16G; "
                        "0: no limit; default: half the machine's memory)")


def _size(text: str) -> int:
    from .budget import parse_size

    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def at_least(low: int):
    """An argparse type: an integer >= ``low`` (``type=at_least(1)``), else a usage error (exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"  # argparse names the type in its own messages
    return parse


def spec_size_of(args) -> int:
    """The --max-spec-size limit in bytes (0: none)."""
    from .fileio import MAX_SPEC_SIZE

    size = getattr(args, "max_spec_size", None)
    return MAX_SPEC_SIZE if size is None else size or (1 << 62)


def defines_of(args) -> dict:
    from .loader import parse_define

    out = {}
    for item in args.defines:
        name, eq, value = item.partition("=")
        if not eq or not name.isidentifier():
            raise UsageError(f"-D expects NAME=VALUE, got {item!r}")
        try:
            out[name] = parse_define(value)
        except ValueError as e:  # a number out of range: 99999999999999999999, 1e999
            raise UsageError(f"-D {name}: {e}") from None
    return out


def load_net(args):
    """The Net that --model and -D select in args.file (raises SpecError/UsageError)."""
    from . import Net
    from .loader import load_model

    try:
        model, diags, lines = load_model(args.file, args.model, defines_of(args), spec_size_of(args))
    except OSError as e:
        raise UsageError(f"{shown(args.file)}: cannot read: {e.strerror or e}") from None
    print_diagnostics([d for d in diags if d.severity == "warning"], {args.file: lines})
    return Net(model, sources={model.file: lines})


def print_diagnostics(diags, sources) -> None:
    for line in render(diags, sources):  # at most diagnostics.MAX_SHOWN errors, then a count
        print(line, file=sys.stderr)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="spec2net", description="Compile .net model specs: check them, run "
                                     "them with NumPy, build Keras or PyTorch modules from them.")
    parser.add_argument("--version", action="version", version=f"spec2net {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = {}
    for name, module in COMMANDS.items():
        mod = importlib.import_module(f".commands.{module}", __package__)
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        modules[name] = mod
    args = parser.parse_args(argv)
    try:
        return modules[args.command].run(args)
    except SpecError as e:
        print("\n".join(e.render()), file=sys.stderr)
        return 1
    except (UsageError, PathError) as e:
        print(f"spec2net {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `spec2net run ... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # a bug of ours: one line, not a traceback (SPEC2NET_DEBUG=1 shows it)
        if os.environ.get("SPEC2NET_DEBUG"):
            raise
        print(f"spec2net {args.command}: internal error: {type(e).__name__}: {e} "
              "(please report it; SPEC2NET_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
