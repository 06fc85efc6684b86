"""Synthetic images in CIFAR-10's python format: seeded class prototypes, nuisance patterns
and pixel noise, optionally placed at random offsets and mirrored (so that flips and
translations preserve the label), written as the files of ``cifar-10-batches-py``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import augment
from .cifar import DIM, LABEL_NAMES, TEST_BATCH, TRAIN_BATCHES, write_batch, write_meta


def synthetic_patterns(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` smooth colour patterns (4x4 noise upsampled to 32x32 and blurred), each
    with zero mean and unit standard deviation, as rows of length 3072."""
    coarse = rng.normal(0.0, 1.0, size=(count, 3, 4, 4))
    fine = coarse.repeat(8, axis=2).repeat(8, axis=3)
    kernel = np.ones(5) / 5
    for axis in (2, 3):
        fine = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="same"), axis, fine)
    fine -= fine.mean(axis=(1, 2, 3), keepdims=True)
    fine /= fine.std(axis=(1, 2, 3), keepdims=True)
    return fine.reshape(count, DIM)


def place(patterns: np.ndarray, mirrored: np.ndarray, dy: np.ndarray, dx: np.ndarray):
    """Each row of ``patterns`` (images as rows of 3072) mirrored left-right where
    ``mirrored``, then moved by (dy, dx) pixels (augment.flip, augment.translate; uncovered
    pixels 0), one group of equal placements at a time."""
    out = np.empty_like(patterns)
    keys = np.stack([mirrored, dy, dx], axis=1)
    for key in np.unique(keys, axis=0):
        rows = (keys == key).all(axis=1)
        group = augment.flip(patterns[rows]) if key[0] else patterns[rows]
        out[rows] = augment.translate(group, int(key[1]), int(key[2]))
    return out


def synthetic_images(
    n: int,
    rng: np.random.Generator,
    prototypes: np.ndarray,
    nuisance: np.ndarray,
    noise: float,
    shift: int = 0,
    mirror: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw n uint8 images with balanced, shuffled labels: mid-grey + the class prototype +
    a random mix of the (class-independent) nuisance patterns + pixel noise.

    With ``shift`` > 0 the image's content (its class prototype and its mix of nuisance
    patterns, before the pixel noise) is moved by dy, dx uniform in -shift..shift pixels (the
    uncovered part is left mid-grey), with ``mirror`` it is mirrored left-right with
    probability 1/2, per image (drawn after everything else, so without them the draws and
    the images are exactly the plain ones).  The whole scene moves, as in a photograph, so a
    flipped or shifted image is as likely as the original: flips and translations preserve
    the label and the data's distribution (up to the mid-grey border)."""
    y = rng.permutation(np.arange(n) % len(prototypes))
    if not (shift or mirror):
        X = 127.5 + prototypes[y]
        X += rng.standard_normal((n, len(nuisance))) @ nuisance
        X += rng.normal(0.0, noise, size=(n, DIM))
        return np.clip(np.rint(X), 0, 255).astype(np.uint8), y
    mix = rng.standard_normal((n, len(nuisance)))
    pixel_noise = rng.normal(0.0, noise, size=(n, DIM))
    mirrored = rng.random(n) < 0.5 if mirror else np.zeros(n, dtype=bool)
    dy, dx = rng.integers(-shift, shift + 1, size=(2, n)) if shift else np.zeros((2, n), int)
    scene = prototypes[y]
    scene += mix @ nuisance
    X = 127.5 + place(scene, mirrored, dy, dx)
    X += pixel_noise
    return np.clip(np.rint(X), 0, 255).astype(np.uint8), y


def write_synthetic_cifar(
    out_dir: str | Path,
    n_per_batch: int,
    n_test: int,
    seed: int,
    contrast: float = 20.0,
    nuisance: float = 40.0,
    n_nuisance: int = 20,
    noise: float = 60.0,
    shift: int = 0,
    mirror: bool = False,
) -> None:
    """Write a seeded synthetic dataset in the exact layout of ``cifar-10-batches-py``.

    Each class has a smooth colour prototype (pixel std ``contrast``); every image adds
    ``n_nuisance`` class-independent smooth patterns with random N(0, ``nuisance``^2)
    weights, which overlap the class directions and make the problem hard, and pixel noise.
    A linear classifier learns it far above the 10% chance level but well below 100%.
    ``shift`` and ``mirror`` place each image's content at a random offset and mirror it at
    random (``synthetic_images``), so that augmentation by flips and translations is
    label-preserving and helps; off by default (the same bytes as without them).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    prototypes = contrast * synthetic_patterns(rng, len(LABEL_NAMES))
    nuisance_patterns = nuisance * synthetic_patterns(rng, n_nuisance)
    sizes = {name: n_per_batch for name in TRAIN_BATCHES} | {TEST_BATCH: n_test}
    for i, (name, n) in enumerate(sizes.items(), start=1):
        X, y = synthetic_images(n, rng, prototypes, nuisance_patterns, noise, shift, mirror)
        label = "testing batch 1 of 1" if name == TEST_BATCH else f"training batch {i} of 5"
        write_batch(out / name, X, y, label)
    write_meta(out / "batches.meta", n_per_batch)
