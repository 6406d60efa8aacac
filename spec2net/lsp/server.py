"""The pygls server: documents, debounced analysis, and the LSP features wired to this package.

Every request reads the document's latest Analysis (one parse and check per change, made at
most ``DEBOUNCE`` seconds after typing stops, or at once when a request needs it). Positions
are converted here between the client's units (UTF-16 by default) and the compiler's 1-based
line and character columns.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import unquote, urlparse

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer

from .. import __version__
from . import complete as C
from . import navigate as N
from .analysis import Analysis, analyze

DEBOUNCE = 0.1  # seconds of quiet after a change before it is analysed
RELATED = re.compile(r"\bat (\d+):(\d+)\b")  # "the other at 3:9", "opened at 3:9": a place in the same file
SEVERITY = {"error": T.DiagnosticSeverity.Error, "warning": T.DiagnosticSeverity.Warning}
KINDS = {"constant": T.SymbolKind.Constant, "function": T.SymbolKind.Function, "module": T.SymbolKind.Module,
         "variable": T.SymbolKind.Variable, "class": T.SymbolKind.Class, "field": T.SymbolKind.Field}
ITEM_KINDS = {"class": T.CompletionItemKind.Class, "function": T.CompletionItemKind.Function,
              "variable": T.CompletionItemKind.Variable, "constant": T.CompletionItemKind.Constant,
              "keyword": T.CompletionItemKind.Keyword, "argument": T.CompletionItemKind.Field,
              "property": T.CompletionItemKind.Property, "value": T.CompletionItemKind.Value,
              "type": T.CompletionItemKind.TypeParameter}


class Document:
    def __init__(self, uri: str, text: str, version: int | None):
        self.uri, self.text, self.version = uri, text, version
        self.analysis: Analysis | None = None
        self.timer: asyncio.TimerHandle | None = None


class SpecServer(LanguageServer):
    def __init__(self):
        super().__init__("spec2net", __version__, text_document_sync_kind=T.TextDocumentSyncKind.Incremental)
        self.docs: dict[str, Document] = {}

    def analysis(self, uri: str) -> tuple[Document, Analysis] | tuple[None, None]:
        """The document's analysis of its current text (made now if a change is still waiting)."""
        doc = self.docs.get(uri)
        if doc is None:
            return None, None
        if doc.analysis is None:
            self.refresh(doc)
        return doc, doc.analysis

    def changed(self, uri: str, version: int | None) -> None:
        doc = self.docs[uri]
        doc.text, doc.version, doc.analysis = self.workspace.get_text_document(uri).source, version, None
        if doc.timer is not None:
            doc.timer.cancel()
        doc.timer = asyncio.get_running_loop().call_later(DEBOUNCE, self.refresh, doc)

    def refresh(self, doc: Document) -> None:
        """Analyse the document's text (if not done yet) and publish its diagnostics."""
        if doc.timer is not None:
            doc.timer.cancel()
            doc.timer = None
        if doc.analysis is not None or self.docs.get(doc.uri) is not doc:
            return
        try:
            doc.analysis = analyze(doc.text, file_of(doc.uri))
        except Exception as e:  # noqa: BLE001  (a bug of ours: logged; the editor keeps working on the next change)
            self.window_log_message(T.LogMessageParams(T.MessageType.Error, f"spec2net lsp: internal error: "
                                                       f"{type(e).__name__}: {e} (please report it)"))
            doc.analysis = Analysis(doc.text, doc.text.split("\n"), [], None)
        diagnostics = [lsp_diagnostic(d, doc) for d in doc.analysis.diagnostics]
        self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(doc.uri, diagnostics, doc.version))


def file_of(uri: str) -> str:
    """The path a diagnostic names: the file's path for a file: URI, else the URI."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


# -- positions -------------------------------------------------------------------------------------
def _units(text: str) -> int:
    """UTF-16 code units of ``text`` (the protocol's default unit)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def to_lsp(lines: list, line: int, col: int) -> T.Position:
    """The compiler's 1-based (line, character column) as an LSP position."""
    if line < 1:
        return T.Position(0, 0)
    if line > len(lines):
        return T.Position(len(lines) - 1, _units(lines[-1]))
    text = lines[line - 1]
    return T.Position(line - 1, _units(text[: max(col - 1, 0)]))


def from_lsp(lines: list, pos: T.Position) -> tuple[int, int]:
    """An LSP position as the compiler's 1-based (line, character column)."""
    if pos.line >= len(lines):
        return len(lines), len(lines[-1]) + 1
    text, units, col = lines[pos.line], 0, 0
    while col < len(text) and units < pos.character:
        units += 2 if ord(text[col]) > 0xFFFF else 1
        col += 1
    return pos.line + 1, col + 1


def name_range(lines: list, span, name: str) -> T.Range:
    return T.Range(to_lsp(lines, span.line, span.col), to_lsp(lines, span.line, span.col + len(name)))


def span_range(lines: list, span) -> T.Range:
    """The span's range; a span without its end covers the word (or the one character) it starts at."""
    start = to_lsp(lines, span.line, span.col)
    if span.end_line and (span.end_line, span.end_col) > (span.line, span.col):
        return T.Range(start, to_lsp(lines, span.end_line, span.end_col))
    if span.line < 1:
        return T.Range(start, start)
    text = lines[span.line - 1] if span.line <= len(lines) else ""
    end = span.col
    while end - 1 < len(text) and (text[end - 1].isalnum() or text[end - 1] == "_"):
        end += 1
    return T.Range(start, to_lsp(lines, span.line, max(end, span.col + 1)))


def lsp_diagnostic(d, doc: Document) -> T.Diagnostic:
    lines = doc.analysis.lines
    rng = span_range(lines, d.span) if d.span else T.Range(T.Position(0, 0), T.Position(0, 0))
    related = [T.DiagnosticRelatedInformation(
        T.Location(doc.uri, span_range(lines, _Span(int(m[1]), int(m[2])))), m.group(0))
        for m in RELATED.finditer(d.message)]
    return T.Diagnostic(rng, d.message, SEVERITY.get(d.severity, T.DiagnosticSeverity.Error), d.code, source="spec2net",
                        related_information=related or None)


class _Span:
    def __init__(self, line, col):
        self.line, self.col, self.end_line, self.end_col = line, col, 0, 0


# -- features ----------------------------------------------------------------------------------------
def make_server() -> SpecServer:
    ls = SpecServer()

    @ls.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SpecServer, params: T.DidOpenTextDocumentParams):
        item = params.text_document
        doc = ls.docs[item.uri] = Document(item.uri, item.text, item.version)
        ls.refresh(doc)

    @ls.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SpecServer, params: T.DidChangeTextDocumentParams):
        if params.text_document.uri in ls.docs:
            ls.changed(params.text_document.uri, params.text_document.version)

    @ls.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SpecServer, params: T.DidCloseTextDocumentParams):
        doc = ls.docs.pop(params.text_document.uri, None)
        if doc is not None and doc.timer is not None:
            doc.timer.cancel()
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(params.text_document.uri, []))

    @ls.feature(T.TEXT_DOCUMENT_HOVER)
    def hover(ls: SpecServer, params: T.HoverParams):
        _doc, a = ls.analysis(params.text_document.uri)
        if a is None:
            return None
        line, col = from_lsp(a.lines, params.position)
        text = N.hover(a, line, col)
        if text is None:
            return None
        occ = a.index.at(line, col) or a.index.keyword_at(line, col)
        return T.Hover(T.MarkupContent(T.MarkupKind.Markdown, text), name_range(a.lines, occ.span, occ.name))

    @ls.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=["(", "=", ",", ":", "["]))
    def completion(ls: SpecServer, params: T.CompletionParams):
        doc, a = ls.analysis(params.text_document.uri)
        if a is None:
            return None
        line, col = from_lsp(a.lines, params.position)
        offset = sum(len(x) + 1 for x in a.lines[: line - 1]) + col - 1
        items = [T.CompletionItem(label=i["label"], kind=ITEM_KINDS.get(i["kind"]), detail=i["detail"],
                                  documentation=T.MarkupContent(T.MarkupKind.Markdown, i["documentation"])
                                  if i["documentation"] else None,
                                  insert_text=i["insert"], filter_text=i["filter"])
                 for i in C.complete(a, doc.text, offset, line)]
        return T.CompletionList(is_incomplete=False, items=items)

    @ls.feature(T.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: SpecServer, params: T.DefinitionParams):
        doc, a = ls.analysis(params.text_document.uri)
        if a is None:
            return None
        occ = N.definition(a, *from_lsp(a.lines, params.position))
        return None if occ is None else T.Location(doc.uri, name_range(a.lines, occ.span, occ.name))

    @ls.feature(T.TEXT_DOCUMENT_REFERENCES)
    def references(ls: SpecServer, params: T.ReferenceParams):
        doc, a = ls.analysis(params.text_document.uri)
        if a is None:
            return None
        occs = N.references(a, *from_lsp(a.lines, params.position), params.context.include_declaration)
        return [T.Location(doc.uri, name_range(a.lines, o.span, o.name)) for o in occs]

    @ls.feature(T.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(ls: SpecServer, params: T.PrepareRenameParams):
        _doc, a = ls.analysis(params.text_document.uri)
        occ = None if a is None else N.renameable(a, *from_lsp(a.lines, params.position))
        return None if occ is None else T.PrepareRenamePlaceholder(name_range(a.lines, occ.span, occ.name), occ.name)

    @ls.feature(T.TEXT_DOCUMENT_RENAME, T.RenameOptions(prepare_provider=True))
    def rename(ls: SpecServer, params: T.RenameParams):
        doc, a = ls.analysis(params.text_document.uri)
        occ = None if a is None else N.renameable(a, *from_lsp(a.lines, params.position))
        if occ is None:
            return None
        problem = N.rename_error(params.new_name)
        if problem:
            raise ValueError(problem)  # pygls answers the request with this message as its error
        edits = [T.TextEdit(name_range(a.lines, o.span, o.name), params.new_name) for o in a.index.references(occ)]
        return T.WorkspaceEdit(changes={doc.uri: edits})

    @ls.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(ls: SpecServer, params: T.DocumentSymbolParams):
        _doc, a = ls.analysis(params.text_document.uri)
        return None if a is None else [_symbol(a.lines, s) for s in N.symbols(a)]

    @ls.feature(T.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: SpecServer, params: T.DocumentFormattingParams):
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        return format_edits(doc.text, file_of(doc.uri))

    return ls


def format_edits(text: str, file: str) -> list[T.TextEdit] | None:
    """One edit replacing the whole text with `spec2net fmt`'s layout; none if already so, and
    None for a file that does not parse (its diagnostics say why)."""
    from ..diagnostics import SpecError
    from ..fmt import format_text  # spec2net fmt's own function, imported when first asked for

    try:
        new = format_text(text, file)
    except SpecError:  # a file that does not parse is left as it is; its diagnostics say why
        return None
    if new == text:
        return []
    lines = text.split("\n")
    end = T.Position(len(lines) - 1, _units(lines[-1]))
    return [T.TextEdit(T.Range(T.Position(0, 0), end), new)]


def _symbol(lines, s: dict) -> T.DocumentSymbol:
    sel = span_range(lines, s["span"])
    start = to_lsp(lines, s["start"].line, s["start"].col)
    end = to_lsp(lines, *s["end"]) if s["end"] else sel.end
    if (end.line, end.character) < (sel.end.line, sel.end.character):
        end = sel.end
    return T.DocumentSymbol(s["name"], KINDS[s["kind"]], T.Range(start, end), sel, detail=s["detail"] or None,
                            children=[_symbol(lines, c) for c in s["children"]] or None)
