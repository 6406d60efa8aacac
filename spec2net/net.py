"""The Python API's model handle: ``spec2net.load(...)`` returns a Net."""

from __future__ import annotations

from . import budget, ir
from .runtime.data import DataSpec, InputSpec, OutputSpec, check_data, check_inputs, rows
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
        weights, those of ``init_weights(seed or 0)``. Refuses bad inputs (DataError) and a run over
        ``max_memory`` bytes (SpecError)."""
        import numpy as np

        from .backends.numpy import init_weights, run

        check_inputs(data_spec(self.ir), inputs, exact=True)
        self.check_memory("run", inputs, itemsize=np.dtype(dtype).itemsize, max_memory=max_memory)
        if weights is None:
            weights = init_weights(self.ir, 0 if seed is None else seed)
        return run(self.ir, inputs, weights, training=training, seed=seed, dtype=dtype)

    def predict(self, inputs: dict, weights: dict, batch_size: int = 32, max_memory: int | None = None) -> dict:
        """Keras's ``predict``: inference in batches, the outputs concatenated (the same numbers as
        ``run``, in less memory): ``net.predict({"x": x}, weights, batch_size=256)["y"]``. Keys that
        are not inputs are ignored, as Keras does, so a training data dict can be passed whole."""
        import numpy as np

        from .backends.numpy import run

        _positive("batch_size", batch_size)
        inputs, n = check_inputs(data_spec(self.ir), inputs)
        self.check_memory("run", inputs, batch=min(n, batch_size), max_memory=max_memory)
        # rows: a memory-mapped data set is read a batch at a time, never resident whole
        parts = [run(self.ir, {k: rows(v, slice(i, i + batch_size)) for k, v in inputs.items()}, weights)
                 for i in range(0, n, batch_size)]
        return {o: np.concatenate([p[o] for p in parts]) for o in self.output_names}

    def evaluate(self, data: dict, weights: dict, batch_size: int = 32, max_memory: int | None = None) -> dict:
        """Keras's ``evaluate(..., return_dict=True)`` in NumPy: the loss, per-output losses and
        metrics under Keras's names: ``net.evaluate({"x": x, "y": y}, weights)["loss"]``."""
        from .backends.numpy.train import evaluate

        _positive("batch_size", batch_size)
        n = check_data(data_spec(self.ir), data)[2]
        self.check_memory("run", data, batch=min(n, batch_size), max_memory=max_memory)
        return evaluate(self.ir, data, weights, batch_size)

    def train(self, data: dict, weights: dict | None = None, epochs=None, batch_size=None, shuffle=None,
              validation_split=None, seed: int = 0, callback=None, max_memory: int | None = None,
              validation_data: dict | None = None, keep_going: bool = False):
        """Keras ``fit()`` with the NumPy trainer; ``None`` takes the spec's ``fit`` block (else Keras's
        defaults: 1 epoch, batch 32, shuffled, no validation). ``validation_data`` (a dict like
        ``data``) takes precedence over ``validation_split``, as in Keras. Bad data raises DataError;
        a NaN or infinite loss raises NonFiniteError unless ``keep_going``. Returns
        ``(weights, history)``: ``w, h = net.train({"x": x, "y": y}, net.init_weights(0), epochs=2)``."""
        from .backends.numpy import init_weights
        from .backends.numpy.train import TrainError, fit

        if self.ir.compile is None:
            raise TrainError(f"model '{self.name}' has no `compile` block: no loss or optimizer to train with")
        spec = self.ir.fit or {"epochs": 1, "batch_size": 32, "shuffle": True, "validation_split": 0.0}
        pick = lambda given, key: spec[key] if given is None else given
        n = check_data(data_spec(self.ir), data)[2]  # before the budget reads the batch size from it
        self.check_memory("train", data, batch=min(n, pick(batch_size, "batch_size")), max_memory=max_memory)
        if weights is None:
            weights = init_weights(self.ir, seed)
        return fit(self.ir, data, weights, epochs=pick(epochs, "epochs"), batch_size=pick(batch_size, "batch_size"),
                   shuffle=pick(shuffle, "shuffle"), validation_split=pick(validation_split, "validation_split"),
                   seed=seed, callback=callback, validation_data=validation_data, keep_going=keep_going)

    def build(self, backend: str) -> str:
        """The source of a standalone module for ``backend`` ("keras" or "torch"): ``net.build("keras")``."""
        return self.generate(backend).source

    def generate(self, backend: str):
        """``build`` with its maps: a ``codegen.GeneratedModule`` (source, the name of each IR tensor
        in it, the IR node behind each line): ``net.generate("keras").name_of(net.ir.inputs[0])``."""
        import importlib

        from .codegen import GeneratedModule

        if backend not in ("keras", "torch"):
            raise ValueError(f"unknown backend {backend!r}; expected 'keras' or 'torch'")
        out = importlib.import_module(f"spec2net.backends.{backend}").build_source(self.ir)
        return out if isinstance(out, GeneratedModule) else GeneratedModule(out)  # a backend still giving a str

    def __repr__(self) -> str:
        return f"<spec2net.Net {self.name!r}: {len(self.ir.layers)} layers, {self.count_params():,} params>"


def _positive(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
