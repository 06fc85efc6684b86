"""On-the-fly augmentation of CIFAR-10 mini-batches (bonus 1.6 f, 2.6 e, 3.6 e): per image, a
random horizontal flip, a random translation by up to +-k pixels and optional brightness and
contrast jitter, drawn afresh for every mini-batch from the run's generator.

Images are rows of 3072 values in CIFAR's channel-major layout (entries 0-1023 the red plane
row-major, then green, then blue), already normalised by preprocessing; augmentation works on
these normalised rows, so it costs nothing per epoch and the network sees the same scale as
without it.  A translation by (dy, dx) moves pixel (i, j) of every channel to (i + dy, j + dx);
the pixels it uncovers are set to 0, which in normalised units is the training mean of that
pixel (preprocessing subtracts the per-pixel training mean).  A flip mirrors the columns:
pixel (i, j) goes to (i, 31 - j).  When both are drawn the flip comes first.  Brightness adds
b ~ U(-brightness, brightness) and contrast multiplies by c ~ U(1 - contrast, 1 + contrast),
per image, to the whole image (padding included) after the geometric part: x <- c x + b, in
the normalised units (so b is in training standard deviations, and c scales the deviation
from the per-pixel training mean).  Note that preprocessing normalises each pixel with its
own mean and standard deviation; moving a pixel by a few positions carries its normalised
value to a position whose statistics are slightly different (on natural images they vary
smoothly), which is the usual approximation of augmenting after normalisation.

Speed (benchmarks/augment.py): the whole batch is augmented by one gather, with no Python loop
over images.  The training set ``X`` (n, 3072) is seen through two strided views, ``V[r]`` =
the 3072 values that start at flat position r, and ``Vf[r]`` the same read with reversed
columns; the translated (and flipped) image of row i is ``V[3072 i - 32 dy - dx]`` (or
``Vf[3072 i - 32 dy + dx]``) times a 0/1 mask of the pixels that came from inside the image
(precomputed per shift).  So a batch is: draw the plan, two fancy-index gathers (non-flipped
images first, then flipped ones: the batch is reordered, and the labels follow the same
order), each multiplied by its masks on the way into the batch buffer.  What it costs is
mostly the reversed reads of the flipped images (numpy copies a negative-stride row of 32
values 2-3x slower than a contiguous one).  An image whose window would leave the array (only
the first and last rows of ``X``, for some shifts) is redone with the plain slicing functions
below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

CHANNELS, SIDE = 3, 32
D = CHANNELS * SIDE * SIDE
#: largest translation allowed (pixels); the schema's maximum as well
MAX_TRANSLATE = 8


@dataclass(frozen=True)
class Augmentation:
    """What to draw per image: ``flip`` (probability 1/2), ``translate`` = k (dy, dx uniform
    in -k..k, independently), ``brightness`` and ``contrast`` (half-widths of the uniform
    jitter; 0 = off)."""

    flip: bool = False
    translate: int = 0
    brightness: float = 0.0
    contrast: float = 0.0

    def __post_init__(self) -> None:
        k = self.translate
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k <= MAX_TRANSLATE:
            raise ValueError(f"augment.translate must be an integer 0..{MAX_TRANSLATE}, got {k!r}")
        if self.brightness < 0:
            raise ValueError(f"augment.brightness must be >= 0, got {self.brightness}")
        if not 0 <= self.contrast < 1:
            raise ValueError(f"augment.contrast must be in [0, 1), got {self.contrast}")

    @property
    def active(self) -> bool:
        return bool(self.flip or self.translate or self.brightness or self.contrast)

    @classmethod
    def from_settings(cls, cfg: Mapping | None) -> Augmentation | None:
        """The run setting ``augment`` (a mapping, possibly empty) -> an Augmentation, or None
        when it does nothing."""
        aug = cls(**dict(cfg or {}))
        return aug if aug.active else None

    def describe(self) -> str:
        parts = ["flip"] if self.flip else []
        parts += [f"translate +-{self.translate}"] if self.translate else []
        parts += [f"brightness +-{self.brightness:g}"] if self.brightness else []
        parts += [f"contrast +-{self.contrast:g}"] if self.contrast else []
        return ", ".join(parts) or "none"


# ---------------------------------------------------------------- plain (reference) functions


def images(X: np.ndarray) -> np.ndarray:
    """Rows of 3072 as an (n, 3, 32, 32) view (channel, row, column)."""
    return X.reshape(-1, CHANNELS, SIDE, SIDE)


def flip(X: np.ndarray) -> np.ndarray:
    """The images (rows of 3072) mirrored left to right: pixel (i, j) -> (i, 31 - j)."""
    return images(X)[..., ::-1].reshape(X.shape).copy()


def translate(X: np.ndarray, dy: int, dx: int, pad: float = 0.0) -> np.ndarray:
    """The images (rows of 3072) moved by dy rows and dx columns: pixel (i, j) of every
    channel goes to (i + dy, j + dx); uncovered pixels are ``pad``."""
    out = np.full_like(X, pad)
    src, dst = images(X), images(out)
    rows = slice(max(dy, 0), SIDE + min(dy, 0)), slice(max(-dy, 0), SIDE - max(dy, 0))
    cols = slice(max(dx, 0), SIDE + min(dx, 0)), slice(max(-dx, 0), SIDE - max(dx, 0))
    dst[:, :, rows[0], cols[0]] = src[:, :, rows[1], cols[1]]
    return out


# ---------------------------------------------------------------- the batch augmenter


@dataclass(frozen=True)
class Plan:
    """The draws for one batch, in the order the augmented batch is laid out: position p
    holds image ``order[p]`` of the batch as drawn (non-flipped images first), flipped if
    ``flip[p]``, moved by (``dy[p]``, ``dx[p]``), then scaled by ``contrast[p]`` and shifted
    by ``brightness[p]`` (None: not drawn)."""

    order: np.ndarray
    flip: np.ndarray
    dy: np.ndarray
    dx: np.ndarray
    brightness: np.ndarray | None = None
    contrast: np.ndarray | None = None


class BatchAugmenter:
    """Augments mini-batches of the training set ``X`` (rows of 3072, C-contiguous).

    ``augmenter(idx, rng, out)`` writes the augmented images of rows ``idx`` to ``out`` and
    returns the row indices in the order they were written (use them for the labels).
    """

    def __init__(self, aug: Augmentation, X: np.ndarray) -> None:
        if X.ndim != 2 or X.shape[1] != D:
            raise ValueError(
                f"augmentation needs CIFAR images as rows of {D} values, got shape {X.shape}"
            )
        if not X.flags.c_contiguous or len(X) == 0:
            raise ValueError("augmentation needs a non-empty C-contiguous training set")
        self.aug = aug
        self.k = aug.translate
        self.X = X
        flat = X.reshape(-1)
        it = flat.itemsize
        self.rows = flat.size - D + 1  # valid window starts 0 .. size - D
        # V[r] = flat[r : r + D]; Vf[r][c, i, j] = flat[r + 31 + 1024 c + 32 i - j] (the same
        # window with reversed columns).  Both read only inside flat for 0 <= r < self.rows.
        self.V = as_strided(flat, shape=(self.rows, D), strides=(it, it), writeable=False)
        self.Vf = as_strided(
            flat[SIDE - 1 :],
            shape=(self.rows, CHANNELS, SIDE, SIDE),
            strides=(it, SIDE * SIDE * it, SIDE * it, -it),
            writeable=False,
        )
        m = 2 * self.k + 1
        masks = np.zeros((m, m, CHANNELS, SIDE, SIDE), dtype=X.dtype)
        for a in range(m):
            for b in range(m):
                dy, dx = a - self.k, b - self.k
                rows = slice(max(dy, 0), SIDE + min(dy, 0))
                cols = slice(max(dx, 0), SIDE + min(dx, 0))
                masks[a, b, :, rows, cols] = 1
        self.masks = masks.reshape(m * m, D)
        self._mask = np.empty((0, D), dtype=X.dtype)

    def draw(self, n: int, rng: np.random.Generator) -> Plan:
        """The plan of a batch of n images: one integer per image codes (flip, dy, dx), then
        the brightness and contrast draws if they are on (nothing is drawn for what is off)."""
        m = 2 * self.k + 1
        flips = 2 if self.aug.flip else 1
        code = rng.integers(0, flips * m * m, n)
        flipped = code >= m * m
        shift = code % (m * m)
        order = np.argsort(flipped, kind="stable")
        a = self.aug
        brightness = rng.uniform(-a.brightness, a.brightness, n) if a.brightness else None
        contrast = rng.uniform(1 - a.contrast, 1 + a.contrast, n) if a.contrast else None
        return Plan(
            order=order,
            flip=flipped[order],
            dy=shift[order] // m - self.k,
            dx=shift[order] % m - self.k,
            brightness=None if brightness is None else brightness[order],
            contrast=None if contrast is None else contrast[order],
        )

    def apply(self, idx: np.ndarray, plan: Plan, out: np.ndarray) -> None:
        """Write the augmented images of rows ``idx`` (already in the plan's order) to
        ``out`` (len(idx), 3072)."""
        n = len(idx)
        if out.shape != (n, D) or out.dtype != self.X.dtype or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous ({n}, {D}) {self.X.dtype} array")
        dy, dx = plan.dy, plan.dx
        start = idx * D - SIDE * dy + np.where(plan.flip, dx, -dx)
        bad = (start < 0) | (start >= self.rows)
        start = np.where(bad, 0, start)
        cut = n - int(np.count_nonzero(plan.flip))  # non-flipped images first
        plain, mirrored = self.V[start[:cut]], self.Vf[start[cut:]].reshape(-1, D)
        if self.k:
            if len(self._mask) < n:
                self._mask = np.empty((n, D), dtype=self.X.dtype)
            mask = self._mask[:n]
            m = 2 * self.k + 1
            np.take(self.masks, (dy + self.k) * m + dx + self.k, axis=0, out=mask, mode="clip")
            np.multiply(plain, mask[:cut], out=out[:cut])
            np.multiply(mirrored, mask[cut:], out=out[cut:])
        else:
            out[:cut] = plain
            out[cut:] = mirrored
        for p in np.flatnonzero(bad):  # windows that would leave X: the plain functions
            image = self.X[idx[p] : idx[p] + 1]
            if plan.flip[p]:
                image = flip(image)
            out[p] = translate(image, int(dy[p]), int(dx[p]))[0]
        if plan.contrast is not None:
            out *= plan.contrast.astype(out.dtype)[:, None]
        if plan.brightness is not None:
            out += plan.brightness.astype(out.dtype)[:, None]

    def __call__(self, idx: np.ndarray, rng: np.random.Generator, out: np.ndarray) -> np.ndarray:
        """Draw a plan, augment rows ``idx`` of X into ``out``; returns ``idx`` in the order
        the images were written (the labels must be gathered in this order)."""
        plan = self.draw(len(idx), rng)
        idx = idx[plan.order]
        self.apply(idx, plan, out)
        return idx
