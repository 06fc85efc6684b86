"""Mini-batch gradient descent with an evaluation history.

The loop is generic over the model: it needs ``init_stats(params, X_batch)`` (the model's
non-trained state, e.g. batch-norm moving averages, initialised from the first mini-batch),
``gradients(params, X, y, lam, stats, rng=..., out=...)`` (which may update ``stats``, draws
its dropout masks from ``rng`` and writes the gradients into the ``out`` buffers) and
``evaluate(params, X, y, lam, stats) -> {"loss", "cost", "acc"}`` (see ``network.Network``).

Randomness: the run's generator ``rng`` shuffles the data; the dropout masks and the
augmentation draws come from two child generators spawned from it (``Generator.spawn``, which
does not advance it), so switching dropout or augmentation on changes neither the
initialisation nor the data order, and a run without them draws exactly what it always drew.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..data.augment import Augmentation, BatchAugmenter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    n_batch: int
    n_updates: int
    lam: float
    eval_every: int
    shuffle: bool = True
    #: restore, at the end, the parameters (and moving averages) of the evaluation with the
    #: best validation accuracy (never the one before the first update)
    keep_best: bool = False
    #: stop after this many evaluations in a row without a better validation accuracy
    patience: int | None = None
    #: copy the parameters (and moving averages) every this many updates (a cycle: 2 n_s)
    snapshot_every: int | None = None

    def __post_init__(self) -> None:
        for key in ("n_batch", "n_updates", "eval_every", "patience", "snapshot_every"):
            value = getattr(self, key)
            if value is not None and value < 1:
                raise ValueError(f"{key} must be >= 1, got {value}")
        if self.lam < 0:
            raise ValueError(f"lam must be >= 0, got {self.lam}")


def batch_order(n: int, n_batch: int, shuffle: bool, rng: np.random.Generator):
    """Yield the row indices of successive mini-batches forever, epoch after epoch.

    An epoch is ``n // n_batch`` full batches (a remainder is left out of that epoch); with
    ``shuffle`` the order is a fresh permutation of all n rows every epoch.
    """
    per_epoch = n // n_batch
    if per_epoch == 0:
        raise ValueError(f"batch size {n_batch} is larger than the training set ({n})")
    while True:
        order = rng.permutation(n) if shuffle else np.arange(n)
        for j in range(per_epoch):
            yield order[j * n_batch : (j + 1) * n_batch]


def minibatch_gd(
    model,
    params: dict[str, np.ndarray],
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    cfg: TrainConfig,
    schedule: Callable[[int], float],
    rng: np.random.Generator,
    augment: Augmentation | None = None,
    snapshots: list | None = None,
) -> tuple[list[dict], dict]:
    """Train ``params`` in place for ``cfg.n_updates`` steps; return (history, stats).

    The history has one row at t = 0, one every ``eval_every`` updates and one at the end:
    update step t, epoch (fractional), the schedule's eta_t at that step, and train/val
    loss, cost and accuracy on the whole sets.  If an evaluation finds a cost that is not
    finite, training stops there (see ``diverged_at``): its history ends with that row.
    With ``cfg.patience`` it also stops after that many evaluations without a better
    validation accuracy; with ``cfg.keep_best`` the parameters and ``stats`` end as they were
    at the best evaluation (``best_evaluation``).  ``augment`` augments every training
    mini-batch (augment.py).  With ``cfg.snapshot_every``, ``snapshots`` (a list) receives
    ``(update, copies of params | stats)`` every that many updates.
    """
    X, y = train
    per_epoch = len(X) // cfg.n_batch
    history = []
    started = time.monotonic()

    def record(t: int) -> None:
        row = {"update": t, "epoch": t / per_epoch, "eta": schedule(t)}
        for part, (Xp, yp) in (("train", train), ("val", val)):
            for key, value in model.evaluate(params, Xp, yp, cfg.lam, stats).items():
                row[f"{part}_{key}"] = value
        history.append(row)
        log.info(
            "update %d/%d (epoch %.2f): train cost %.4f acc %.4f | val cost %.4f acc %.4f | %.1fs",
            t,
            cfg.n_updates,
            row["epoch"],
            row["train_cost"],
            row["train_acc"],
            row["val_cost"],
            row["val_acc"],
            time.monotonic() - started,
        )
        if diverged_at([row]) is not None:
            log.warning(
                "the cost is not finite at update %d (eta_t = %g, lambda = %g): the run "
                "diverged and stops here",
                t,
                row["eta"],
                cfg.lam,
            )

    dropout_rng, augment_rng = rng.spawn(2)
    batches = batch_order(len(X), cfg.n_batch, cfg.shuffle, rng)
    idx = next(batches)
    stats = model.init_stats(params, X[idx])
    augmenter = BatchAugmenter(augment, X) if augment is not None else None
    # one gradient buffer per parameter, written by the model at every step (no allocation of
    # a 3072 x m gradient per step; the update scales it in place: bit-identical to
    # params -= eta * g)
    grads_out = {name: np.empty_like(value) for name, value in params.items()}
    best = {"acc": -np.inf, "since": 0, "arrays": None}

    def out_of_patience() -> bool:
        """Track the best validation accuracy of the evaluations after update 0 (and keep
        its model with ``keep_best``); True if training should stop (patience exhausted)."""
        acc = history[-1]["val_acc"]
        if acc > best["acc"]:
            best["acc"], best["since"] = acc, 0
            if cfg.keep_best:
                if best["arrays"] is None:
                    best["arrays"] = {k: v.copy() for k, v in (params | stats).items()}
                else:
                    for k, v in (params | stats).items():
                        np.copyto(best["arrays"][k], v)
        else:
            best["since"] += 1
        return cfg.patience is not None and best["since"] >= cfg.patience

    # The mini-batch is gathered into the same two buffers every step: a fresh X[idx] (1.2 MB
    # for 100 CIFAR rows in float32) can be, depending on the heap's history, a new mmap that
    # the kernel page-faults in on every step (+40% on a 3072-50-10 epoch).  mode="clip" skips
    # take's buffered copy (the indices are valid rows).  So the model must not keep references
    # to the batch arrays between calls.
    Xb = np.empty((cfg.n_batch, *X.shape[1:]), dtype=X.dtype)
    yb = np.empty(cfg.n_batch, dtype=y.dtype)
    record(0)
    if diverged_at(history) is not None:
        return history, stats
    for t in range(cfg.n_updates):
        if t:
            idx = next(batches)
        if augmenter is None:
            np.take(X, idx, axis=0, out=Xb, mode="clip")
        else:
            idx = augmenter(idx, augment_rng, Xb)  # reordered: the labels follow
        np.take(y, idx, out=yb, mode="clip")
        grads = model.gradients(params, Xb, yb, cfg.lam, stats, rng=dropout_rng, out=grads_out)
        eta = schedule(t)
        for name, g in grads.items():
            np.multiply(g, eta, out=g)
            params[name] -= g
        done = t + 1
        if cfg.snapshot_every and done % cfg.snapshot_every == 0 and snapshots is not None:
            snapshots.append((done, {k: v.copy() for k, v in (params | stats).items()}))
        if done % cfg.eval_every == 0 or done == cfg.n_updates:
            record(done)
            if diverged_at(history[-1:]) is not None:
                break
            if out_of_patience():
                log.info(
                    "no better validation accuracy in %d evaluations: stopping at update %d",
                    cfg.patience,
                    done,
                )
                break
    if cfg.keep_best and best["arrays"] is not None:
        row = best_evaluation(history)
        log.info("keeping the parameters of update %d (val acc %.4f)", row["update"], best["acc"])
        for k, v in best["arrays"].items():
            np.copyto((params | stats)[k], v)
    return history, stats


def best_evaluation(history: list[dict]) -> dict | None:
    """The evaluation with the best validation accuracy reached by training: not the one
    before the first update, not one whose cost is not finite nor any after it; the first
    of equal ones (the loop keeps a model only when the accuracy improves).  None if there
    is none."""
    diverged = diverged_at(history)
    trained = [row for row in history[1:] if diverged is None or row["update"] < diverged]
    if not trained:
        return None
    return max(trained, key=lambda row: row["val_acc"])  # max keeps the first of ties


def diverged_at(history: list[dict]) -> int | None:
    """The update of the first evaluation whose training or validation cost is not finite
    (NaN or inf), or None if every cost is finite."""
    for row in history:
        if not (np.isfinite(row["train_cost"]) and np.isfinite(row["val_cost"])):
            return int(row["update"])
    return None
