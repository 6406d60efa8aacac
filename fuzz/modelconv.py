"""The random-model generator's convolutions and pools (Conv1D/2D, Max/AveragePooling1D/2D,
GlobalMax/AveragePooling1D/2D), with random windows, strides, dilations, groups and paddings
where the registry's shape rules (registry/conv.py, registry/pooling.py) accept the tensor: a
mixin of modelgen.Gen, beside modellayers.Layers."""

from __future__ import annotations

from modellayers import MATRIX_INITS, REGULARIZERS, VECTOR_INITS, F, Out, lit

from spec2net.registry.conv import window_out


def _fits(n, span):
    """An axis of run-time size ``n`` takes a "valid" window of ``span``."""
    return n >= span


class ConvLayers:
    """``conv_ops(t)``: (weight, builder) of each layer; a builder returns an Op or None."""

    def conv_ops(self, t):
        rank = len(t.shape) - 1 if t.is_float and t.last else 0
        return [(1.2 if rank == 1 else 0, lambda t: self.op_conv(t, 1)),
                (1.5 if rank == 2 else 0, lambda t: self.op_conv(t, 2)),
                (0.8 if rank in (1, 2) else 0, self.op_pool),
                (0.8 if rank in (1, 2) else 0, self.op_global)]

    def tup(self, values, rank):
        """A window argument: one int for every axis, or a tuple of ``rank``."""
        if rank == 1 or len(set(values)) == 1 and self.r.random() < 0.6:
            return lit(values[0])
        return lit(tuple(values))

    def window(self, t, rank, paddings, dilate):
        """(sizes, strides, dilations, padding) that fit ``t``'s run-time shape."""
        r, dims = self.r, t.rt[:-1]
        padding = r.choice(paddings)
        size = [r.randint(1, 3) for _ in range(rank)]
        dilation = [1] * rank
        strides = [1] * rank
        if dilate and r.random() < 0.3:
            dilation = [r.choice([1, 2]) for _ in range(rank)]
        elif r.random() < 0.4:
            strides = [r.randint(1, 3) for _ in range(rank)]
        spans = [(k - 1) * d + 1 for k, d in zip(size, dilation)]
        if padding == "valid" and not all(_fits(n, k) for n, k in zip(dims, spans)):
            padding = "same"  # the window does not fit: "same" fits any size
        return size, strides, dilation, padding, spans

    def op_conv(self, t, rank):
        r, channels = self.r, t.last
        size, strides, dilation, padding, spans = self.window(t, rank, ["valid", "same"] + (["causal"] if rank == 1
                                                                                           else []), True)
        groups = r.choice([g for g in (1, 1, 2, 3) if channels % g == 0])
        filters = groups * r.randint(1, 4)
        kw = [self.num(filters), self.tup(size, rank)] if r.random() < 0.8 else [
            f"filters={filters}", f"kernel_size={self.tup(size, rank)}"]
        if padding != "valid" or r.random() < 0.1:
            word = padding if r.random() < 0.5 else f'"{padding}"'  # a bare word, or quoted as in Keras
            kw.append(f"padding={word}")
        if strides != [1] * rank:
            kw.append(f"strides={self.tup(strides, rank)}")
        if dilation != [1] * rank:
            kw.append(f"dilation_rate={self.tup(dilation, rank)}")
        if groups > 1:
            kw.append(f"groups={groups}")
        self.maybe(kw, 0.5, "activation", self.act)
        self.maybe(kw, 0.15, "use_bias", "false")
        self.maybe(kw, 0.15, "kernel_initializer", lambda: r.choice(MATRIX_INITS[:-4]))  # orthogonal, identity: matrices
        self.maybe(kw, 0.1, "bias_initializer", lambda: r.choice(VECTOR_INITS))
        for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
            self.maybe(kw, 0.05, key, lambda: r.choice(REGULARIZERS))
        kind = f"Conv{rank}D"
        return self.layer(kind, kw, lambda s: self.windowed(s, rank, spans, strides, padding, filters, channels))

    def windowed(self, s, rank, spans, strides, padding, out_channels, channels):
        """The output of a window over ``s``, or None where it does not fit."""
        if not (s.is_float and len(s.shape) == rank + 1 and s.last == channels):
            return None
        declared, run = s.shape[:-1], s.rt[:-1]
        if padding == "valid" and not all(_fits(n, k) for n, k in zip(run, spans)):
            return None
        if padding == "valid" and any(n is not None and n < k for n, k in zip(declared, spans)):
            return None
        shape = tuple(window_out(n, k, st, padding) for n, k, st in zip(declared, spans, strides))
        rt = tuple(window_out(n, k, st, padding) for n, k, st in zip(run, spans, strides))
        return [Out(F, shape + (out_channels or channels,), rt + (out_channels or channels,))]

    def op_pool(self, t):
        r, rank = self.r, len(t.shape) - 1
        size, strides, _, padding, spans = self.window(t, rank, ["valid", "same"], False)
        given_strides = r.random() < 0.4
        if not given_strides:
            strides = size  # Keras's strides default to the pool size
        kind = f"{r.choice(['Max', 'Average'])}Pooling{rank}D"
        kw = [self.tup(size, rank)] if r.random() < 0.7 else [f"pool_size={self.tup(size, rank)}"]
        if given_strides:
            kw.append(f"strides={self.tup(strides, rank)}")
        if padding != "valid" or r.random() < 0.1:
            kw.append(f'padding="{padding}"')
        channels = t.last
        return self.layer(kind, kw, lambda s: self.windowed(s, rank, spans, strides, padding, None, channels))

    def op_global(self, t):
        r, rank = self.r, len(t.shape) - 1
        keep = r.random() < 0.3
        kw = []
        self.flag(kw, "keepdims", keep, False)
        kind = f"Global{r.choice(['Max', 'Average'])}Pooling{rank}D"
        ones = (1,) * rank if keep else ()
        # a fully masked row has no mean (0 / 0, NaN in Keras too): the average stays off masked tensors
        masked_ok = kind.startswith("GlobalMax")
        return self.layer(kind, kw, lambda s: [Out(F, ones + s.shape[-1:], ones + s.rt[-1:])]
                          if s.is_float and len(s.shape) == rank + 1 and (masked_ok or not s.masked) else None)
