"""The random-model generator's Bidirectional and TimeDistributed, each around a random inner
layer written inline where the registry's rules (registry/wrappers.py) accept the tensor: a
mixin of modelgen.Gen, beside modellayers.Layers. (initial_state, a call keyword, needs two
tensors and is drawn by the tests' own cases, not here.)"""

from __future__ import annotations

from modellayers import F, Op, Out, as_t

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class WrapperLayers:
    """``wrapper_ops(t)``: (weight, builder) of each wrapper; a builder returns an Op or None."""

    def wrapper_ops(self, t):
        seq = t.is_float and len(t.shape) == 2 and t.last
        steps = t.is_float and len(t.shape) >= 2 and not (t.masked and len(t.shape) >= 3)
        return [((3 if t.masked else 1.5) if seq else 0, self.op_bidirectional),
                (1 if steps else 0, self.op_time_distributed)]

    def op_bidirectional(self, t):
        inner = self.op_rnn(t)
        if inner is None or "go_backwards=true" in inner.text:  # the backward copy sets it (Keras refuses both)
            return None
        mode = self.r.choice(MERGE_MODES)
        kw = [inner.text]
        if mode != "concat" or self.r.random() < 0.2:
            kw.append("merge_mode=" + ("none" if mode is None else f'"{mode}"'))

        def outs(s):
            got = inner.outs(s)
            if got is None:
                return None
            y, states = got[0], got[1:]
            # the backward half has the forward half's outputs: merged by the mode, states twice
            if mode is None:
                merged = [y, Out(y.dtype, y.shape, y.rt, y.masked)]
            elif mode == "concat":
                merged = [Out(F, y.shape[:-1] + (2 * y.shape[-1],), y.rt[:-1] + (2 * y.rt[-1],), y.masked)]
            else:
                merged = [y]
            return merged + states + [Out(o.dtype, o.shape, o.rt) for o in states]

        return self.layer("Bidirectional", kw, outs)

    def op_time_distributed(self, t):
        step = as_t(Out(t.dtype, t.shape[1:], t.rt[1:]))
        choices = [self.op_dense, self.op_dropout, self.op_activation, self.op_leaky]
        inner = self.r.choice(choices)(step)
        if inner is None or "return_state" in inner.text:
            return None

        def outs(s):
            if not (s.is_float and len(s.shape) >= 2) or (s.masked and len(s.shape) >= 3):
                return None
            got = inner.outs(as_t(Out(s.dtype, s.shape[1:], s.rt[1:])))
            if got is None or len(got) != 1:
                return None
            return [Out(F, (s.shape[0], *got[0].shape), (s.rt[0], *got[0].rt), s.masked)]

        return Op(f"TimeDistributed({inner.text})", outs)
