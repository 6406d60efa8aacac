"""spec2net lsp: the language server (pygls) behind editor support."""
