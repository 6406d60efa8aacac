"""Mutation fuzzing of every example: ``python fuzz/mutants.py --count 50000 --seed 1``.

Each mutant (fuzz/mutate.py) goes to the crash oracle (fuzz/oracle.py): loaded, or refused with
located diagnostics, or it is a crash. One in ten is written as raw bytes and read with
``spec2net.load``; one in fifty of the refused ones also goes through ``spec2net check``. Prints
the counts and each distinct crash with a minimised reproducer; exits 1 on any crash.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from minimise import key, report
from mutate import byte_mutant, mutants
from oracle import Crash, check_bytes, check_cli, check_text

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(count: int, seed: int, seconds: float | None = None) -> tuple[dict, dict]:
    """Try ``count`` mutants (or as many as fit in ``seconds``); return (counts, crashes by kind)."""
    rng = random.Random(seed)
    texts = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.net"))]
    streams = [mutants(t, rng) for t in texts]
    counts = {"mutants": 0, "bytes": 0, "ok": 0, "rejected": 0, "cli": 0}
    crashes: dict[str, Crash] = {}
    stop = time.monotonic() + seconds if seconds else None
    for i in range(count):
        if stop and time.monotonic() > stop:
            break
        k = i % len(texts)
        counts["mutants"] += 1
        try:
            if rng.random() < 0.1:
                counts["bytes"] += 1
                outcome = check_bytes(byte_mutant(texts[k], rng))
            else:
                text = next(streams[k])
                outcome = check_text(text)
                if outcome == "rejected" and rng.random() < 0.02:
                    counts["cli"] += 1
                    check_cli(text.encode("utf-8", "surrogatepass"))
            counts[outcome] += 1
        except Crash as c:
            crashes.setdefault(key(c), c)
    return counts, crashes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=None, help="stop after this long, whatever the count")
    args = ap.parse_args(argv)
    return report(*run(args.count, args.seed, args.seconds))


if __name__ == "__main__":
    sys.exit(main())
