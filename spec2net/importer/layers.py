"""One Keras layer config -> the spec's layer call, by the registry.

The layer's class is its registry key (``Dense``); each registry argument is read from the
config key of its name (or alias) and converted by the argument's own type; the call keeps only
the arguments that differ from the registry's defaults, which are Keras 3's. A config key the
registry lacks must hold the value that does nothing (``values.NEUTRAL``), else the layer is
refused by that key. A wrapper's layer argument is a layer config, read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..registry import LAYERS
from ..registry.types import REQUIRED
from .values import NEUTRAL, Refused, _no_custom, convert, is_default, text

# Keras classes the language lacks on purpose, with the reason a user reads
NEVER = {
    "Lambda": "a Lambda layer holds Python code, which import never runs or unpickles; "
              "rewrite it as layers the language has",
    "TFSMLayer": "a TensorFlow SavedModel layer is not a Keras layer config",
}


# an argument whose default, none, means "the value of that other argument", which Keras writes out
SAME_AS = {"strides": "pool_size"}


def _arg(defn, name):
    return next(a for a in defn.args if a.name == name)


@dataclass
class LayerCall:
    """A layer as the spec writes it: ``Dense(8, activation=relu, name="enc")``."""

    type: str
    name: str  # Keras's name of the layer
    args: dict  # registry argument -> spec value, those that differ from the defaults, registry order
    trainable: bool = True
    inner: dict = field(default_factory=dict)  # a wrapper's argument -> LayerCall

    @property
    def defn(self):
        return LAYERS[self.type]


def read_layer(obj: dict, wrapper: str = "") -> LayerCall:
    """The LayerCall of one serialized Keras layer (``{"class_name": "Dense", "config": {...}}``);
    Refused (its text names what the language lacks) otherwise."""
    cls = obj.get("class_name")
    config = obj.get("config") or {}
    if cls in NEVER:
        raise Refused(NEVER[cls])
    _no_custom(obj, "layer")
    defn = LAYERS.get(cls)
    if defn is None or defn.name != cls:
        raise Refused(f"the language has no layer {cls}")
    args, inner = {}, {}
    for a in defn.args:
        keys = [k for k in (a.name, *a.aliases) if k in config]
        if a.name in defn.layer_args:
            if config.get(a.name) is not None:
                inner[a.name] = read_layer(config[a.name], cls)
            continue
        if not keys:
            if a.default is REQUIRED:
                raise Refused(f"its config has no {a.name}")
            continue
        raw = config[keys[0]]
        if a.default is not REQUIRED and NEUTRAL.get(a.name, lambda _: False)(raw):
            continue  # Keras's spelling of the language's default (data_format="channels_last")
        value = convert(a, raw, cls)
        if isinstance(value, tuple) and len(value) == 1 and is_default(value[0], a.default):
            continue  # Keras stores axis=-1 as [-1]
        stands_for = SAME_AS.get(a.name)
        if a.default is None and stands_for in config and value == convert(_arg(defn, stands_for), config[stands_for],
                                                                           cls):
            continue  # Keras fills strides from pool_size; the language's none means the same
        if a.default is REQUIRED or not is_default(value, a.default):
            args[a.name] = value
    fwd, back = inner.get("layer"), inner.get("backward_layer")
    if fwd is not None and back is not None and _mirror(fwd, back):
        del inner["backward_layer"]  # the copy Bidirectional makes itself when given none
    known = {k for a in defn.args for k in (a.name, *a.aliases)} | {"trainable"}
    for key, v in config.items():
        if key in known or NEUTRAL.get(key, lambda _: False)(v):
            continue
        if key == "zero_output_for_mask" and wrapper == "Bidirectional":
            continue  # Bidirectional sets it on its halves itself (LANGUAGE.md: masked steps are zeros)
        raise Refused(f"argument {key}={v!r} is not one the language has")
    trainable = config.get("trainable", True)
    if not isinstance(trainable, bool):
        raise Refused(f"trainable={trainable!r} is not true or false")
    return LayerCall(cls, str(config.get("name", "")), args, trainable, inner)


def _mirror(fwd: LayerCall, back: LayerCall) -> bool:
    """``back`` is ``fwd`` run the other way under the name Keras gives such a copy."""
    flipped = {**fwd.args, "go_backwards": not fwd.args.get("go_backwards", False)}
    if not flipped["go_backwards"]:
        del flipped["go_backwards"]
    return (back.type == fwd.type and back.args == flipped and back.trainable == fwd.trainable
            and back.name == "backward_" + fwd.name.removeprefix("forward_"))


def filled(call: LayerCall) -> dict:
    """The call's arguments with the registry's defaults, its inner layers as the registry's
    samples write them (``Inner``): what a LayerDef's ``n_outputs`` reads."""
    from ..registry.wrappers import Inner

    out = {a.name: a.default for a in call.defn.args if a.default is not REQUIRED}
    out.update(call.args)
    for key, sub in call.inner.items():
        out[key] = Inner(sub.type, tuple(sub.args.items()))
    return out


def n_outputs(call: LayerCall) -> int:
    return call.defn.n_outputs(filled(call))


def call_text(call: LayerCall, explicit_name: str | None, inner_names: dict) -> str:
    """``Dense(8, activation=relu)``: required arguments by position, the others by keyword, the
    name where it is not the automatic one (``explicit_name``), ``trainable=false`` where frozen.
    ``inner_names``: a wrapper's argument -> that inner layer's explicit name (or None)."""
    parts = []
    positional = True
    for a in call.defn.args:
        if a.name in call.inner:
            sub = call.inner[a.name]
            inner_text = call_text(sub, inner_names.get(a.name), {})
            parts.append(inner_text if a.name == "layer" else f"{a.name}={inner_text}")
            positional = a.name == "layer" and positional
            continue
        if a.name not in call.args:
            positional = False
            continue
        value = text(call.args[a.name])
        parts.append(value if positional and a.default is REQUIRED else f"{a.name}={value}")
        positional = positional and a.default is REQUIRED
    if explicit_name is not None:
        parts.append(f"name={text(explicit_name)}")
    if not call.trainable:
        parts.append("trainable=false")
    return f"{call.type}({', '.join(parts)})"
