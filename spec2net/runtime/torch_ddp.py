"""Keras's ``fit`` over several processes: ``torch.nn.parallel.DistributedDataParallel`` with the
numbers of one process.

``fit_model(..., replica=Replica(model))`` in every process of an initialised process group (gloo
on CPU, nccl on CUDA) trains as one process would on the same global batches:

- every rank takes a contiguous shard of each global batch (rank 0 the first samples), so the
  batch's rows keep their order across the ranks;
- DDP averages the gradients (SUM / world size); each rank's loss is scaled by world size times
  its share of the global batch's loss -- its samples (or, on a masked output, its unmasked
  values) over the whole batch's -- so the average is the gradient of the global batch's mean
  loss, also on an uneven last batch; a weight penalty counts once;
- BatchNormalization takes the global batch's moments (``sync_batch_norm``), differentiably, as
  torch's ``SyncBatchNorm`` does, so its semantics do not change with the number of processes;
- an Embedding's per-lookup gradient rows (``keep_rows``) are gathered from every rank, so the
  optimizers that clip or square them one lookup at a time (Adagrad, RMSprop, Adam with
  clipvalue) see Keras's rows, not a sum of per-rank sums;
- the loss and per-output losses are the global batch's on every rank (one all-reduce per step,
  which also makes every rank see a NaN at the same step), and the metrics' counts are summed
  over the ranks at the end of each epoch; validation runs whole on every rank (no collective).

Not pasted into standalone modules: it is for ``spec2net train --backend torch`` under torchrun.
"""

from __future__ import annotations

import inspect

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .torch_fit import Local, _Logs, output_losses
from .torch_layers import KerasBatchNorm, KerasMaskedBatchNorm
from .torch_metrics import AUC, Mean, MeanOf, Precision, Recall, RootMeanSquaredError


def shard_bounds(n: int, world: int, rank: int) -> tuple[int, int]:
    """[start, stop) of ``rank``'s contiguous part of ``n`` samples, the first ``n % world`` ranks
    one more: ``shard_bounds(10, 4, 0) == (0, 3)``."""
    size, extra = divmod(n, world)
    start = rank * size + min(rank, extra)
    return start, start + size + (rank < extra)


class Replica(Local):
    """One process's part of a distributed ``fit_model``: ``fit_model(model, TRAINING, x, y,
    replica=Replica(model))``. Converts the model's batch normalization to the global batch's and
    wraps it in DistributedDataParallel (``device`` as DDP's ``device_ids``: the CUDA device)."""

    def __init__(self, model: nn.Module, device: torch.device | None = None):
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.model = sync_batch_norm(model)
        cuda = device is not None and torch.device(device).type == "cuda"
        # no buffer broadcast before each forward: the moving statistics follow the global moments,
        # the same on every rank already (torch 2.13 renamed the switch)
        names = inspect.signature(DistributedDataParallel).parameters
        quiet = {"forward_sync_buffers": False} if "forward_sync_buffers" in names else {"broadcast_buffers": False}
        self.ddp = DistributedDataParallel(model, device_ids=[torch.device(device)] if cuda else None, **quiet)

    def shard(self, batch):
        start, stop = shard_bounds(len(batch), self.world, self.rank)
        return batch[start:stop]

    def step(self, model, task, optimizer, xs: list, ys: list, logs: _Logs, n_global: int) -> None:
        model.train()
        outputs = self.ddp(*xs)
        parts = output_losses(task, outputs, ys)
        listed = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
        share = _shares(listed, len(xs[0]))
        parts = [part * s for part, s in zip(parts, share)]
        data = sum(w * part for (_, _, w), part in zip(task.losses, parts))
        # weight penalties are the same on every rank and activity ones a mean over the rank's
        # samples: weighed by the rank's share of the samples, both add up to the global batch's
        penalty = task.penalties(model) if task.penalties is not None else 0.0
        loss = data + penalty * (len(xs[0]) / n_global)
        optimizer.zero_grad()
        (loss * self.world).backward()  # DDP divides the summed gradients by the world size
        gather_rows(model, self.world)
        optimizer.step()
        # the global batch's loss and per-output losses, the same on every rank
        values = torch.stack([torch.as_tensor(loss.detach(), dtype=torch.float64)]
                             + [torch.as_tensor(p.detach(), dtype=torch.float64) for p in parts])
        dist.all_reduce(values)
        logs.update_losses(values[0], list(values[1:]), n_global)
        logs.update_metrics(outputs, ys)

    def reduce(self, logs: _Logs) -> None:
        fields = [(t, f) for t in logs.metrics.values() for f in _state_fields(t)]
        if not fields:
            return
        flat = [torch.as_tensor(_get(t, f), dtype=torch.float64).reshape(-1) for t, f in fields]
        device = next(self.model.parameters()).device
        values = torch.cat(flat).to(device)
        dist.all_reduce(values)
        for (t, f), part in zip(fields, values.cpu().split([len(v) for v in flat])):
            _set(t, f, part.reshape(_get(t, f).shape) if _is_tensor(t, f) else float(part))


def _shares(outputs, n_local: int) -> list[torch.Tensor]:
    """Per output, this rank's share of the global batch's loss: its unmasked values (a masked
    output) or its samples, over the whole batch's (0 where the batch has none)."""
    counts = torch.tensor([float(o.keras_mask.sum()) if getattr(o, "keras_mask", None) is not None
                           else float(n_local) for o in outputs], dtype=torch.float64)
    totals = counts.clone().to(outputs[0].device)
    dist.all_reduce(totals)
    totals = totals.cpu()
    return [torch.tensor(float(c / t) if t > 0 else 0.0, device=outputs[0].device)
            for c, t in zip(counts, totals)]


# a metric tracker's counts, summed over the ranks (paths of attributes)
_FIELDS = ((MeanOf, ("mean.total", "mean.count")), (Mean, ("total", "count")),
           (RootMeanSquaredError, ("total", "count")),
           (Precision, ("tp", "fp", "tn", "fn")), (Recall, ("tp", "fp", "tn", "fn")), (AUC, ("tp", "fp", "tn", "fn")))


def _state_fields(tracker) -> tuple:
    for kind, fields in _FIELDS:
        if isinstance(tracker, kind):
            return fields
    raise TypeError(f"no distributed reduction for the metric tracker {type(tracker).__name__}")


def _get(obj, path: str):
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj if isinstance(obj, torch.Tensor) else torch.tensor(float(obj), dtype=torch.float64)


def _is_tensor(obj, path: str) -> bool:
    for part in path.split("."):
        obj = getattr(obj, part)
    return isinstance(obj, torch.Tensor)


def _set(obj, path: str, value) -> None:
    *above, last = path.split(".")
    for part in above:
        obj = getattr(obj, part)
    setattr(obj, last, value)


def gather_rows(model: nn.Module, world: int) -> None:
    """Every rank's Embedding gradient rows (``keep_rows``), in rank order, each divided by the
    world size as DDP divides the summed gradient: the rows Keras's optimizer sees for the
    global batch. Ranks hold rows for the same parameters (they run the same graph)."""
    for p in model.parameters():
        rows = p.__dict__.get("lookup_rows")
        if not rows:
            continue
        ids, grads = torch.cat([i for i, _ in rows]), torch.cat([r for _, r in rows])
        p.__dict__["lookup_rows"] = [(_all_gather(ids), _all_gather(grads) / world)]


def _all_gather(t: torch.Tensor) -> torch.Tensor:
    """``t`` of every rank concatenated along dim 0, in rank order; the lengths may differ."""
    size = torch.tensor([t.shape[0]], device=t.device)
    sizes = [torch.zeros_like(size) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, size)
    longest = int(max(s.item() for s in sizes))
    padded = torch.zeros((longest, *t.shape[1:]), dtype=t.dtype, device=t.device)
    padded[: t.shape[0]] = t
    parts = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(parts, padded)
    return torch.cat([part[: int(s.item())] for part, s in zip(parts, sizes)])


def sync_batch_norm(model: nn.Module) -> nn.Module:
    """The model's Keras batch normalization layers taking the global batch's moments (in place,
    as torch's ``SyncBatchNorm.convert_sync_batchnorm`` for its own layers): the parameters and
    buffers stay, only the moments change. Returns ``model``."""
    for module in model.modules():
        # the same object, another forward: parents, parameters and buffers need no copying
        for local, synced in SYNCED:
            if type(module) is local:
                module.__class__ = synced
    return model


class _AllReduce(torch.autograd.Function):
    """A SUM over the ranks whose gradient is the SUM of every rank's (each rank's loss depends
    on every rank's part of the global moments)."""

    @staticmethod
    def forward(ctx, t: torch.Tensor) -> torch.Tensor:
        t = t.clone()
        dist.all_reduce(t)
        return t

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


def differentiable_all_reduce(t: torch.Tensor) -> torch.Tensor:
    return _AllReduce.apply(t)


def _sum(t: torch.Tensor, dims) -> torch.Tensor:
    """A sum over ``dims`` and over every rank, with the gradient flowing back to every rank."""
    return differentiable_all_reduce(t.sum(dims))


class SyncKerasBatchNorm(KerasBatchNorm):
    """KerasBatchNorm whose training moments are the global batch's (biased variance, the mean
    detached in it as Keras's)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        count = _count(x, self.reduce_dims)
        mean = _sum(x, self.reduce_dims) / count
        variance = _sum((x - mean.detach().view(self.view)).square(), self.reduce_dims) / count
        self.follow(mean, variance)
        return self.normalize(x, mean, variance)


class SyncKerasMaskedBatchNorm(KerasMaskedBatchNorm):
    """KerasMaskedBatchNorm whose training moments are the global batch's unmasked ones."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if not self.training:
            return super().forward(x, mask)
        if mask is None:
            return SyncKerasBatchNorm.forward(self, x)
        keep = mask[..., None].expand_as(x)
        count = differentiable_all_reduce(keep.to(x.dtype).sum(self.reduce_dims)) + 1e-7
        mean = _sum(torch.where(keep, x, 0.0), self.reduce_dims) / count
        variance = _sum(torch.where(keep, x - mean.view(self.view), 0.0).square(), self.reduce_dims) / count
        self.follow(mean, variance)
        return self.normalize(x, mean, variance)


def _count(x: torch.Tensor, dims) -> torch.Tensor:
    local = 1
    for d in dims:
        local *= x.shape[d]
    count = torch.tensor(float(local), dtype=x.dtype, device=x.device)
    dist.all_reduce(count)
    return count


SYNCED = ((KerasBatchNorm, SyncKerasBatchNorm), (KerasMaskedBatchNorm, SyncKerasMaskedBatchNorm))
