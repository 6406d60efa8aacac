"""``build --backend torch --standalone``: the runtime's files pasted into the module, for users
who cannot install spec2net. One copy of the runtime exists, in ``spec2net/runtime/``; this
reads those files, so a standalone module holds exactly their text (less the lines that
import between them, and ``from __future__``, which the module states once at its top)."""

from __future__ import annotations

import ast
import functools
from importlib import resources

# the runtime's files in the order they are pasted, each after the files it uses
FILES = ("data.py", "torch_init.py", "torch_layers.py", "torch_rnn.py", "torch_losses.py", "torch_metrics.py",
         "schedules.py", "torch_optim.py", "torch_optim_extra.py", "torch_weights.py", "callbacks.py", "torch_fit.py")


def _dropped(line: str) -> bool:
    # relative imports between the runtime's files: one module holds them all when pasted
    return line.startswith(("from .", "from __future__ import"))


@functools.cache
def runtime_files() -> dict[str, str]:
    """File name -> its text, as the package holds it."""
    root = resources.files("spec2net.runtime")
    return {name: root.joinpath(name).read_text(encoding="utf-8") for name in FILES}


@functools.cache
def runtime_source() -> str:
    """The runtime's files as one block of module source."""
    parts = []
    for name, text in runtime_files().items():
        kept = "".join(line for line in text.splitlines(keepends=True) if not _dropped(line))
        parts.append(f"# ---- spec2net/runtime/{name} " + "-" * (80 - len(name)) + "\n" + kept.strip("\n"))
    return "\n\n\n".join(parts)


def _top_level_names(text: str) -> set:
    names = set()
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


# every name the pasted runtime defines at top level: no generated name may take one
RUNTIME_NAMES = frozenset().union(*(_top_level_names(t) for t in runtime_files().values()))
