"""Keras config values -> the spec's values, and those values as spec text.

Every name, argument and default comes from the registry (``REGISTRIES``): an initializer's
``GlorotUniform`` is the registry entry whose ``keras_name`` it is, its config keys are the
entry's argument names. A key the registry lacks is accepted only where Keras's value is the
one that does nothing (``NEUTRAL``: a constraint of None, a float32 dtype policy); any other
value is refused by name, never dropped.
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..ir import Ref
from ..registry import REGISTRIES
from ..registry.types import REQUIRED, ArgError


class Refused(Exception):
    """What the language lacks: the text after ``layer 'name' (Class): ``."""


# Keras config keys the language has no argument for, with the values that make them no-ops. One
# table for every layer and function (a key means the same wherever Keras uses it), not a list per layer.
def _is_float32_policy(v) -> bool:
    if isinstance(v, dict):
        return v.get("class_name") in ("DTypePolicy", "Policy") and (v.get("config") or {}).get("name") == "float32"
    return v in (None, "float32")


NEUTRAL = {
    "name": lambda v: True,  # read apart: a layer's name, a function's own label
    "dtype": _is_float32_policy,
    "kernel_constraint": lambda v: v is None, "bias_constraint": lambda v: v is None,
    "recurrent_constraint": lambda v: v is None, "embeddings_constraint": lambda v: v is None,
    "beta_constraint": lambda v: v is None, "gamma_constraint": lambda v: v is None,
    "alpha_constraint": lambda v: v is None, "depthwise_constraint": lambda v: v is None,
    "stateful": lambda v: v is False, "unroll": lambda v: v is False,
    "zero_output_for_mask": lambda v: v is False,
    "quantization_config": lambda v: v is None, "lora_rank": lambda v: v is None,
    "lora_alpha": lambda v: v is None, "lora_enabled": lambda v: v is False,
    "use_cudnn": lambda v: v == "auto", "input_length": lambda v: v is None, "sparse": lambda v: v is False,
    "synchronized": lambda v: v is False,
    "data_format": lambda v: v in (None, "channels_last"),  # the language's only layout
    "input_axes": lambda v: v is None, "output_axes": lambda v: v is None,  # VarianceScaling's (3.15)
    "reduction": lambda v: v == "sum_over_batch_size",  # a loss's: Keras's default
    "axis": lambda v: v == -1,  # a cross-entropy's class axis: the last
    "ema_overwrite_frequency": lambda v: v is None, "loss_scale_factor": lambda v: v is None,
    "gradient_accumulation_steps": lambda v: v is None,
    "curve": lambda v: v == "ROC", "summation_method": lambda v: v == "interpolation",
    "multi_label": lambda v: v is False, "num_labels": lambda v: v is None, "label_weights": lambda v: v is None,
    "from_logits": lambda v: v is False, "thresholds": lambda v: v is None, "top_k": lambda v: v is None,
    "class_id": lambda v: v is None, "ignore_class": lambda v: v is None,
    "renorm": lambda v: v is False, "rms_scaling": lambda v: v is False, "renorm_clipping": lambda v: v is None,
    "renorm_momentum": lambda v: v == 0.99,  # read only with renorm
}


def snake(name: str) -> str:
    """Keras's ``to_snake_case``: ``snake("GlobalMaxPooling1D") == "global_max_pooling1d"``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def plain(v):
    """A JSON value as the spec holds it: lists become tuples, a float32-rounded float its
    shortest float32 spelling (Keras stores an optimizer's 1e-3 as 0.0010000000474974513)."""
    if isinstance(v, list):
        return tuple(plain(x) for x in v)
    if isinstance(v, float) and math.isfinite(v) and float(np.float32(v)) == v:
        short = float(repr(np.float32(v)).removeprefix("np.float32(").removesuffix(")"))
        return short if np.float32(short) == np.float32(v) else v
    return v


def is_default(value, default) -> bool:
    """Keras's default: equal, and a bool only where the default is one (True == 1)."""
    return value is default or (isinstance(value, bool) == isinstance(default, bool) and value == default)


def _entry(kind: str, keras_name: str):
    """The registry entry of a Keras class or identifier (``"GlorotUniform"``, ``"relu"``, ``"silu"``)."""
    table = REGISTRIES[kind]
    for key in (keras_name, snake(keras_name)):
        if key in table:
            return table[key]
    for entry in table.values():
        if keras_name in (entry.keras_name, snake(entry.keras_name)):
            return entry
    return None


def ref(kind: str, value) -> Ref | None:
    """A Keras serialized activation, initializer, regularizer, optimizer, schedule, loss or metric
    as a Ref with every argument filled (registry order): ``ref("activation", "relu")``."""
    if value is None:
        return None
    if isinstance(value, str):
        entry = _entry(kind, value)
        if entry is None:
            raise Refused(f"{kind} {value!r} is not one the language has")
        return Ref(kind, entry.name, tuple((a.name, a.default) for a in entry.args if a.default is not REQUIRED))
    if not isinstance(value, dict) or "class_name" not in value:
        raise Refused(f"{kind} {value!r} is not a Keras serialized object")
    _no_custom(value, kind)
    cls, config = value["class_name"], value.get("config") or {}
    if kind == "activation" and cls == "function":  # keras.activations.relu passed as a function
        return ref(kind, config if isinstance(config, str) else value.get("config"))
    entry = _entry(kind, cls)
    if entry is None:
        raise Refused(f"{kind} {cls} is not one the language has")
    args = []
    for a in entry.args:
        keys = [k for k in (a.name, *a.aliases) if k in config]
        if not keys:
            if a.default is REQUIRED:
                raise Refused(f"{kind} {cls} has no {a.name}")
            args.append((a.name, a.default))
            continue
        args.append((a.name, convert(a, config[keys[0]], f"{kind} {cls}")))
    known = {k for a in entry.args for k in (a.name, *a.aliases)}
    for key, v in config.items():
        if key not in known and not NEUTRAL.get(key, lambda _: False)(v):
            raise Refused(f"{kind} {cls}: argument {key}={v!r} is not one the language has")
    return Ref(kind, entry.name, tuple(args))


def convert(arg, value, owner: str):
    """One argument's Keras value, checked by its registry type: a function reference resolved, a
    number as the spec holds it; Refused where the language's type refuses it."""
    kind = getattr(arg.type, "kind", None) or getattr(getattr(arg.type, "inner", None), "kind", None)
    if kind == "schedule":  # an optimizer's learning_rate: a number or a schedule
        return ref("schedule", value) if isinstance(value, dict) else plain(value)
    if kind in REGISTRIES:
        if value is None and getattr(arg.type, "none", None):
            return ref(kind, arg.type.none)
        return ref(kind, value)
    v = plain(value)
    try:
        return arg.type.coerce(v, _no_resolve)
    except ArgError as e:
        raise Refused(f"{owner}: {arg.name}={value!r}: the language takes {e.expected}") from None


def _no_resolve(kind, value):
    raise ArgError("arg-type", f"a {kind}")


def _no_custom(obj: dict, what: str) -> None:
    module = obj.get("module") or ""
    registered = obj.get("registered_name")
    if (module and not module.startswith("keras")) or ">" in str(registered or ""):  # "Package>Class"
        raise Refused(f"{what} {obj.get('class_name')} is a custom object ({registered or module}); "
                      "import reads only Keras's own classes")


# -- spec text ------------------------------------------------------------------------------------
class Let(str):
    """A ``let``'s name standing for its value: written bare."""


def text(value) -> str:
    """A spec value as the spec writes it: ``text(Ref("regularizer", "l2", (("l2", 0.01),)))`` ->
    ``l2`` (its argument is the default), ``text((3, 3))`` -> ``(3, 3)``, ``text(None)`` -> ``none``."""
    if isinstance(value, Ref):
        return ref_text(value)
    if isinstance(value, Let):
        return str(value)
    if value is None or isinstance(value, bool):
        return {None: "none", True: "true", False: "false"}[value]
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple):
        items = [text(v) for v in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    raise TypeError(f"cannot write {value!r} in a spec")


def ref_text(r: Ref) -> str:
    entry = REGISTRIES[r.kind][r.name]
    defaults = {a.name: a.default for a in entry.args}
    args = [f"{k}={text(v)}" for k, v in r.args if not is_default(v, defaults.get(k, REQUIRED))]
    return f"{r.name}({', '.join(args)})" if args else r.name
