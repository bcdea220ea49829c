"""Training data: preprocessed stacks and random inpainting problems drawn like the engine's.

A *subject* is a folder with `image256.nii.gz` (brain-windowed [0, 1], 256x256 x slices) and
`brainmask256.nii.gz`, as written by `inpaint-ct preprocess <scan> --out <folder>` or by
scripts/gen-training-data.ts. Subjects are the unit of the train/validation split.

An *example* is what one network call of the engine sees, with the ground truth it replaced:
a crop around a hole (the fast preset's layout: a square of 8, 16, 32 or 64 px with a context
margin of 4, 8, 16, 32 px on each side, i.e. crops of 16, 32, 64, 128 px) or a whole 256 slice
(the reference preset's layout: one of the 9 phase masks of a grid, a single square, or an
irregular blob). The conditioning channels follow the manifest order
(noisy, known, inpaintMask, brainMask, sliceAbove, sliceBelow); the noisy channel is added by
the training loop, which draws the timestep.
"""
import json
import os

import numpy as np

from units import to_network
from fill import linear_fill
from nifti import read_nifti

# Square size -> crop side: square + 2 x context margin of the fast preset (presets.ts contextPx).
CROP_FOR_SQUARE = {8: 16, 16: 32, 32: 64, 64: 128}
SQUARE_SIZES = (8, 16, 32, 64)
FULL = 256


class Subject:
    __slots__ = ("name", "images", "masks", "slices", "bbox")

    def __init__(self, name, images, masks, min_brain_px):
        self.name = name
        self.images = images.astype(np.float16)
        self.masks = masks.astype(np.uint8)
        area = self.masks.reshape(self.masks.shape[0], -1).sum(1)
        self.slices = [int(k) for k in np.nonzero(area >= min_brain_px)[0]]
        self.bbox = {}
        for k in self.slices:
            ys, xs = np.nonzero(self.masks[k])
            self.bbox[k] = (int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1)


def find_subjects(root):
    """Folders under root (or root itself) that hold a preprocessed stack, sorted by name."""
    out = []
    for dirpath, _dirs, files in os.walk(root):
        if "image256.nii.gz" in files and "brainmask256.nii.gz" in files and not dirpath.endswith(".tmp"):
            out.append(dirpath)
    return sorted(out)


def subject_seed(path):
    """The phantom seed of a generated subject (preprocess.json), or None for other data."""
    try:
        with open(os.path.join(path, "preprocess.json")) as f:
            return json.load(f).get("seed")
    except (OSError, ValueError):
        return None


def load_subjects(paths, min_brain_px=200, log=None):
    subjects = []
    for i, p in enumerate(paths):
        img, h = read_nifti(os.path.join(p, "image256.nii.gz"))
        msk, _ = read_nifti(os.path.join(p, "brainmask256.nii.gz"))
        if img.shape != msk.shape or img.shape[1] != FULL or img.shape[2] != FULL:
            raise ValueError(f"{p}: expected 256x256 stacks with a mask of the same shape; got {img.shape} and {msk.shape}")
        if img.min() < -1e-3 or img.max() > 1 + 1e-3:
            raise ValueError(f"{p}: image values {img.min():.3f}..{img.max():.3f} are not brain-windowed [0, 1]; use the image256 output of 'inpaint-ct preprocess'")
        s = Subject(os.path.basename(p.rstrip("/")), img, msk > 0.5, min_brain_px)
        if s.slices:
            subjects.append(s)
        if log and (i + 1) % 50 == 0:
            log(f"loaded {i + 1}/{len(paths)} subjects")
    return subjects


def _random_ellipse(rng, yy, xx, cy, cx, radius, spread, smallest):
    """One random ellipse near (cy, cx): the squared normalised distance of every pixel from its centre, and its minor radius."""
    oy, ox = rng.normal(0, radius * spread, 2)
    ry, rx = radius * rng.uniform(smallest, 1.0, 2)
    a = rng.uniform(0, np.pi)
    dy, dx = yy - (cy + oy), xx - (cx + ox)
    u = dx * np.cos(a) + dy * np.sin(a)
    v = -dx * np.sin(a) + dy * np.cos(a)
    return (u / rx) ** 2 + (v / ry) ** 2, min(rx, ry)


def _blob(rng, h, w, cy, cx, radius):
    """An irregular hole: the union of 1-4 random ellipses around (cy, cx)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    hole = np.zeros((h, w), dtype=bool)
    for _ in range(rng.integers(1, 5)):
        q, _minor = _random_ellipse(rng, yy, xx, cy, cx, radius, 0.4, 0.35)
        hole |= q <= 1
    if not hole.any():
        hole[int(np.clip(cy, 0, h - 1)), int(np.clip(cx, 0, w - 1))] = True
    return hole


def _soft_blob(rng, h, w, cy, cx, radius, edge_px=1.5):
    """A lesion-like weight map in [0, 1]: 1-3 random ellipses around (cy, cx) with a soft rim."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    weight = np.zeros((h, w), dtype=np.float32)
    for _ in range(rng.integers(1, 4)):
        q, minor = _random_ellipse(rng, yy, xx, cy, cx, radius, 0.3, 0.5)
        weight = np.maximum(weight, np.clip((1 - np.sqrt(q)) * minor / edge_px + 0.5, 0, 1))
    return weight


# Window units ([0, 1] over -0..80 HU): acute blood is 16-48 HU above brain, an infarct or oedema 5-20 HU below.
LESION_HYPER = (0.2, 0.6)
LESION_HYPO = (-0.25, -0.06)
# Share of painted lesions that are hypodense, unless --lesion-hypodense says otherwise; also what a
# checkpoint from before that option used.
LESION_HYPODENSE_SHARE = 0.4


def _grid_phase_mask(rng, brain, size):
    """One phase of the engine's grid of `size` (offset 0 or half a square), squares with brain only."""
    offset = 0 if rng.random() < 0.5 else size // 2
    phase_c, phase_r = rng.integers(0, 3, 2)
    hole = np.zeros_like(brain, dtype=bool)
    edges = [0] + list(range(offset if offset else size, FULL, size)) + [FULL]
    edges = sorted(set(edges))
    for r in range(len(edges) - 1):
        if r % 3 != phase_r:
            continue
        for c in range(len(edges) - 1):
            if c % 3 != phase_c:
                continue
            y0, y1, x0, x1 = edges[r], edges[r + 1], edges[c], edges[c + 1]
            if brain[y0:y1, x0:x1].any():
                hole[y0:y1, x0:x1] = True
    return hole


class ExampleSampler:
    """Draws (condition without the noisy channel, clean image, hole, linear fill) examples in network units."""

    def __init__(self, subjects, seed, p_blob=0.15, p_jitter=0.3, p_drop_neighbour=0.05, flip=True, pose_fill=True, hide_neighbours=False, p_lesion=0.0, p_hypodense=LESION_HYPODENSE_SHARE):
        self.subjects = subjects
        # Paint a lesion into the slices above and below (and around the hole) while the target stays healthy:
        # the network learns to take anatomy from the neighbours but not an abnormal density, so a lesion that
        # spans slices is not copied into the "healthy" repainting (docs/benchmarks.md, neighbour leak).
        self.p_lesion = p_lesion
        # Share of those lesions that are darker than brain (infarct, oedema) rather than denser (blood).
        self.p_hypodense = p_hypodense
        # Blank the slices above and below inside the hole as well (the engine does the same for a model whose
        # manifest says neighbourSlicesInHole "hidden"): a lesion spanning slices cannot be copied from them.
        self.hide_neighbours = hide_neighbours
        # Without fill-start examples the linear fill is never read: skip it (the clean image stands in).
        self.pose_fill = pose_fill
        self.rng = np.random.default_rng(seed)
        self.p_blob = p_blob
        self.p_jitter = p_jitter
        self.p_drop = p_drop_neighbour
        self.flip = flip
        self.pairs = [(i, k) for i, s in enumerate(subjects) for k in s.slices]
        if not self.pairs:
            raise ValueError("no slice with brain in the training data")

    def add_subjects(self, subjects):
        """More training subjects (data still being generated while training runs)."""
        for s in subjects:
            i = len(self.subjects)
            self.subjects.append(s)
            self.pairs.extend((i, k) for k in s.slices)

    def _pick_slice(self):
        i, k = self.pairs[self.rng.integers(len(self.pairs))]
        return self.subjects[i], k

    def _brain_point(self, s, k):
        y0, y1, x0, x1 = s.bbox[k]
        m = s.masks[k]
        for _ in range(200):
            y, x = self.rng.integers(y0, y1), self.rng.integers(x0, x1)
            if m[y, x]:
                return int(y), int(x)
        ys, xs = np.nonzero(m)
        j = self.rng.integers(len(ys))
        return int(ys[j]), int(xs[j])

    def _views(self, s, k, y0, x0, side):
        sl = (slice(y0, y0 + side), slice(x0, x0 + side))
        depth = s.images.shape[0]
        img = s.images[k][sl].astype(np.float32)
        brain = s.masks[k][sl].astype(np.float32)
        above = s.images[k + 1][sl].astype(np.float32) if k + 1 < depth and self.rng.random() >= self.p_drop else np.zeros_like(img)
        below = s.images[k - 1][sl].astype(np.float32) if k - 1 >= 0 and self.rng.random() >= self.p_drop else np.zeros_like(img)
        return img, brain, above, below

    def crop_example(self, square):
        """A fast-preset crop: a square hole (or a blob of its size) with its context margin."""
        side = CROP_FOR_SQUARE[square]
        s, k = self._pick_slice()
        py, px = self._brain_point(s, k)
        sy = py - int(self.rng.integers(0, square))
        sx = px - int(self.rng.integers(0, square))
        sy, sx = int(np.clip(sy, 0, FULL - square)), int(np.clip(sx, 0, FULL - square))
        # The engine centres the crop on the square and clamps it to the image.
        cy, cx = sy + square / 2 - side / 2, sx + square / 2 - side / 2
        if self.rng.random() < self.p_jitter:
            m = (side - square) / 2
            cy += self.rng.uniform(-m, m)
            cx += self.rng.uniform(-m, m)
        y0 = int(np.clip(round(cy), 0, FULL - side))
        x0 = int(np.clip(round(cx), 0, FULL - side))
        y0 = min(y0, sy)
        x0 = min(x0, sx)
        y0 = max(y0, sy + square - side)
        x0 = max(x0, sx + square - side)
        img, brain, above, below = self._views(s, k, y0, x0, side)
        hole = np.zeros((side, side), dtype=bool)
        if self.rng.random() < self.p_blob:
            hole = _blob(self.rng, side, side, sy - y0 + square / 2, sx - x0 + square / 2, square / 2)
        else:
            hole[sy - y0 : sy - y0 + square, sx - x0 : sx - x0 + square] = True
        return self._finish(img, brain, above, below, hole)

    def full_example(self):
        """A reference-preset problem on the whole slice."""
        s, k = self._pick_slice()
        img, brain, above, below = self._views(s, k, 0, 0, FULL)
        r = self.rng.random()
        if r < 0.6:
            hole = _grid_phase_mask(self.rng, brain > 0, int(self.rng.choice(SQUARE_SIZES)))
        elif r < 0.8:
            sq = int(self.rng.choice(SQUARE_SIZES))
            py, px = self._brain_point(s, k)
            y0 = int(np.clip(py - self.rng.integers(0, sq), 0, FULL - sq))
            x0 = int(np.clip(px - self.rng.integers(0, sq), 0, FULL - sq))
            hole = np.zeros((FULL, FULL), dtype=bool)
            hole[y0 : y0 + sq, x0 : x0 + sq] = True
        else:
            hole = np.zeros((FULL, FULL), dtype=bool)
            for _ in range(self.rng.integers(1, 4)):
                py, px = self._brain_point(s, k)
                hole |= _blob(self.rng, FULL, FULL, py, px, self.rng.uniform(4, 32))
        return self._finish(img, brain, above, below, hole)

    def _paint_lesion(self, img, brain, above, below, hole):
        """A lesion spanning slices, centred in the hole: in the neighbours and in the known ring, never the truth."""
        ys, xs = np.nonzero(hole)
        j = self.rng.integers(len(ys))
        side = hole.shape[0]
        radius = self.rng.uniform(3, max(4.0, min(24.0, side / 3)))
        weight = _soft_blob(self.rng, side, hole.shape[1], ys[j], xs[j], radius) * brain
        # Written so the default share 0.4 draws exactly as before the option existed.
        lo, hi = LESION_HYPER if self.rng.random() < 1 - self.p_hypodense else LESION_HYPO
        delta = self.rng.uniform(lo, hi)
        which = self.rng.random()
        if which < 0.8 and above.any():
            above = np.clip(above + delta * weight * self.rng.uniform(0.6, 1.0), 0, 1)
        if which >= 0.4 and below.any():
            below = np.clip(below + delta * weight * self.rng.uniform(0.6, 1.0), 0, 1)
        seen = img
        if self.rng.random() < 0.5:
            seen = np.where(hole, img, np.clip(img + delta * weight, 0, 1))
        return seen, above, below

    def _finish(self, img, brain, above, below, hole):
        if self.flip and self.rng.random() < 0.5:
            img, brain, above, below, hole = (a[:, ::-1] for a in (img, brain, above, below, hole))
        seen = img
        if self.p_lesion > 0 and self.rng.random() < self.p_lesion and hole.any():
            seen, above, below = self._paint_lesion(img, brain, above, below, hole)
        x0 = to_network(img)
        shown = x0 if seen is img else to_network(seen)  # the slice as the model sees it, in network units
        known = np.where(hole, to_network(0.0), shown)  # knownFill 0 (windowed), mapped like the images
        if self.hide_neighbours:
            above, below = np.where(hole, 0.0, above), np.where(hole, 0.0, below)  # knownFill there too
        cond = np.stack([np.zeros_like(x0), known, hole.astype(np.float32), brain, to_network(above), to_network(below)])
        # Linear, so filling in network units equals filling windowed values.
        init = linear_fill(shown, hole) if self.pose_fill else x0
        return cond.astype(np.float32), x0[None].astype(np.float32), hole[None].astype(np.float32), init[None].astype(np.float32)

    def batch(self, kind, count):
        """`count` examples of one layout: kind is a square size (crop layout) or 'full'."""
        items = [self.full_example() if kind == "full" else self.crop_example(kind) for _ in range(count)]
        return tuple(np.stack(parts) for parts in zip(*items))
