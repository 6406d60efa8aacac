"""`spec2net lsp` in real sessions: a pytest-lsp client starts the server as a user's editor would
(``python -m spec2net lsp`` on stdio) and scripts open, change, hover, completion, navigation,
rename, outline and formatting. One server for the module: its start-up is most of the cost."""

from __future__ import annotations

import asyncio
import sys

import pytest

pytest.importorskip("pygls", reason="the language server needs pygls: pip install 'spec2net[lsp]'")
pytest_lsp = pytest.importorskip("pytest_lsp", reason="the LSP tests need pytest-lsp: pip install 'spec2net[dev]'")

from conftest import ROOT
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient

import spec2net
from spec2net.loader import check_text

session = pytest.mark.asyncio(loop_scope="module")  # the async tests share the module's server
SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "spec2net", "lsp"])
SPAM = (ROOT / "examples" / "spam.net").read_text()
SHARED = (ROOT / "examples" / "shared.net").read_text()


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(T.InitializeParams(capabilities=T.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


async def published(client: LanguageClient, uri: str, version: int) -> list[T.Diagnostic]:
    """The diagnostics the server publishes for this version of the document."""
    while True:
        params = await asyncio.wait_for(client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 20)
        if params.uri == uri and params.version == version:
            return list(params.diagnostics)


async def open_doc(client: LanguageClient, name: str, text: str) -> tuple[str, list[T.Diagnostic]]:
    uri = f"file:///specs/{name}"
    client.text_document_did_open(T.DidOpenTextDocumentParams(T.TextDocumentItem(uri, "spec2net", 1, text)))
    return uri, await published(client, uri, 1)


async def change(client: LanguageClient, uri: str, version: int, text: str) -> list[T.Diagnostic]:
    client.text_document_did_change(T.DidChangeTextDocumentParams(
        T.VersionedTextDocumentIdentifier(version, uri), [T.TextDocumentContentChangeWholeDocument(text)]))
    return await published(client, uri, version)


def at(text: str, needle: str, nth: int = 0, offset: int = 0) -> T.Position:
    """The LSP position of the ``nth`` occurrence of ``needle`` in ``text`` (plus ``offset`` characters)."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    i += offset
    line = text.count("\n", 0, i)
    return T.Position(line, i - (text.rfind("\n", 0, i) + 1))


def rng(r: T.Range) -> tuple:
    return (r.start.line, r.start.character, r.end.line, r.end.character)


async def hover_text(client, uri, pos) -> str:
    h = await client.text_document_hover_async(T.HoverParams(T.TextDocumentIdentifier(uri), pos))
    return h.contents.value if h else ""


async def labels(client, uri, pos) -> dict:
    result = await client.text_document_completion_async(T.CompletionParams(T.TextDocumentIdentifier(uri), pos))
    return {item.label: item for item in result.items}


BAD = """model m {
    input a: float32[4]
    input a: float32[8]
    input unused: float32[2]
    h = Dense(8, activaton=relu)(a)
    output y = Dense(1)(h)
}
"""


@session
async def test_diagnostics_at_their_ranges_then_cleared_by_the_fix(client: LanguageClient):
    uri, diags = await open_doc(client, "bad.net", BAD)
    by_code = {d.code: d for d in diags}
    # the checker's own diagnostics, no more and no fewer
    assert [(d.code, d.message) for d in diags] == [(d.code, d.message) for d in check_text(BAD, "/specs/bad.net")[1]]
    assert set(by_code) == {"duplicate-input", "unknown-arg"}
    dup = by_code["duplicate-input"]
    assert rng(dup.range) == (2, 10, 2, 11)  # the second `a`
    assert dup.severity == T.DiagnosticSeverity.Error and dup.source == "spec2net"
    (related,) = dup.related_information  # "the other at 2:11"
    assert rng(related.location.range)[:2] == (1, 10) and related.location.uri == uri
    arg = by_code["unknown-arg"]
    assert rng(arg.range) == (4, 17, 4, 26) and "did you mean 'activation'" in arg.message
    fixed = BAD.replace("    input a: float32[8]\n", "").replace("activaton", "activation")
    diags = await change(client, uri, 2, fixed)
    assert [(d.code, d.severity) for d in diags] == [("unused-input", T.DiagnosticSeverity.Warning)]
    assert rng(diags[0].range)[:2] == (2, 10)
    assert await change(client, uri, 3, fixed.replace("    input unused: float32[2]\n", "")) == []


@session
async def test_syntax_error_is_located_and_the_text_before_it_still_answers(client: LanguageClient):
    text = SPAM.replace("y = Dense(1, activation=sigmoid)(x)", "y = Dense(1, activation=sig")
    uri, diags = await open_doc(client, "broken.net", text)
    assert [d.code for d in diags] == ["syntax"] and "opened at 8:14" in diags[0].message
    assert "x: float32[32]" in await hover_text(client, uri, at(text, "x = SimpleRNN", offset=0))
    items = await labels(client, uri, at(text, "=sig", offset=4))
    assert "sigmoid" in items and "relu" in items and "Dense" not in items  # activations only
    items = await labels(client, uri, at(text, "Dense(1, ", offset=9))
    assert {"units=", "activation=", "kernel_initializer="} <= set(items) and "x" in items and "text" in items


@session
async def test_hover_tensor_layer_and_let(client: LanguageClient):
    uri, diags = await open_doc(client, "spam.net", SPAM)
    assert diags == []
    model = spec2net.loads(SPAM).ir
    emb = model.layers[0]
    text = await hover_text(client, uri, at(SPAM, "x = Embedding"))
    assert "x: int32" not in text and "x: float32[100, 32]" in text and "`embedding` (Embedding" in text
    assert list(emb.nodes[0].outputs[0].type.shape) == [100, 32]
    text = await hover_text(client, uri, at(SPAM, "Dense(1", offset=2))
    dense = model.layers[-1]
    assert "Dense 'dense' → float32[1]" in text and f"{sum(p.size for p in dense.params)} parameters" in text
    for arg in ("units=1", "activation=sigmoid", "use_bias=true", "bias_initializer=zeros",
                "kernel_initializer=glorot_uniform(seed=none)", "kernel_regularizer=none"):
        assert arg in text
    assert "let max_features = 10000" in await hover_text(client, uri, at(SPAM, "max_features", offset=3))
    assert "max_features = 10000" in await hover_text(client, uri, at(SPAM, "max_features", 1))
    assert "layers, 322,113 parameters" in await hover_text(client, uri, at(SPAM, "spam {"))


@session
async def test_completion_after_a_prefix_and_in_compile(client: LanguageClient):
    text = SPAM.replace("    output y\n", "    z = Dens\n    output y\n")
    uri, _ = await open_doc(client, "complete.net", text)
    items = await labels(client, uri, at(text, "Dens\n", offset=4))
    assert items["Dense"].detail.startswith("Dense(units, activation=linear, use_bias=true, ")
    assert items["Dense"].kind == T.CompletionItemKind.Class
    assert items["x"].detail == "float32[32]" and items["max_features"].kind == T.CompletionItemKind.Constant
    assert "y" in items and "z" not in items  # z is bound by the line being written
    items = await labels(client, uri, at(text, "= rmsprop", offset=2))
    assert {"adam", "sgd", "rmsprop"} <= set(items) and "Dense" not in items
    items = await labels(client, uri, at(text, "[accuracy", offset=1))
    assert "accuracy" in items and "adam" not in items
    items = await labels(client, uri, at(text, "int32", offset=0))
    assert {"float32", "int32"} <= set(items)


@session
async def test_definition_references_and_outline_of_a_shared_layer(client: LanguageClient):
    uri, _ = await open_doc(client, "shared.net", SHARED)
    use = at(SHARED, "encoder(right)", offset=3)
    loc = await client.text_document_definition_async(T.DefinitionParams(T.TextDocumentIdentifier(uri), use))
    assert rng(loc.range) == rng(T.Range(at(SHARED, "encoder ="), at(SHARED, "encoder =", offset=7)))
    refs = await client.text_document_references_async(T.ReferenceParams(
        text_document=T.TextDocumentIdentifier(uri), position=use, context=T.ReferenceContext(include_declaration=True)))
    assert [r.range.start.line for r in refs] == [4, 5, 6]
    assert "applied 2 times" in await hover_text(client, uri, use)
    symbols = await client.text_document_document_symbol_async(
        T.DocumentSymbolParams(T.TextDocumentIdentifier(uri)))
    (model,) = symbols
    assert model.name == "siamese" and model.kind == T.SymbolKind.Module
    assert [c.name for c in model.children] == ["left", "right", "encoder", "subtract", "similar", "dense"]


@session
async def test_rename_a_tensor_and_a_let(client: LanguageClient):
    text = "let width = 8\n" + SHARED.replace("Dense(8,", "Dense(width,")
    uri, _ = await open_doc(client, "rename.net", text)
    for old, new in (("d = subtract", "diff"), ("width = 8", "units")):
        pos = at(text, old)
        prep = await client.text_document_prepare_rename_async(
            T.PrepareRenameParams(T.TextDocumentIdentifier(uri), pos))
        assert prep.placeholder == old.split()[0]
        edit = await client.text_document_rename_async(T.RenameParams(T.TextDocumentIdentifier(uri), pos, new))
        edits = edit.changes[uri]
        assert len(edits) == 2
        lines = text.split("\n")
        for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
            s, t = e.range.start, e.range.end
            lines[s.line] = lines[s.line][: s.character] + e.new_text + lines[s.line][t.character:]
        renamed = "\n".join(lines)
        assert spec2net.loads(renamed).ir.count_params() == spec2net.loads(text).ir.count_params()
        assert f"{new} = " in renamed and f"{old.split()[0]} =" not in renamed.replace(f"{new} =", "")
    prep = await client.text_document_prepare_rename_async(
        T.PrepareRenameParams(T.TextDocumentIdentifier(uri), at(text, "Dense(1")))
    assert prep is None  # a layer class is the language's, not the file's
    with pytest.raises(Exception, match="keyword"):
        await client.text_document_rename_async(T.RenameParams(T.TextDocumentIdentifier(uri), at(text, "d = "),
                                                               "model"))


@session
async def test_formatting_through_spec2net_fmt(client: LanguageClient):
    fmt = pytest.importorskip("spec2net.fmt", reason="spec2net fmt is not written yet")
    text = "model m {  input a: float32[4]\n  output y=Dense(2)(a) }\n"
    uri, _ = await open_doc(client, "fmt.net", text)
    edits = await client.text_document_formatting_async(T.DocumentFormattingParams(
        T.TextDocumentIdentifier(uri), T.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert len(edits) == 1 and edits[0].new_text == fmt.format_text(text, "fmt.net") != text
    assert rng(edits[0].range) == (0, 0, 2, 0)


@session
async def test_changes_in_quick_succession_are_analysed_once(client: LanguageClient):
    uri, _ = await open_doc(client, "typing.net", SPAM)
    seen = []
    start = at(SPAM, "SimpleRNN(32)", offset=10)
    for version in (2, 3, 4):  # typing, as an editor sends it: edits of a range, within the debounce
        end = T.Position(start.line, start.character + (2 if version == 2 else 1))
        client.text_document_did_change(T.DidChangeTextDocumentParams(
            T.VersionedTextDocumentIdentifier(version, uri),
            [T.TextDocumentContentChangePartial(T.Range(start, end), str(version))]))
    while 4 not in seen:
        params = await asyncio.wait_for(client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 20)
        if params.uri == uri:
            seen.append(params.version)
    assert seen == [4]
    assert "x: float32[4]" in await hover_text(client, uri, at(SPAM, "x = SimpleRNN"))


# -- the analysis behind the server, in this process -------------------------------------------------
def analysis(text):
    from spec2net.lsp.analysis import analyze

    return analyze(text, "t.net")


def where(text: str, needle: str, nth: int = 0, offset: int = 0) -> tuple[int, int]:
    """The compiler's 1-based (line, column) of a needle."""
    p = at(text, needle, nth, offset)
    return p.line + 1, p.character + 1


def test_a_syntax_error_keeps_what_comes_before_it():
    from spec2net.lsp import complete, navigate

    first = "model a {\n    input p: float32[3]\n    q = Dense(5)(p)\n    output q\n}\n"
    text = first + "model b {\n    input r: float32[6]\n    s = Dense(2, activation=\n    output s\n}\n"
    a = analysis(text)
    assert [d.code for d in a.diagnostics] == ["syntax"]
    assert "q: float32[5]" in navigate.hover(a, *where(text, "q = "))
    assert "r: float32[6]" in navigate.hover(a, *where(text, "r: "))  # in the model with the error
    offset = text.index("activation=") + len("activation=")
    labels = {i["label"] for i in complete.complete(a, text, offset, where(text, "activation=")[0])}
    assert {"relu", "softmax"} <= labels and "r" not in labels
    offset = text.index("s = ") + 4
    labels = {i["label"] for i in complete.complete(a, text, offset, where(text, "s = ")[0])}
    assert {"r", "Dense", "concatenate"} <= labels and "p" not in labels and "q" not in labels  # model a's


def test_scopes_follow_rebinding_and_shadowing():
    from spec2net.lsp import navigate

    text = ("let units = 4\n"
            "def block(x, units=8) {\n    h = Dense(units)(x)\n    return h\n}\n"
            "model m {\n    input x: float32[2]\n    x = Dense(units)(x)\n    x = block(x)\n    output x\n}\n")
    a = analysis(text)
    assert a.diagnostics == []
    # the `x` read by the second assignment is the one the first bound, on its line
    assert navigate.definition(a, *where(text, "block(x)", offset=6)).span.line == 8
    assert navigate.definition(a, *where(text, "(x)\n    x = block", offset=1)).span.line == 7  # the input
    # `units` in the def is its parameter, in the model the let: renaming the let leaves the def alone
    lines = sorted(o.span.line for o in navigate.references(a, *where(text, "units = 4")))
    assert lines == [1, 8]
    assert [o.span.line for o in navigate.references(a, *where(text, "Dense(units)", offset=6))] == [2, 3]
    assert "units = 8" in navigate.hover(a, *where(text, "Dense(units)", offset=6))  # the first call's value
    assert "x: float32[8]" in navigate.hover(a, *where(text, "output x", offset=7))
    # a def's parameter is also the keyword of its calls: `block(x, units=2)`
    text = text.replace("x = block(x)", "x = block(x, units=2)")
    a = analysis(text)
    param = where(text, "units=8")
    assert [(o.span.line, o.what) for o in navigate.references(a, *param)] == [(2, "param"), (3, "use"),
                                                                              (9, "keyword")]
    assert navigate.definition(a, *where(text, "units=2")).span == navigate.definition(a, *param).span
    assert "units = 2" in navigate.hover(a, *where(text, "Dense(units)", offset=6))
    text2 = text.replace("Dense(units)(x)\n    return", "Dense(units, use_bias=false)(x)\n    return")
    assert "true or false; default true" in navigate.hover(analysis(text2), *where(text2, "use_bias"))
    assert navigate.rename_error("2x") and navigate.rename_error("fit") and navigate.rename_error("None")
    assert navigate.rename_error("width") is None


def test_positions_count_utf16_units():
    from spec2net.lsp.server import from_lsp, to_lsp

    lines = ['    x = Dense(8, name="\U0001f600a")(a)', "b"]
    col = lines[0].index("\U0001f600a") + 2  # the `a` after the emoji, in characters: the emoji is one
    pos = to_lsp(lines, 1, col)
    assert pos.character == col  # one more UTF-16 unit than characters before it: 1-based -> 0-based
    assert from_lsp(lines, pos) == (1, col)
    assert to_lsp(lines, 5, 1) == T.Position(1, 1)  # past the end: clamped


def test_without_pygls_one_line_and_exit_2(monkeypatch, capsys):
    from spec2net.cli import main

    for module in ("pygls", "pygls.lsp.server", "spec2net.lsp.server"):
        monkeypatch.setitem(sys.modules, module, None)  # as if pygls were not installed
    assert main(["lsp"]) == 2
    assert capsys.readouterr().err == ("spec2net lsp: error: the language server needs pygls and lsprotocol: "
                                       "pip install 'spec2net[lsp]'\n")
