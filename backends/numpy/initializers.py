"""Keras 3's initializers (keras/src/initializers/*.py) with NumPy's generator.

Keras's random streams cannot be reproduced, so "the same weights" means the
same distribution; within spec2net the same spec and seed give the same bytes
on every machine: each weight draws from its own PCG64 generator, seeded by a
SHA-256 of the global seed and the weight's key (an initializer's own
``seed=`` replaces both, so two weights with one seeded initializer and one
shape start equal, as in Keras).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from spec2net import ir
from spec2net.registry import REGISTRIES, canonical
from spec2net.tables import Table

# Keras divides a truncated normal's stddev by this (the stddev of a unit normal
# truncated at two standard deviations) so that the truncated draw has the asked-for spread.
TRUNC_STD = 0.87962566103423978


def derive_seed(*parts) -> int:
    """A 64-bit seed from any printable parts, equal on every machine: ``derive_seed(0, "dense/kernel")``."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def compute_fans(shape) -> tuple[int, int]:
    """Keras's ``compute_fans``: ``compute_fans((784, 512)) == (784, 512)``."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def truncated_normal(rng, shape, mean, stddev):
    """Normal draws, redrawn until within two standard deviations (tf.random.truncated_normal)."""
    z = rng.standard_normal(shape)
    bad = np.abs(z) > 2.0
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2.0
    return mean + stddev * z


def variance_scaling(rng, shape, scale, mode, distribution):
    """Keras's VarianceScaling; the registry holds each named initializer's (scale, mode, distribution)."""
    fan_in, fan_out = compute_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    s = scale / max(1.0, n)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * s)
        return rng.uniform(-limit, limit, shape)
    return truncated_normal(rng, shape, 0.0, math.sqrt(s) / TRUNC_STD)


# Each entry draws from ``rng`` with the Ref's filled arguments; ``seed`` (where the initializer has
# one) already chose ``rng`` in init_weights, so the functions take and ignore it.
INITIALIZERS = Table("NumPy initializer")


@INITIALIZERS.register("zeros")
def zeros(rng, shape):
    return np.zeros(shape)


@INITIALIZERS.register("ones")
def ones(rng, shape):
    return np.ones(shape)


@INITIALIZERS.register("constant")
def constant(rng, shape, value):
    return np.full(shape, value, dtype=np.float64)


@INITIALIZERS.register("random_uniform")
def random_uniform(rng, shape, minval, maxval, seed):
    return rng.uniform(minval, maxval, shape)


@INITIALIZERS.register("random_normal")
def random_normal(rng, shape, mean, stddev, seed):
    return rng.normal(mean, stddev, shape)


@INITIALIZERS.register("truncated_normal")
def _truncated_normal(rng, shape, mean, stddev, seed):
    return truncated_normal(rng, shape, mean, stddev)


def _variance_scaling(name):
    scale, mode, distribution = REGISTRIES["initializer"][name].variance_scaling
    return lambda rng, shape, seed: variance_scaling(rng, shape, scale, mode, distribution)


for _name, _entry in canonical("initializer").items():
    if _entry.variance_scaling:  # glorot_*, he_*, lecun_*: the registry holds their parameters
        INITIALIZERS.add(_variance_scaling(_name), _name)


@INITIALIZERS.register("unit_forget_bias")
def unit_forget_bias(rng, shape, bias_initializer):
    """LSTMCell.build's bias: gates i f c o, the forget gate's quarter ones, the rest drawn
    (first i, then c and o) from ``bias_initializer``."""
    u = shape[0] // 4
    return np.concatenate([initialize(bias_initializer, (u,), rng), np.ones(u),
                           initialize(bias_initializer, (2 * u,), rng)])


@INITIALIZERS.register("orthogonal")
def orthogonal(rng, shape, gain, seed):
    """QR of a normal matrix with the signs of R's diagonal folded in, as Keras's Orthogonal."""
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs a weight of rank >= 2, got shape {tuple(shape)}")
    rows, cols = math.prod(shape[:-1]), shape[-1]
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)


@INITIALIZERS.register("identity")
def identity(rng, shape, gain):
    if len(shape) != 2:
        raise ValueError(f"identity needs a 2-D weight, got shape {tuple(shape)}")
    return gain * np.eye(*shape)


def initialize(ref: ir.Ref, shape, rng: np.random.Generator) -> np.ndarray:
    """Draw one weight (float64): ``initialize(Ref("initializer", "ones"), (2,), rng)``."""
    return np.asarray(INITIALIZERS[ref.name](rng, tuple(shape), **ref.kwargs), dtype=np.float64)


def init_weights(model: ir.Model, seed: int = 0) -> dict:
    """Every weight of ``model`` (float32, keys ``LAYER/PARAM``, BN moving statistics
    included) drawn from its initializer: ``init_weights(spec2net.load("mlp.net").ir, seed=0)``."""
    out = {}
    for key, p in model.weight_keys():
        own = _own_seed(p.initializer)
        tag = ("initializer-seed", own) if own is not None else ("weight", seed, key)
        try:
            value = initialize(p.initializer, p.shape, np.random.default_rng(derive_seed(*tag)))
        except (ValueError, TypeError) as e:
            raise ValueError(f"{key}: cannot initialize with {p.initializer}: {e}") from None
        out[key] = value.astype(np.float32)
    return out


def _own_seed(ref: ir.Ref):
    """An initializer's own ``seed=``, or that of the initializer it wraps (unit_forget_bias's)."""
    for name, value in ref.args:
        if name == "seed":
            return value
        if isinstance(value, ir.Ref):
            return _own_seed(value)
    return None
