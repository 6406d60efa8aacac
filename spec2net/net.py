"""The Python API's model handle: ``spec2net.load(...)`` returns a Net."""

from __future__ import annotations

from . import budget, ir
from .runtime.data import DataSpec, InputSpec, OutputSpec
from .summary import format_summary


def data_spec(model: ir.Model) -> DataSpec:
    """The plain-data description that spec2net.runtime.data checks arrays against:
    inputs (dtype, per-sample shape, the Embedding's input_dim bounding token ids) and
    outputs (per-sample shape, loss name). ``check_data(data_spec(net.ir), arrays)``."""
    bounds: dict = {}
    for node in model.nodes:
        if node.layer.type == "Embedding":
            for t in node.inputs:  # an input feeding two Embeddings: the smaller vocabulary bounds it
                bounds[t] = min(bounds.get(t, node.layer.args["input_dim"]), node.layer.args["input_dim"])
    losses = model.compile.loss if model.compile is not None else {}
    return DataSpec(
        tuple(InputSpec(t.input_name, t.type.dtype, tuple(t.type.shape), bounds.get(t)) for t in model.inputs),
        tuple(OutputSpec(o.name, tuple(o.tensor.type.shape), getattr(losses.get(o.name), "name", None))
              for o in model.outputs))


class Net:
    """A checked model. ``net = spec2net.load("mlp.net"); print(net.summary())``."""

    def __init__(self, model: ir.Model, warnings=(), sources: dict | None = None):
        self.ir = model
        self.warnings = list(warnings)
        self.sources = sources or {}  # file -> lines, to quote the spec in errors found later

    @property
    def name(self) -> str:
        return self.ir.name

    @property
    def input_names(self) -> list[str]:
        return [t.input_name for t in self.ir.inputs]

    @property
    def output_names(self) -> list[str]:
        return [o.name for o in self.ir.outputs]

    def count_params(self) -> int:
        return sum(self.ir.count_params())

    def summary(self) -> str:
        return format_summary(self.ir)

    def check_memory(self, task: str, arrays: dict | None = None, batch: int | None = None, itemsize: int = 4,
                     max_memory: int | None = None) -> None:
        """Raise SpecError (code ``memory``) if ``task`` ("init", "run", "train") on these input
        arrays would exceed ``max_memory`` bytes (None: half the machine's memory; 0: no limit)."""
        arrays = arrays or {}
        batch = budget.batch_of(self.ir, arrays) if batch is None else batch
        budget.check(self.ir, task, batch, budget.longest_unknown(self.ir, arrays), itemsize, max_memory,
                     self.sources)

    def init_weights(self, seed: int = 0, max_memory: int | None = None) -> dict:
        """Every weight drawn from its initializer (float32, keys LAYER/PARAM): ``net.init_weights(seed=0)``.
        Refuses (SpecError, code ``memory``) a model over ``max_memory`` bytes before drawing anything."""
        from .backends.numpy import init_weights

        self.check_memory("init", max_memory=max_memory)
        return init_weights(self.ir, seed)

    def run(self, inputs: dict, weights: dict | None = None, training=False, seed=None, dtype="float32",
            max_memory: int | None = None) -> dict:
        """The NumPy reference interpreter on a batch: ``net.run({"x": x}, weights)["y"]``; without
        weights, those of ``init_weights(seed or 0)``. Refuses a run over ``max_memory`` bytes."""
        import numpy as np

        from .backends.numpy import init_weights, run

        self.check_memory("run", inputs, itemsize=np.dtype(dtype).itemsize, max_memory=max_memory)
        if weights is None:
            weights = init_weights(self.ir, 0 if seed is None else seed)
        return run(self.ir, inputs, weights, training=training, seed=seed, dtype=dtype)

    def train(self, data: dict, weights: dict | None = None, epochs=None, batch_size=None, shuffle=None,
              validation_split=None, seed: int = 0, callback=None, max_memory: int | None = None):
        """Keras ``fit()`` with the NumPy trainer; ``None`` takes the spec's ``fit`` block (else Keras's
        defaults: 1 epoch, batch 32, shuffled, no validation). Returns ``(weights, history)``:
        ``w, h = net.train({"x": x, "y": y}, net.init_weights(0), epochs=2)``."""
        from .backends.numpy import init_weights
        from .backends.numpy.train import TrainError, fit

        if self.ir.compile is None:
            raise TrainError(f"model '{self.name}' has no `compile` block: no loss or optimizer to train with")
        spec = self.ir.fit or {"epochs": 1, "batch_size": 32, "shuffle": True, "validation_split": 0.0}
        pick = lambda given, key: spec[key] if given is None else given
        n = budget.batch_of(self.ir, data)
        self.check_memory("train", data, batch=min(n, pick(batch_size, "batch_size")), max_memory=max_memory)
        if weights is None:
            weights = init_weights(self.ir, seed)
        return fit(self.ir, data, weights, epochs=pick(epochs, "epochs"), batch_size=pick(batch_size, "batch_size"),
                   shuffle=pick(shuffle, "shuffle"), validation_split=pick(validation_split, "validation_split"),
                   seed=seed, callback=callback)

    def build(self, backend: str) -> str:
        """The source of a standalone module for ``backend`` ("keras" or "torch"): ``net.build("keras")``."""
        import importlib

        if backend not in ("keras", "torch"):
            raise ValueError(f"unknown backend {backend!r}; expected 'keras' or 'torch'")
        return importlib.import_module(f"spec2net.backends.{backend}").build_source(self.ir)

    def __repr__(self) -> str:
        return f"<spec2net.Net {self.name!r}: {len(self.ir.layers)} layers, {self.count_params():,} params>"
