"""Conv1D/Conv2D as nn.Conv1d/nn.Conv2d, pooling as torch's pooling functions, global pooling as reductions.

Tensors stay channels_last between layers, as in Keras; a convolution or pool permutes its input
to torch's channels-first view (of a contiguous channels_last tensor: torch's channels_last
memory format, which its CPU kernels take without a copy) and its output back. TensorFlow's
padding is written out with F.pad where torch's symmetric ``padding=`` cannot say it: "same" with
the odd extra after, "causal" all before, max pooling's -inf, and average pooling's count of the
real values only (the padded mean divided by the padded mean of ones).
"""

from __future__ import annotations

from spec2net.codegen import py_literal
from spec2net.registry import LAYERS
from spec2net.registry.conv import padding_widths

from .emit_core import activate
from .emitter import EMITTERS, Application, Emitter, Weight

# spatial rank -> (channels_last -> channels first, and back)
_TO_TORCH = {1: ".transpose(1, 2)", 2: ".permute(0, 3, 1, 2)"}
_FROM_TORCH = {1: ".transpose(1, 2)", 2: ".permute(0, 2, 3, 1)"}


def _widths(node, w) -> list:
    """A call's padding widths per spatial axis (None where they depend on the run's size)."""
    return padding_widths(node.inputs[0].type.shape[:-1], w.spans, w.strides, w.padding)


def _pad_lines(c: Application, t: str, w, widths, value=None) -> list[str]:
    """Lines padding the channels-first ``t`` in place with F.pad (last axis first, as F.pad counts)."""
    if all(w == (0, 0) for w in widths):
        return []
    lines, parts = [], []
    for axis in reversed(range(len(widths))):
        if widths[axis] is None:  # "same" on a size known only at run time, with strides > 1
            n, total = c.temp("n"), c.temp("pad")
            k, s = w.spans[axis], w.strides[axis]
            lines += [f"{n} = {t}.shape[{axis + 2}]", f"{total} = max((-(-{n} // {s}) - 1) * {s} + {k} - {n}, 0)"]
            parts += [f"{total} // 2", f"{total} - {total} // 2"]
        else:
            parts += [str(w) for w in widths[axis]]
    fill = "" if value is None else f", value={value}"
    return lines + [f"{t} = {c.F('pad')}({t}, ({', '.join(parts)}){fill})"]


def _symmetric(widths) -> bool:
    return all(w is not None and w[0] == w[1] for w in widths)


def _module_padding(layer):
    """The padding nn.Conv pads itself, where every call of the layer pads the same widths on
    both sides (stride 1 "same" with odd kernels: the usual case), else None (F.pad lines)."""
    w = LAYERS[layer.type].window(layer.args)
    widths = [_widths(n, w) for n in layer.nodes]
    if widths and all(_symmetric(w) and w == widths[0] for w in widths) and any(b for b, _ in widths[0]):
        return tuple(b for b, _ in widths[0])
    return None


@EMITTERS.register("Conv1D", "Conv2D")
class Conv(Emitter):
    def module(self, layer, ins):
        a, rank = layer.args, LAYERS[layer.type].rank
        w = LAYERS[layer.type].window(a)
        parts = [str(ins[0].shape[-1]), str(a["filters"]), py_literal(w.size), f"stride={py_literal(w.strides)}"]
        if w.dilation != (1,) * rank:
            parts.append(f"dilation={py_literal(w.dilation)}")
        if a["groups"] != 1:
            parts.append(f"groups={a['groups']}")
        padding = _module_padding(layer)
        if padding:
            parts.append(f"padding={py_literal(padding)}")
        if not a["use_bias"]:
            parts.append("bias=False")  # torch's default is a bias
        return f"nn.Conv{rank}d({', '.join(parts)})"

    def weights(self, layer):
        # torch keeps (out, in / groups, *window); Keras (*window, in / groups, out)
        rank = LAYERS[layer.type].rank
        out = [Weight("kernel", ("weight",), f"conv{rank}d_kernel")]
        return out + ([Weight("bias", ("bias",), "copy")] if layer.args["use_bias"] else [])

    def forward(self, c):
        rank, w = LAYERS[c.layer.type].rank, LAYERS[c.layer.type].window(c.a)
        t = c.temp("t")
        lines = [f"{t} = {c.ins[0]}{_TO_TORCH[rank]}"]
        if not _module_padding(c.layer):
            lines += _pad_lines(c, t, w, _widths(c.node, w))
        return lines + activate(c, f"{c.mod}({t}){_FROM_TORCH[rank]}", c.a["activation"])

    def out_mask(self, c, index):
        return None  # Keras's convolutions drop the mask


@EMITTERS.register("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D")
class Pool(Emitter):
    def forward(self, c):
        rank, w = LAYERS[c.layer.type].rank, LAYERS[c.layer.type].window(c.a)
        is_max, widths = c.layer.type.startswith("Max"), _widths(c.node, w)
        fn = c.F(f"{'max' if is_max else 'avg'}_pool{rank}d")
        t = c.temp("t")
        lines = [f"{t} = {c.ins[0]}{_TO_TORCH[rank]}"]
        args = f"{py_literal(w.size)}, {py_literal(w.strides)}"
        padded = _pad_lines(c, t, w, widths, 'float("-inf")' if is_max else None)
        if is_max or not padded:
            return lines + padded + [f"{c.outs[0]} = {fn}({t}, {args}){_FROM_TORCH[rank]}"]
        # TensorFlow's "same" average counts only the real values of each window
        ones, share = c.temp("ones"), c.temp("share")
        lines += [f"{ones} = torch.ones_like({t}[:1, :1])"]
        lines += padded + _pad_lines(c, ones, w, widths)
        lines += [f"{share} = {fn}({ones}, {args})  # the fraction of each window that is real"]
        return lines + [f"{c.outs[0]} = ({fn}({t}, {args}) / {share}){_FROM_TORCH[rank]}"]

    def out_mask(self, c, index):
        return None


@EMITTERS.register("GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D")
class GlobalPool(Emitter):
    def forward(self, c):
        rank = LAYERS[c.layer.type].rank
        dims = "1" if rank == 1 else "(1, 2)"
        keep = ", keepdim=True" if c.a["keepdims"] else ""  # torch's default is Keras's False
        x, y = c.ins[0], c.outs[0]
        if c.layer.type.startswith("GlobalMax"):  # Keras 3.15 ignores a mask here
            return [f"{y} = {x}.amax(dim={dims}{keep})"]
        if c.mask is None:
            return [f"{y} = {x}.mean(dim={dims}{keep})"]
        m = c.temp("m")  # the mean of the unmasked steps
        return [f"{m} = {c.mask}[..., None]",
                f"{y} = torch.where({m}, {x}, 0.0).sum(1{keep}) / {m}.sum(1{keep})"]

    def out_mask(self, c, index):
        return None
