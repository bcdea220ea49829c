"""The engine's classical `linear` fill in NumPy, for posing training problems as the fast preset poses them.

Kept free of PyTorch so that the test suite can check it against the engine's own implementation
(test/unit/training/linear-fill.test.ts) with nothing more than python3-numpy.

    /usr/bin/python3 training/fill.py < problem.json   # {"width", "height", "image": [...], "hole": [0/1...]} -> filled values
"""
import json
import sys

import numpy as np


def linear_fill(image, hole):
    """The engine's `linear` classical fill (classical.ts linearFill, isotropic spacing) of a 2-D hole.

    Along each axis, linear interpolation between the nearest known pixels on both sides (constant
    extrapolation, trusted half as much, where the hole reaches the border); the axes are averaged
    with weights 1 / gap. The fast preset starts its chain from this fill noised to t = 500, so
    training on it teaches the model the input it is actually given.
    """
    acc = np.zeros(image.shape, dtype=np.float64)
    wsum = np.zeros(image.shape, dtype=np.float64)
    for a, h, back in ((image, hole, lambda x: x), (image.T, hole.T, lambda x: x.T)):
        rows, n = a.shape
        idx = np.broadcast_to(np.arange(n), (rows, n))
        known = ~h
        prev = np.maximum.accumulate(np.where(known, idx, -1), axis=1)
        nxt = np.minimum.accumulate(np.where(known, idx, n)[:, ::-1], axis=1)[:, ::-1]
        has_prev, has_next = prev >= 0, nxt < n
        r = np.arange(rows)[:, None]
        a_prev = a[r, np.clip(prev, 0, n - 1)]
        a_next = a[r, np.clip(nxt, 0, n - 1)]
        both = h & has_prev & has_next
        span = np.maximum(nxt - prev, 1)
        value = np.where(both, a_prev + (idx - prev) / span * (a_next - a_prev), np.where(has_prev, a_prev, a_next))
        gap = np.where(both, span, np.where(has_prev, 2 * (idx - prev), 2 * (nxt - idx)))
        use = h & (has_prev | has_next)
        acc += back(np.where(use, value / np.maximum(gap, 1), 0.0))
        wsum += back(np.where(use, 1.0 / np.maximum(gap, 1), 0.0))
    out = image.astype(np.float64).copy()
    filled = hole & (wsum > 0)
    out[filled] = acc[filled] / wsum[filled]
    return out.astype(np.float32)


if __name__ == "__main__":
    problem = json.load(sys.stdin)
    shape = (problem["height"], problem["width"])
    image = np.asarray(problem["image"], dtype=np.float32).reshape(shape)
    hole = np.asarray(problem["hole"], dtype=bool).reshape(shape)
    json.dump([float(v) for v in linear_fill(image, hole).reshape(-1)], sys.stdout)
