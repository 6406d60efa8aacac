"""spec2net build FILE --backend keras|torch [-o OUT.py]: write a standalone module."""

from __future__ import annotations

import sys

from ..cli import UsageError, add_spec_options, load_net
from ..fileio import atomic_write, check_output_paths, shown

HELP = "write a standalone Keras 3 or PyTorch module for the spec"


def add_arguments(p):
    p.add_argument("file", metavar="FILE")
    p.add_argument("--backend", required=True, choices=("keras", "torch"))
    p.add_argument("-o", "--output", default="-", metavar="OUT.py", help="where to write ('-': stdout)")
    p.add_argument("--standalone", action="store_true",
                   help="torch: paste spec2net's runtime into the module instead of importing it")
    add_spec_options(p)


def run(args) -> int:
    check_output_paths({"-o": args.output}, {"FILE": args.file})
    if args.standalone and args.backend != "torch":
        raise UsageError("--standalone is for --backend torch (the Keras module imports only keras)")
    net = load_net(args)
    if args.standalone:
        from ..backends.torch import build_source

        source = build_source(net.ir, standalone=True).source
    else:
        source = net.build(args.backend)
    if args.output == "-":
        sys.stdout.write(source)
        return 0
    try:
        atomic_write(args.output, source)
    except OSError as e:
        raise UsageError(f"{shown(args.output)}: cannot write: {e.strerror or e}") from None
    return 0
