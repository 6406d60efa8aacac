"""The random-model generator's RepeatVector, Permute, Masking, SpatialDropout1D, ReLU, ELU,
Softmax and PReLU, each with random arguments where its shape and mask rules (registry/simple.py)
accept the tensor: a mixin of modelgen.Gen, beside modellayers.Layers."""

from __future__ import annotations

from modellayers import F, Out, lit


class SimpleLayers:
    """``simple_ops(t)``: (weight, builder) of each layer; a builder returns an Op or None."""

    def simple_ops(self, t):
        rank = len(t.shape) if t.is_float else 0
        return [(0.5 if rank == 1 else 0, self.op_repeat), (0.5 if 1 <= rank <= 4 else 0, self.op_permute),
                (0.6 if rank >= 2 else 0, self.op_masking), (0.4 if rank == 2 else 0, self.op_spatial_dropout),
                (0.5, self.op_relu), (0.3, self.op_elu), (0.4 if not t.masked else 0, self.op_softmax),
                (0.4, self.op_prelu)]

    def op_repeat(self, t):
        n = self.r.randint(1, 4)
        kw = [self.num(n)] if self.r.random() < 0.7 else [f"n={self.num(n)}"]
        return self.layer("RepeatVector", kw, lambda s: [Out(F, (n,) + s.shape, (n,) + s.rt)]
                          if s.is_float and len(s.shape) == 1 else None)

    def op_permute(self, t):
        rank = len(t.shape)
        dims = self.r.sample(range(1, rank + 1), rank)
        kw = [lit(tuple(dims))] if self.r.random() < 0.7 else [f"dims={lit(tuple(dims))}"]
        # Permute drops the mask, as Keras's does
        return self.layer("Permute", kw, lambda s: [Out(F, tuple(s.shape[d - 1] for d in dims),
                                                        tuple(s.rt[d - 1] for d in dims))]
                          if s.is_float and len(s.shape) == rank else None)

    def op_masking(self, t):
        kw = []
        self.maybe(kw, 0.4, "mask_value", lambda: lit(self.r.choice([0.0, 1.0, -0.5])))
        return self.layer("Masking", kw, lambda s: [Out(F, s.shape, s.rt, True)]
                          if s.is_float and len(s.shape) >= 2 else None)

    def op_spatial_dropout(self, t):
        kw = [self.num(self.r.choice([0.0, 0.2, 0.5]))]
        self.maybe(kw, 0.3, "seed", lambda: self.r.randint(0, 9))
        return self.layer("SpatialDropout1D", kw, lambda s: [Out(F, s.shape, s.rt, s.masked)]
                          if s.is_float and len(s.shape) == 2 else None)

    def op_relu(self, t):
        kw = []
        for key, values in (("max_value", [1.0, 6.0, 0.5]), ("negative_slope", [0.0, 0.1, 0.3]),
                            ("threshold", [0.0, 0.2, 1.0])):
            self.maybe(kw, 0.35, key, lambda values=values: lit(self.r.choice(values)))
        return self.same_shape("ReLU", kw)

    def op_elu(self, t):
        kw = []
        self.maybe(kw, 0.5, "alpha", lambda: lit(self.r.choice([0.5, 1.0, 2.0])))
        return self.same_shape("ELU", kw)

    def op_softmax(self, t):
        r, rank = self.r, len(t.shape)
        if not rank:
            return None
        axes = r.sample(range(rank), r.choice([1, 1, 1, 2]) if rank > 1 else 1)
        texts = [self.axis_text(i, rank) for i in axes]
        kw = [] if axes == [rank - 1] and r.random() < 0.5 else \
            [f"axis={texts[0]}" if len(texts) == 1 else f"axis=[{', '.join(texts)}]"]
        return self.layer("Softmax", kw, lambda s: [Out(F, s.shape, s.rt)]
                          if s.is_float and not s.masked and len(s.shape) == rank else None)

    def op_prelu(self, t):
        r, rank = self.r, len(t.shape)
        unknown = [i + 1 for i, d in enumerate(t.shape) if d is None]  # must be shared: alpha needs sizes
        shared = sorted(set(unknown) | {i for i in range(1, rank + 1) if r.random() < 0.3})
        kw = []
        if shared:
            kw.append(f"shared_axes={shared[0]}" if len(shared) == 1 and r.random() < 0.5 else
                      f"shared_axes={lit(shared)}")
        self.maybe(kw, 0.3, "alpha_initializer", lambda: r.choice(["zeros", "constant(0.25)", "random_normal"]))
        sizes = tuple(None if i + 1 in shared else d for i, d in enumerate(t.shape))
        return self.layer("PReLU", kw, lambda s: [Out(F, s.shape, s.rt, s.masked)]
                          if s.is_float and len(s.shape) == rank and all(
                              a is None or a == b for a, b in zip(sizes, s.shape)) else None)
