"""Shrink a crashing spec to a small one that crashes the same way (delta debugging, ddmin).

``minimise(text)`` drops chunks of lines, then of characters, while the oracle still reports the
same kind of crash with the same last line of detail; it gives a reproducer short enough to read.
"""

from __future__ import annotations

import re

from oracle import Crash, check_bytes, check_text


def key(c: Crash) -> str:
    """What tells two crashes apart: the kind and the last line of detail, numbers left out (lines and
    columns move as a reproducer shrinks, and 5000 digits crash as 5001 do)."""
    lines = c.detail.strip().splitlines() or [""]
    return c.kind + ":" + re.sub(r"\d+", "N", lines[-1])[:100]


def signature(data) -> str | None:
    """The crash ``data`` causes, or None when it loads cleanly."""
    try:
        (check_text if isinstance(data, str) else check_bytes)(data)
    except Crash as c:
        return key(c)
    return None


def minimise(data, budget: int = 2000):
    """The smallest ``data`` found (within ``budget`` oracle runs) that crashes like ``data``."""
    target = signature(data)
    if target is None:
        return data
    runs = [0]

    def same(candidate) -> bool:
        runs[0] += 1
        return runs[0] <= budget and signature(candidate) == target

    nl = "\n" if isinstance(data, str) else b"\n"
    lines = _ddmin(data.split(nl), lambda parts: same(nl.join(parts)))
    data = nl.join(lines)
    chars = _ddmin([data[i:i + 1] for i in range(len(data))], lambda parts: same(data[:0].join(parts)))
    return data[:0].join(chars)


def report(counts: dict, crashes: dict) -> int:
    """Print the counts and each crash with a minimised reproducer; the exit status (1 on a crash)."""
    print(", ".join(f"{k}: {v}" for k, v in counts.items()) + f", distinct crashes: {len(crashes)}")
    for name, c in crashes.items():
        small = minimise(c.text)
        shown = repr(small) if len(small) <= 2000 else f"{small[:300]!r}... ({len(small)} characters)"
        print(f"\n== {name}\n{c.detail}\nreproducer (minimised): {shown}")
    return 1 if crashes else 0


def _ddmin(parts: list, fails) -> list:
    n = 2
    while len(parts) >= 2:
        size = max(1, len(parts) // n)
        for start in range(0, len(parts), size):
            rest = parts[:start] + parts[start + size:]
            if rest and fails(rest):
                parts, n = rest, max(n - 1, 2)
                break
        else:
            if size == 1:
                break
            n = min(len(parts), n * 2)
    return parts
