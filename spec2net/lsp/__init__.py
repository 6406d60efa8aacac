"""spec2net lsp: the language server (pygls) behind editor support.

A thin layer over the compiler's own passes (docs/editors.md): ``analysis`` runs the parser and
checker once per change and records what every name evaluated to; ``scopes`` indexes where names
are bound and used; ``describe``, ``navigate`` and ``complete`` answer hovers, navigation and
completion from those; ``server`` wires them to pygls. Only ``server`` imports pygls.
"""
