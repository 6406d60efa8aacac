"""``--backend torch``: the spec's generated PyTorch module, run in-process, trained by the
runtime's ``fit_model`` (Keras's fit) on ``--device``, and over a process group where torchrun
started this process (``spec2net.engines.distributed``)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..runtime.callbacks import Callback
from . import common


def _torch():
    return common.framework("torch", needs="PyTorch", extra="torch")


def device_of(name: str | None):
    """``--device`` as a torch device, refused (TrainError) where this machine has none such."""
    from ..backends.numpy.train import TrainError

    torch = _torch()
    try:
        device = torch.device(name or "cpu")
    except RuntimeError:
        raise TrainError(f"--device {name}: expected cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise TrainError(f"--device {name}: PyTorch sees no CUDA device on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise TrainError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise TrainError(f"--device {name}: PyTorch sees no MPS device on this machine")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise TrainError(f"--device {name}: expected cpu, cuda, cuda:N or mps")
    return device


def module(net):
    """The generated torch module of ``net``, run in-process (no file is written)."""
    _torch()
    return common.load_module(net.build("torch"), f"spec2net_torch_{net.name}")


def _model(mod, weights: dict, device):
    model = mod.build_model()  # drawn from the initializers, then replaced by ``weights``
    mod.set_weights(model, weights)
    return model.to(device)


class _Finite(Callback):
    """Raise NonFiniteError after the first batch whose loss, or an updated weight, is NaN or
    infinite (the running mean turns non-finite with the batch's loss)."""

    def __init__(self, model):
        self.model, self.epoch, self.batch = model, 0, 0

    def on_batch_end(self, run, logs):
        torch = _torch()
        self.batch += 1
        loss = float(logs["loss"])
        params = [p for p in self.model.parameters() if p.requires_grad]
        finite = bool(torch.stack([torch.isfinite(p).all() for p in params]).all()) if params else True
        if not math.isfinite(loss) or not finite:
            raise common.diverged(loss, self.epoch + 1, self.batch, "" if not math.isfinite(loss) else "an updated weight")

    def on_epoch_end(self, run, epoch, logs):
        self.epoch, self.batch = epoch + 1, 0


def train(net, data: dict, weights: dict | None = None, epochs=None, batch_size=None, shuffle=None,
          validation_split=None, seed: int = 0, callback=None, max_memory=None, validation_data=None,
          keep_going: bool = False, device: str | None = None):
    """``Net.train`` with the generated torch module: ``(weights, history)``, the NumPy trainer's
    batches (the same shuffle) and history keys. In a process group (torchrun), DDP."""
    from ..runtime.callbacks import TerminateOnNaN
    from . import distributed

    torch = _torch()
    fit = common.fit_settings(net, epochs, batch_size, shuffle, validation_split)
    inputs, targets, n, weights, val = common.training_data(net, data, weights, fit, seed, max_memory,
                                                            validation_data)
    if val is None and fit.validation_split:
        inputs, targets, n, val = common.split(inputs, targets, n, fit.validation_split)
    dev = device_of(device) if not distributed.active() else distributed.device(device)
    if distributed.active():
        distributed.check_batches(n, fit.batch_size)
    mod = module(net)
    task = dataclasses.replace(mod.TRAINING, data=None)  # checked above, once
    cuda = dev.type == "cuda"
    with torch.random.fork_rng(devices=[dev.index or 0] if cuda else [], device_type="cuda"):
        # dropout's draws: seeded per run (and per rank), the process's generator restored after
        torch.manual_seed(seed + distributed.rank())
        model = _model(mod, weights, dev)
        replica = distributed.replica(model, dev) if distributed.active() else None
        callbacks = list(task.callbacks)
        if not (keep_going or any(isinstance(c, TerminateOnNaN) for c in callbacks)):
            callbacks.append(_Finite(model))
        x, y = [inputs[k] for k in task.input_names], [targets[k] for k in task.output_names]
        validation = None if val is None else ([val[0][k] for k in task.input_names],
                                               [val[1][k] for k in task.output_names])
        history = mod.rt.fit_model(model, task, x, y, fit.epochs, fit.batch_size, fit.shuffle,
                                   validation_data=validation, callbacks=callbacks,
                                   order=common.shuffle_order(seed), progress=callback, replica=replica)
    return mod.get_weights(model), history


def evaluate(net, data: dict, weights: dict, batch_size: int = 32, max_memory=None, device=None) -> dict:
    """``Net.evaluate`` with the generated torch module (Keras's evaluate, return_dict=True)."""
    inputs, targets, _ = common.checked_data(net, data, weights, batch_size, max_memory)
    mod = module(net)
    task = dataclasses.replace(mod.TRAINING, data=None)
    model = _model(mod, weights, device_of(device))
    return mod.rt.evaluate_model(model, task, [inputs[k] for k in task.input_names],
                                 [targets[k] for k in task.output_names], batch_size)


def predict(net, inputs: dict, weights: dict, batch_size: int = 32, max_memory=None, device=None) -> dict:
    """``Net.predict`` with the generated torch module: inference in batches, outputs by name."""
    torch = _torch()
    inputs, _, n = common.checked_data(net, inputs, weights, batch_size, max_memory, targets=False)
    mod = module(net)
    dev = device_of(device)
    model = _model(mod, weights, dev).eval()
    dtypes = [getattr(torch, t.type.dtype) for t in net.ir.inputs]
    parts: dict = {name: [] for name in mod.OUTPUT_NAMES}
    with torch.no_grad():
        for start in range(0, n, batch_size):
            xs = [torch.as_tensor(inputs[name][start:start + batch_size], dtype=dtype, device=dev)
                  for name, dtype in zip(mod.INPUT_NAMES, dtypes)]
            out = model(*xs)
            for name, value in zip(mod.OUTPUT_NAMES, out if isinstance(out, tuple) else (out,)):
                parts[name].append(value.detach().cpu().numpy())
    return {name: np.concatenate(values) for name, values in parts.items()}
