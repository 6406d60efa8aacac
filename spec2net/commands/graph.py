"""spec2net graph FILE -o MODEL.svg|.dot|.html: a picture of the model, laid out in Python."""

from __future__ import annotations

import sys
from pathlib import Path

from ..cli import UsageError, add_spec_options, load_net
from ..fileio import atomic_write, check_output_paths, shown

HELP = "draw a picture of the model (.svg, .dot or a self-contained .html)"


def add_arguments(p):
    from ..graph import FORMATS

    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--output", required=True, metavar="OUT.svg",
                   help="where to write: .svg, .dot or .html ('-': stdout, with --format)")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="the format, where the suffix of -o does not say it")
    add_spec_options(p)


def _format(args) -> str:
    from ..graph import FORMATS

    if args.format is not None:
        return args.format
    suffix = Path(args.output).suffix.lower().lstrip(".")
    if args.output == "-" or suffix not in FORMATS:
        raise UsageError(f"-o {shown(args.output)}: cannot tell the format from the name; "
                         f"end it in .svg, .dot or .html, or give --format {{{','.join(FORMATS)}}}")
    return suffix


def run(args) -> int:
    from ..graph import render

    check_output_paths({"-o": args.output}, {"FILE": args.file})
    fmt = _format(args)
    text = render(load_net(args).ir, fmt)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    try:
        atomic_write(args.output, text)
    except OSError as e:
        raise UsageError(f"{shown(args.output)}: cannot write: {e.strerror or e}") from None
    return 0
