"""The "did you mean" of a misspelt name: the closest candidate, if one is close enough to be
the intended name and not merely another name.

Closeness is the edit distance (insertions, deletions, substitutions and swaps of neighbours,
case ignored), allowed to grow with the name: one edit up to 7 characters, then one more per 4;
a name of 3 characters or fewer may only miss or gain one (``rat`` is ``rate``, but ``auc`` is
not ``acc``). A long shared stem is no match (``Normalization`` is not ``LayerNormalization``,
five edits away). Keras's class names find their function names (``BinaryCrossentropy`` is
``binary_crossentropy``).

    >>> closest("Denes", ["Dense", "Dropout"]), closest("Normalization", ["LayerNormalization"])
    ('Dense', None)
"""

from __future__ import annotations

import difflib
import re

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def closest(name: str, candidates) -> str | None:
    """The candidate ``name`` most likely misspells, or None."""
    pool = sorted({c for c in candidates if isinstance(c, str) and c != name})
    lowered = {c.lower(): c for c in pool}
    for form in (name.lower(), _CAMEL.sub("_", name).lower()):
        if form in lowered:
            return lowered[form]
    low = name.lower()
    allowed = 1 if len(name) <= 7 else 1 + (len(name) - 4) // 4
    best = None
    for cand in pool:
        c = cand.lower()
        if abs(len(c) - len(low)) > allowed:
            continue
        d = distance(low, c)
        if d > allowed or (len(low) <= 3 and len(c) == len(low)):
            continue
        key = (d, -difflib.SequenceMatcher(None, low, c).ratio(), cand)
        best = key if best is None or key < best else best
    return best[2] if best else None


def distance(a: str, b: str) -> int:
    """Edits from ``a`` to ``b``, a swap of two neighbours counting one: ``distance("widht", "width") == 1``."""
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]
