"""``torchrun --nproc-per-node N -m spec2net train FILE --backend torch``: the process group.

torchrun starts N copies of the command with RANK, WORLD_SIZE and LOCAL_RANK (and the rendezvous
address) in their environment; ``session`` joins them (gloo on CPU, nccl on CUDA, each process on
its LOCAL_RANK's GPU), and leaves the group at the end. Only rank 0 writes files and draws the
progress bar; an error on one rank is printed by that rank as one line and ends its process,
and is reported to the other ranks, which stop too, also saying so in one line."""

from __future__ import annotations

import contextlib
import datetime
import os
import sys


def active() -> bool:
    """Whether torchrun (or another launcher setting its variables) started this process."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def world() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def device(name: str | None):
    """``--device`` under torchrun: ``cuda`` is this process's GPU (cuda:LOCAL_RANK)."""
    from .torch_engine import device_of

    dev = device_of(name)
    if dev.type == "cuda" and dev.index is None:
        dev = device_of(f"cuda:{local_rank()}")
    return dev


@contextlib.contextmanager
def session(device_name: str | None, timeout_s: float = 1800.0):
    """The process group for one run: ``with session(args.device): train(...)``. Nothing happens
    where torchrun did not start the process."""
    if not active():
        yield
        return
    import torch
    import torch.distributed as dist

    dev = device(device_name)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    watchdog = Watchdog()
    try:
        yield
        watchdog.stop()
        dist.barrier()  # no rank leaves (and takes the rendezvous store with it) while another still watches
    except Exception as e:
        if _everyones(e):
            raise
        other = _reported()
        if other is not None:  # this rank's collective broke because another rank failed first
            raise Stopped(other) from None
        report(f"{type(e).__name__}: {e}")  # while the store is up: rank 0 may host it
        raise
    finally:
        watchdog.stop()
        if dist.is_initialized():
            dist.destroy_process_group()


_FAILED = "spec2net/failed"


class Watchdog:
    """Stops this process when another rank reports its own failure (``report``): a rank blocked
    in a collective that the failed rank never joins would otherwise wait for the group's
    timeout. It polls the rendezvous store from a thread of its own, prints one line and ends
    the process (the collective cannot be interrupted otherwise); torchrun's agent then ends
    the rest. A store that stops answering means its host (rank 0, or torchrun's agent) is gone."""

    def __init__(self, poll_s: float = 0.5):
        import threading

        self.poll_s, self._stop = poll_s, threading.Event()
        self.store = _store()
        self.thread = threading.Thread(target=self._watch, name="spec2net-ddp-watchdog", daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                failed = self.store.check([_FAILED])
                why = self.store.get(_FAILED).decode("utf-8", "replace") if failed else None
            except Exception:  # noqa: BLE001 -- any failure to reach the store: its host is gone
                failed, why = True, "lost contact with the run's rendezvous store (a process ended)"
            if failed and not self._stop.is_set():
                print(f"spec2net train: error: rank {rank()} of {world()}: stopped: {why}", file=sys.stderr,
                      flush=True)
                os._exit(1)

    def stop(self) -> None:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join()


def _everyones(error: Exception) -> bool:
    """An error every rank meets alike (the spec, the data, the flags, a diverging loss, which is
    the global batch's on every rank): each rank says so itself, nobody has to be stopped."""
    from ..backends.numpy.train import TrainError
    from ..cli import UsageError
    from ..diagnostics import SpecError

    return isinstance(error, (UsageError, SpecError, TrainError))


class Stopped(Exception):
    """This rank stopped because another one failed; the message is that rank's."""


def _reported() -> str | None:
    try:
        store = _store()
        return store.get(_FAILED).decode("utf-8", "replace") if store.check([_FAILED]) else None
    except Exception:  # noqa: BLE001 -- the store is gone with its host
        return None


def report(message: str) -> None:
    """Tell every other rank that this one failed (their watchdogs stop them)."""
    with contextlib.suppress(Exception):
        _store().set(_FAILED, f"rank {rank()} failed: {message}")


def _store():
    import torch.distributed as dist

    return dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), is_master=False,
                         timeout=datetime.timedelta(seconds=30))


def check_batches(n: int, batch_size: int) -> None:
    """Every global batch must give each rank at least one sample (TrainError otherwise)."""
    from ..backends.numpy.train import TrainError

    last = n % batch_size or batch_size
    smallest = min(batch_size, n, last)
    if smallest < world():
        raise TrainError(f"a batch of {smallest} samples (batch_size={batch_size}, {n} training samples) cannot "
                         f"be split over {world()} processes: each needs one sample of every batch")


def replica(model, dev):
    from ..runtime.torch_ddp import Replica

    return Replica(model, dev)
