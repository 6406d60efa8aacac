"""The training part of a generated module (where the spec has ``compile``): the context
for ``training.py.j2``, whose optimizer classes and losses follow Keras 3's source."""

from __future__ import annotations

from spec2net import ir
from spec2net.codegen import py_literal

from .functions import regularizer_expr

# spec optimizer -> class of the generated file (AdamW is Adam with Keras's decoupled weight decay)
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "Adam", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
# the torch.optim formulas these replace differ from Keras's (say where, for the docs)
OPTIMIZER_HELPERS = {"sgd": "opt_sgd", "adam": "opt_adam", "adamw": "opt_adam", "rmsprop": "opt_rmsprop",
                     "adagrad": "opt_adagrad"}
# loss -> (helper, does the target stay an integer class id)
LOSSES = {
    "mean_squared_error": ("loss_mse", False), "mean_absolute_error": ("loss_mae", False),
    "binary_crossentropy": ("loss_bce", False), "categorical_crossentropy": ("loss_cce", False),
    "sparse_categorical_crossentropy": ("loss_sparse_cce", True),
}


def training_context(model: ir.Model, attrs: dict, weights: list, var: dict, helpers: dict) -> dict:
    """Template variables for the training part; ``{"compile": None}`` where the spec has none."""
    penalties = [regularizer_expr(w["param"].regularizer, [f"model.{t}" for t in w["paths"]])
                 for w in weights if w["param"].regularizer is not None and w["trainable"]]
    context = {"compile": model.compile, "penalties": penalties, "fit_defaults": _fit_defaults(model),
               "input_dtypes": ", ".join(f"torch.{t.type.dtype}" for t in model.inputs)}
    if model.compile is None:
        return context
    c = model.compile
    opt = c.optimizer
    helpers.update(dict.fromkeys(("opt_base", OPTIMIZER_HELPERS[opt.name])))
    kwargs = dict(opt.args)
    losses = []
    for o in model.outputs:
        ref = c.loss[o.name]
        helper, sparse = LOSSES[ref.name]
        helpers[helper] = None
        args = "".join(f", {k}={py_literal(v)}" for k, v in ref.args)
        if o.tensor.masked:  # Keras weighs a masked output's loss by its mask
            helpers["loss_masked"] = None
        losses.append({"name": py_literal(o.name), "fn": ref.name, "args": args, "sparse": sparse,
                       "masked": o.tensor.masked,
                       "weight": py_literal(float(c.loss_weights.get(o.name, 1.0))),
                       "spec": str(ref)})
    context.update({
        "optimizer_class": OPTIMIZERS[opt.name], "optimizer_spec": str(opt),
        "optimizer_args": ", ".join(f"{k}={py_literal(v)}" for k, v in kwargs.items()),
        "losses": losses,
        "target_dtypes": ", ".join("torch.int64" if x["sparse"] else "torch.float32" for x in losses),
    })
    return context


def _fit_defaults(model: ir.Model) -> dict:
    # the spec's fit block where there is one, else Keras's fit() defaults
    f = model.fit or {}
    return {"epochs": py_literal(f.get("epochs", 1)), "batch_size": py_literal(f.get("batch_size", 32)),
            "shuffle": py_literal(f.get("shuffle", True))}
