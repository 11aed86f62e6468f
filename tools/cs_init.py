"""Seeded initialisation identical to src/models/init.c.

Each value depends only on (seed, tensor key, index): splitmix64 over an
FNV-1a hash of the key, 24 random bits mapped to [-1, 1), scaled in float64
and rounded to float32, so PyTorch goldens use exactly the C side's weights.
"""
import math

import numpy as np

GOLDEN = 0x9E3779B97F4A7C15
MASK = (1 << 64) - 1


def fnv1a64(key: str) -> int:
    h = 0xCBF29CE484222325
    for b in key.encode():
        h ^= b
        h = (h * 0x100000001B3) & MASK
    return h


def uniform(seed: int, key: str, count: int) -> np.ndarray:
    """float64 values in [-1, 1), multiples of 2**-23."""
    s0 = np.uint64(fnv1a64(key) ^ ((seed * GOLDEN) & MASK))
    with np.errstate(over="ignore"):
        i = np.arange(1, count + 1, dtype=np.uint64)
        z = s0 + i * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / 8388608.0 - 1.0


def seeded_uniform(seed: int, key: str, shape) -> np.ndarray:
    """Same as cs_seeded_uniform: the stream itself as float32."""
    count = int(np.prod(shape)) if len(shape) else 1
    return uniform(seed, key, count).astype(np.float32).reshape(shape)


def init_tensor(seed: int, key: str, shape) -> np.ndarray:
    name = key.rsplit(".", 1)[-1]
    count = int(np.prod(shape)) if len(shape) else 1
    u = uniform(seed, key, count)
    scale, offset = 0.05, 0.0
    if name == "weight" and len(shape) >= 2:
        scale = math.sqrt(6.0 / (count // shape[0]))
    elif name == "weight":
        scale, offset = 0.25, 1.0
    elif name == "running_var":
        scale, offset = 1.0, 4.0
    elif name == "running_mean":
        scale = 0.1
    return (offset + scale * u).astype(np.float32).reshape(shape)


def init_state_dict(model, seed: int, skip=()):
    """Fill every float tensor of model.state_dict() in place."""
    import torch

    sd = model.state_dict()
    new = {}
    for key, t in sd.items():
        if key.endswith("num_batches_tracked") or not t.is_floating_point():
            new[key] = t
            continue
        if any(key.startswith(p) for p in skip):
            new[key] = t
            continue
        new[key] = torch.from_numpy(init_tensor(seed, key, tuple(t.shape)))
    model.load_state_dict(new)
    return model
