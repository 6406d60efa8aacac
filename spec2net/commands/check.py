"""spec2net check FILE...: parse and check; print nothing else on success."""

from __future__ import annotations

from ..cli import UsageError, add_spec_options, defines_of, print_diagnostics, spec_size_of
from ..diagnostics import SpecError
from ..fileio import shown
from ..loader import check_text, read_source, select

HELP = "parse and check spec files; report every error"


def add_arguments(p):
    p.add_argument("files", nargs="+", metavar="FILE")
    add_spec_options(p)


def run(args) -> int:
    defines = defines_of(args)
    failed = False
    for file in args.files:
        try:
            text, diags = read_source(file, spec_size_of(args))
        except OSError as e:
            raise UsageError(f"{shown(file)}: cannot read: {e.strerror or e}") from None
        lines = text.split("\n") if text is not None else []  # as the lexer counts lines
        models = {}
        if text is not None:
            models, diags = check_text(text, file, defines)
        if models and args.model is not None:
            try:
                select(models, args.model, file)
            except SpecError as e:
                diags += e.diagnostics
        print_diagnostics(diags, {file: lines})
        failed |= any(d.severity == "error" for d in diags) or not models
    return 1 if failed else 0
