"""The `augment` comparison: what on-the-fly augmentation (dd2424.data.augment) adds to an update
step of the 3072-50-10 network at 1 thread, next to the floor of a plain copy of the batch and
to two other designs (a per-element gather through precomputed index maps, a Python loop of
per-image slices).

Target (issue 10): the augmentation's extra cost per mini-batch (flip + translation by up to
+-2 pixels, over the plain gather it replaces) <= 20 % of the update step without it."""

from __future__ import annotations

import time

from common import N_BATCH, SEED, D, row, synthetic_split, time_rounds, worker_info
from mlp import project_epoch

PER_THREAD = False  # 1 thread, as the pipeline's jobs
K_SHIFT = 2
FLIP_TRANSLATE = {"flip": True, "translate": K_SHIFT}
WITH_JITTER = FLIP_TRANSLATE | {"brightness": 0.2, "contrast": 0.2}


def batches(n: int, count: int):
    import numpy as np

    rng = np.random.default_rng(SEED + 2)
    order = rng.permutation(n)
    per_epoch = n // N_BATCH
    return [order[(j % per_epoch) * N_BATCH : (j % per_epoch + 1) * N_BATCH] for j in range(count)]


def per_batch(X, idxs, work) -> float:
    """Seconds for ``work(idx)`` over the batches."""
    started = time.perf_counter()
    for idx in idxs:
        work(idx)
    return time.perf_counter() - started


def index_maps(k: int):
    """Per (flip, dy, dx) code, the flat source index of every output pixel, 3072 = the
    padding column (the per-element gather design)."""
    import numpy as np

    c, i, j = np.meshgrid(np.arange(3), np.arange(32), np.arange(32), indexing="ij")
    maps = []
    for flip in (False, True):
        for dy in range(-k, k + 1):
            for dx in range(-k, k + 1):
                si, sj = i - dy, j - dx
                if flip:
                    sj = 31 - sj
                ok = (si >= 0) & (si < 32) & (sj >= 0) & (sj < 32)
                maps.append(np.where(ok, c * 1024 + si * 32 + sj, D).reshape(-1))
    return np.array(maps)


def worker(size: dict, args) -> dict:
    import numpy as np

    from dd2424.data import augment
    from dd2424.mlp import network

    net = network.Network(D, 10, (50,))
    train, val = synthetic_split(size["n_train"], size["n_val"])
    X = train[0]
    per_epoch = len(X) // N_BATCH
    idxs = batches(len(X), per_epoch)
    out = np.empty((N_BATCH, D), np.float32)
    aug = augment.BatchAugmenter(augment.Augmentation(**FLIP_TRANSLATE), X)
    rng = np.random.default_rng(SEED + 3)

    # the other designs, for scale
    maps = index_maps(K_SHIFT)
    padded = np.zeros((N_BATCH, D + 1), np.float32)
    rows = np.arange(N_BATCH)[:, None]
    m = 2 * K_SHIFT + 1

    def fancy(idx):
        np.take(X, idx, axis=0, out=padded[:, :D], mode="clip")
        code = rng.integers(0, 2 * m * m, N_BATCH)
        out[:] = padded[rows, maps[code]]

    def loop(idx):
        np.take(X, idx, axis=0, out=padded[:, :D], mode="clip")
        src, dst = augment.images(padded[:, :D]), augment.images(out)
        flips = rng.random(N_BATCH) < 0.5
        shifts = rng.integers(-K_SHIFT, K_SHIFT + 1, size=(N_BATCH, 2))
        out.fill(0)
        for p in range(N_BATCH):
            dy, dx = shifts[p]
            image = src[p, :, :, ::-1] if flips[p] else src[p]
            dst[p, :, max(dy, 0) : 32 + min(dy, 0), max(dx, 0) : 32 + min(dx, 0)] = image[
                :, max(-dy, 0) : 32 - max(dy, 0), max(-dx, 0) : 32 - max(dx, 0)
            ]

    batch = X[:N_BATCH].copy()
    peers = {
        "update step": lambda: project_epoch(net, train, val, np.float32),
        "update step + augmentation (flip, translate 2)": lambda: project_epoch(
            net, train, val, np.float32, augment=FLIP_TRANSLATE
        ),
        "update step + augmentation (flip, translate 2, jitter)": lambda: project_epoch(
            net, train, val, np.float32, augment=WITH_JITTER
        ),
        "batch: plain gather (np.take, what the loop does)": lambda: per_batch(
            X, idxs, lambda idx: np.take(X, idx, axis=0, out=out, mode="clip")
        ),
        "batch: augmented gather (flip, translate 2)": lambda: per_batch(
            X, idxs, lambda idx: aug(idx, rng, out)
        ),
        "batch: copy of a batch (floor)": lambda: per_batch(
            X, idxs, lambda idx: np.copyto(out, batch)
        ),
        "batch: per-element gather via index maps (other design)": lambda: per_batch(
            X, idxs, fancy
        ),
        "batch: Python loop of per-image slices (other design)": lambda: per_batch(X, idxs, loop),
    }
    times = time_rounds(peers, args.repeats, args.warmup)
    notes = {
        "update step": "3072-50-10, minibatch_gd update loop (evaluation stubbed), per update",
        "batch: augmented gather (flip, translate 2)": "dd2424.data.augment.BatchAugmenter, "
        "incl. the row gather it replaces and the draws",
    }
    rows_out = []
    for name, values in times.items():
        ms = [1e3 * v / per_epoch for v in values]
        note = notes.get(name, "")
        unit = "ms/batch" if name.startswith("batch") else "ms/update"
        rows_out.append(row("augment", name, ms, unit, "float32", 1, note))
    return {"rows": rows_out, "info": worker_info(None)}


def goals(med, infos: dict) -> list[tuple]:
    step = med("augment", "update step")
    extra = med("augment", "batch: augmented gather (flip, translate 2)") - med(
        "augment", "batch: plain gather (np.take, what the loop does)"
    )
    in_loop = med("augment", "update step + augmentation (flip, translate 2)") - step
    return [
        (
            "Augmentation (flip, translate 2): extra per batch / update step",
            extra / step,
            "<=",
            0.2,
        ),
        (
            "Augmentation in the loop: (augmented step - step) / step",
            in_loop / step,
            "info",
            float("nan"),
        ),
        (
            "Per-element index-map gather / update step (other design)",
            med("augment", "per-element gather via index maps (other design)") / step,
            "info",
            float("nan"),
        ),
    ]
