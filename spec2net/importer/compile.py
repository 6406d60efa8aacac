"""A Keras ``compile_config`` (or a legacy file's ``training_config``) -> the spec's ``compile`` block.

Keras stores each of ``loss``, ``loss_weights`` and ``metrics`` as it was given: one value for
every output, a list in output order, or a dict by output name. The block writes one value for
one output (``loss = mse``), and a dict by output name otherwise, as a person would.
"""

from __future__ import annotations

from ..registry import REGISTRIES
from .values import Refused, plain, ref, ref_text, text

INDENT = " " * 8


def compile_block(cfg: dict | None, outputs: list[str]) -> list[str]:
    """The lines of the block (at 4 spaces), or [] for a model compiled without a loss."""
    if not cfg:
        return []
    loss = cfg.get("loss")
    if loss is None:
        return []
    for key in ("weighted_metrics",):
        if cfg.get(key):
            raise Refused(f"compile's {key} is not one the language has")
    # a legacy .h5's training_config names it optimizer_config
    lines = [f"optimizer = {_optimizer(cfg.get('optimizer', cfg.get('optimizer_config')))}"]
    losses = _per_output(loss, outputs, "loss")
    lines.append("loss = " + _one_or_dict({k: ref_text(_loss(v)) for k, v in losses.items()}, outputs))
    weights = cfg.get("loss_weights")
    if weights is not None:
        w = _per_output(weights, outputs, "loss_weights")
        lines.append("loss_weights = {" + ", ".join(f"{k}: {text(float(plain(v)))}" for k, v in w.items()) + "}")
    metrics = cfg.get("metrics")
    if metrics:
        lines.append("metrics = " + _metrics(metrics, outputs))
    return ["    compile {", *(INDENT + line for line in lines), "    }"]


def _optimizer(value) -> str:
    if value is None:
        value = "rmsprop"  # Keras's compile() default
    if isinstance(value, dict) and isinstance((value.get("config") or {}).get("learning_rate"), dict):
        lr = value["config"]["learning_rate"]
        if lr.get("class_name") == "__tensor__" or "value" in (lr.get("config") or {}):
            value = {**value, "config": {**value["config"], "learning_rate": plain(lr["config"]["value"])}}
    return ref_text(ref("optimizer", value))


def _loss(value):
    r = ref("loss", value)
    if r is None:
        raise Refused("an output has no loss")
    return r


def _per_output(value, outputs: list[str], what: str) -> dict:
    if isinstance(value, dict) and "class_name" not in value:
        unknown = set(value) - set(outputs)
        if unknown:
            raise Refused(f"compile's {what} names {sorted(unknown)}, which are not outputs ({outputs})")
        return {k: value[k] for k in outputs if k in value}
    if isinstance(value, list):
        if len(value) != len(outputs):
            raise Refused(f"compile's {what} lists {len(value)} for {len(outputs)} outputs")
        return dict(zip(outputs, value))
    return {k: value for k in outputs}


def _one_or_dict(texts: dict, outputs: list[str]) -> str:
    if len(outputs) == 1 and outputs[0] in texts:
        return texts[outputs[0]]
    return "{" + ", ".join(f"{k}: {v}" for k, v in texts.items()) + "}"


def _metric(value) -> str:
    """A metric as the file spells it: ``acc`` stays ``acc`` (Keras's history key is the spelling)."""
    if isinstance(value, str):
        if value not in REGISTRIES["metric"]:
            raise Refused(f"metric {value!r} is not one the language has")
        return value
    if isinstance(value, dict) and value.get("class_name") in ("MeanMetricWrapper",):
        name = (value.get("config") or {}).get("name")
        return _metric(name)
    r = ref("metric", value)
    written = (value.get("config") or {}).get("name") if isinstance(value, dict) else None
    out = ref_text(r)
    if written and written != r.name and written not in REGISTRIES["metric"]:
        raise Refused(f"metric {r.name} named {written!r}: the language logs a metric under its own name")
    return out


def _metrics(value, outputs: list[str]) -> str:
    if isinstance(value, dict):
        per = {k: value[k] for k in outputs if value.get(k)}
        if set(value) - set(outputs):
            raise Refused(f"compile's metrics name {sorted(set(value) - set(outputs))}, which are not outputs")
    elif isinstance(value, list) and value and all(isinstance(v, list) or v is None for v in value):
        if len(value) != len(outputs):
            raise Refused(f"compile's metrics list {len(value)} lists for {len(outputs)} outputs")
        per = {k: v for k, v in zip(outputs, value) if v}
    else:
        per = {k: value for k in outputs}
    texts = {k: [_metric(m) for m in (v if isinstance(v, list) else [v])] for k, v in per.items()}
    lists = {k: "[" + ", ".join(v) + "]" for k, v in texts.items()}
    if set(texts) == set(outputs) and len(set(lists.values())) == 1:
        return next(iter(lists.values()))
    return "{" + ", ".join(f"{k}: {v}" for k, v in lists.items()) + "}"
