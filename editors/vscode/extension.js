// The spec2net extension: the TextMate grammar does the highlighting (package.json); this file
// starts `spec2net lsp` on stdio for everything else and restarts it when `spec2net.path` changes.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function serverOptions() {
  const command = vscode.workspace.getConfiguration("spec2net").get("path") || "spec2net";
  return { command, args: ["lsp"], transport: TransportKind.stdio };
}

async function start(context) {
  const options = serverOptions();
  client = new LanguageClient("spec2net", "spec2net", options, {
    documentSelector: [{ language: "spec2net" }],
  });
  try {
    await client.start();
  } catch (err) {
    client = undefined;
    // A missing command is the usual cause: say which and how to fix it, once, not a stack trace.
    vscode.window.showErrorMessage(
      `spec2net: could not start "${options.command} lsp" (${err.message || err}). ` +
        "Install it with: pip install 'spec2net[lsp]', or set spec2net.path to the spec2net command."
    );
  }
}

async function activate(context) {
  await start(context);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("spec2net.path")) {
        if (client) {
          await client.stop();
        }
        await start(context);
      }
    })
  );
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
