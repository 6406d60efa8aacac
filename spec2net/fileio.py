"""Writing outputs whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so a
    failure never leaves a half-written output: ``atomic_write("out.py", src)``."""
    atomic_write_many([(path, data)])


def atomic_write_many(outputs: list) -> None:
    """Write several ``(path, data)`` outputs: every temporary file is written before any is
    renamed into place, so a full disk or a missing folder leaves all of them as they were."""
    temps = []
    try:
        for path, data in outputs:
            path = Path(path)
            raw = data.encode("utf-8") if isinstance(data, str) else data
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                f.write(raw)
        for tmp, path in temps:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in temps:
            try:
                os.unlink(tmp)
            except OSError:  # already renamed into place, or never created
                pass
        raise
