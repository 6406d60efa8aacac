"""spec2net lsp: the language server for editors, on stdin/stdout (LSP; needs the `lsp` extra)."""

from __future__ import annotations

from ..cli import UsageError

HELP = "the language server for editors (LSP on stdin/stdout)"
MISSING = "the language server needs pygls and lsprotocol: pip install 'spec2net[lsp]'"


def add_arguments(p):
    p.add_argument("--stdio", action="store_true", help="serve on stdin/stdout (the default and only transport; "
                   "accepted because editor clients pass it)")
    p.add_argument("--check-deps", action="store_true",
                   help="only check that the server's packages are installed, print their versions and exit")


def run(args) -> int:
    try:
        from importlib.metadata import version

        from ..lsp.server import make_server
    except ImportError:
        raise UsageError(MISSING) from None
    if args.check_deps:
        print(f"pygls {version('pygls')}, lsprotocol {version('lsprotocol')}: the language server can run")
        return 0
    make_server().start_io()
    return 0
