"""Files in and out: every output checked before any work and written whole or not at all;
every input read within a bound.

Commands call ``check_output_paths`` first thing (before loading data, long before training),
then ``atomic_write``/``atomic_write_many`` at the end. A refusal is a ``PathError``: one line
naming the path (escaped by ``shown``, so a newline in a file name cannot forge a line), exit 2
in the CLI.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import signal
import stat
import threading
from pathlib import Path

from .diagnostics import one_line

MAX_SPEC_SIZE = 16 << 20  # a spec is text written by people; 16 MiB is far beyond any real one


class PathError(ValueError):
    """A file that must not or cannot be read or written; the message is one line naming it."""


def shown(path) -> str:
    """A path as diagnostics print it: ``shown("a\\nb.npz") == "a\\\\nb.npz"`` (one line, always)."""
    return one_line(os.fsdecode(path))


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def _stat(path):
    try:
        return os.stat(path)
    except OSError:  # not there (yet), or behind a folder we cannot search: the folder check says why
        return None


def _same(a: str, a_stat, b: str, b_stat) -> bool:
    """Whether two paths name one file: the same inode (hard links, symlinks, ``./x``), or, when
    either is yet to be created, the same resolved path."""
    if a_stat is not None and b_stat is not None:
        return (a_stat.st_dev, a_stat.st_ino) == (b_stat.st_dev, b_stat.st_ino)
    return os.path.realpath(a) == os.path.realpath(b)


def check_output_paths(outputs: dict, inputs: dict | None = None) -> None:
    """Raise PathError unless every output can be written without losing anything.

    ``outputs`` and ``inputs`` map the flag that names a file to its path (None: not given;
    an output ``"-"``: stdout). An output must not be a directory, a device, a FIFO or a
    socket (refused, never replaced), nor the same file as any input or any other output, and
    its folder must exist and be writable. Call it before any work, so that a bad ``-o`` costs
    nothing::

        check_output_paths({"-o": args.output, "--history": args.history},
                           {"FILE": args.file, "--data": args.data, "--weights": args.weights})
    """
    given_in = [(flag, os.fspath(p)) for flag, p in (inputs or {}).items() if p not in (None, "-")]
    given_out = [(flag, os.fspath(p)) for flag, p in outputs.items() if p not in (None, "-")]
    in_stats = [_stat(p) for _, p in given_in]
    seen = []
    for flag, path in given_out:
        if not path or path.endswith(("/", os.sep)):  # "" would resolve to the working folder
            raise PathError(f"{shown(path) or repr(path)}: cannot write {flag}: not a file name")
        st = _stat(path)
        if st is not None and _kind(st.st_mode):
            raise PathError(f"{shown(path)}: cannot write {flag}: it is {_kind(st.st_mode)}, "
                            "not a regular file (refused, never replaced)")
        for (other_flag, other), other_st in zip(given_in, in_stats):
            if _same(path, st, other, other_st):
                raise PathError(f"{shown(path)}: cannot write {flag}: it is the input {other_flag} "
                                f"{shown(other)}, which would be replaced")
        for other_flag, other, other_st in seen:
            if _same(path, st, other, other_st):
                raise PathError(f"{shown(path)}: cannot write {flag}: it is also the output {other_flag} "
                                f"{shown(other)}")
        seen.append((flag, path, st))
        folder = os.path.dirname(os.path.realpath(path))
        if not os.path.isdir(folder):
            raise PathError(f"{shown(path)}: cannot write: no such folder '{shown(os.path.dirname(path))}'")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PathError(f"{shown(path)}: cannot write: the folder '{shown(folder)}' is not writable")


def open_regular(path):
    """``path`` opened for reading in binary, if it is a regular file; else PathError (a device or
    a FIFO could be read forever). OSError (no such file, no permission) is the caller's."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    kind = _kind(os.fstat(fd).st_mode)
    if kind:
        os.close(fd)
        raise PathError(f"{shown(path)}: cannot read: it is {kind}, not a regular file")
    return os.fdopen(fd, "rb")


def read_limited(path, limit: int = MAX_SPEC_SIZE, what: str = "a spec", flag: str = "--max-spec-size") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, else PathError: a device, a FIFO or
    a huge file is refused before it is read (``spec2net check /dev/zero`` answers at once).
    OSError (no such file, no permission) is the caller's."""
    with open_regular(path) as f:
        st = os.fstat(f.fileno())
        chunks, size = [], 0
        while size <= limit:  # in pieces: read(limit + 1) would allocate the whole limit at once
            chunk = f.read(min(limit + 1 - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)  # one byte over the limit at most: a file that grew since fstat is caught
    if max(st.st_size, len(data)) > limit:
        from .budget import show_size

        raise PathError(f"{shown(path)}: cannot read: {show_size(max(st.st_size, len(data)))} is over the "
                        f"{show_size(limit)} limit for {what} ({flag} raises it)")
    return data


# -- writing -------------------------------------------------------------------------------------
_LIVE: set = set()  # temporary files being written, for the signal handler to remove


def atomic_write(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so a
    failure never leaves a half-written output: ``atomic_write("out.py", src)``."""
    atomic_write_many([(path, data)])


def atomic_write_many(outputs: list) -> None:
    """Write several ``(path, data)`` outputs: every temporary file is written before any is
    renamed into place, so a full disk or a missing folder leaves all of them as they were.

    A new file gets the mode the umask gives (as ``open`` would), a replaced one keeps its mode;
    a symlink is written through to its file. SIGTERM, SIGINT or SIGHUP during the write remove
    the temporary files, then act as they would have (see ``removing_temporaries``)."""
    temps = []
    with removing_temporaries():
        try:
            for path, data in outputs:
                raw = data.encode("utf-8") if isinstance(data, str) else data
                with _naming(path):
                    tmp, fd = _create_temp(Path(os.path.realpath(path)))
                    temps.append((tmp, path))
                    with os.fdopen(fd, "wb") as f:
                        f.write(raw)
            for tmp, path in temps:
                with _naming(path):
                    os.replace(tmp, os.path.realpath(path))
                _LIVE.discard(tmp)
        except BaseException:
            for tmp, _ in temps:
                _remove(tmp)
            raise


@contextlib.contextmanager
def _naming(path):
    """An OSError names the output, not its temporary file: ``e.filename`` is what the user gave."""
    try:
        yield
    except OSError as e:
        raise OSError(e.errno, e.strerror or str(e), os.fspath(path)) from None


def _create_temp(path: Path) -> tuple[str, int]:
    """A new hidden file beside ``path``: (its name, a descriptor open for writing)."""
    st = _stat(path)
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            # 0o666: the kernel applies the umask, as for any new file; mkstemp would make it 0600.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        except FileExistsError:
            continue
        _LIVE.add(tmp)  # at once: a signal from here on finds it
        if st is not None and stat.S_ISREG(st.st_mode) and hasattr(os, "fchmod"):
            try:
                os.fchmod(fd, stat.S_IMODE(st.st_mode))  # a replaced file keeps its mode
            except OSError:  # a file system without modes: keep what it gave
                pass
        return tmp, fd
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path))


def _remove(tmp: str) -> None:
    _LIVE.discard(tmp)
    try:
        os.unlink(tmp)
    except OSError:  # already renamed into place, or removed by the signal handler
        pass


@contextlib.contextmanager
def removing_temporaries():
    """While the block runs, a SIGTERM, SIGINT or SIGHUP whose action is to end the process
    first removes the temporary files being written, then ends it as the signal asks.

    Only signals left at their default action are caught (a Python handler, such as the
    KeyboardInterrupt of SIGINT, already unwinds through ``atomic_write_many``'s cleanup), and
    the previous handlers are restored on exit: a library user's handlers are untouched. Outside
    the main thread, where Python cannot set handlers, it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = [s for s in (getattr(signal, n, None) for n in ("SIGTERM", "SIGINT", "SIGHUP"))
              if s is not None and signal.getsignal(s) is signal.SIG_DFL]

    def handler(signum, frame):
        for tmp in list(_LIVE):
            _remove(tmp)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)  # the default action now: the process ends by this signal

    for s in caught:
        signal.signal(s, handler)
    try:
        yield
    finally:
        for s in caught:
            signal.signal(s, signal.SIG_DFL)
