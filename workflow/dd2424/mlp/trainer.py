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

from .. import clock
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


class Solver:
    """Mini-batch gradient descent on one model, in small named steps (the pattern of
    cs231n's ``Solver``): ``_reset`` sets up the generators, the batch order, the model's
    statistics and the buffers; ``_gather`` fills the mini-batch, ``_step`` takes one update,
    ``_evaluate`` records a row of the history, ``_keep_best`` tracks the best evaluation and
    ``train`` runs the loop (see ``minibatch_gd`` for what it does)."""

    def __init__(self, model, params, train, val, cfg, schedule, rng, augment=None, snapshots=None):
        # the arguments are minibatch_gd's
        self.model, self.params, self.cfg, self.schedule = model, params, cfg, schedule
        self.train_set, self.val_set = train, val
        self.augment, self.snapshots = augment, snapshots
        self._reset(rng)

    def _reset(self, rng: np.random.Generator) -> None:
        X, y = self.train_set
        self.per_epoch = len(X) // self.cfg.n_batch
        self.history: list[dict] = []
        self.started = time.monotonic()
        self.dropout_rng, self.augment_rng = rng.spawn(2)
        self.batches = batch_order(len(X), self.cfg.n_batch, self.cfg.shuffle, rng)
        self.idx = next(self.batches)
        self.stats = self.model.init_stats(self.params, X[self.idx])
        self.augmenter = BatchAugmenter(self.augment, X) if self.augment is not None else None
        # one gradient buffer per parameter, written by the model at every step (no
        # allocation of a 3072 x m gradient per step; the update scales it in place:
        # bit-identical to params -= eta * g)
        self.grads = {name: np.empty_like(value) for name, value in self.params.items()}
        # The mini-batch is gathered into the same two buffers every step: a fresh X[idx]
        # (1.2 MB for 100 CIFAR rows in float32) can be, depending on the heap's history, a
        # new mmap that the kernel page-faults in on every step (+40% on a 3072-50-10 epoch).
        # mode="clip" skips take's buffered copy (the indices are valid rows).  So the model
        # must not keep references to the batch arrays between calls.
        self.Xb = np.empty((self.cfg.n_batch, *X.shape[1:]), dtype=X.dtype)
        self.yb = np.empty(self.cfg.n_batch, dtype=y.dtype)
        self.best = {"acc": -np.inf, "since": 0, "arrays": None}

    def _gather(self, t: int) -> None:
        """The mini-batch of update ``t`` into the batch buffers (augmented if asked)."""
        X, y = self.train_set
        idx = self.idx if t == 0 else next(self.batches)
        if self.augmenter is None:
            np.take(X, idx, axis=0, out=self.Xb, mode="clip")
        else:
            idx = self.augmenter(idx, self.augment_rng, self.Xb)  # reordered: labels follow
        np.take(y, idx, out=self.yb, mode="clip")

    def _step(self, t: int) -> None:
        """One update: gradients of the gathered mini-batch, then params -= eta_t * g."""
        grads = self.model.gradients(
            self.params,
            self.Xb,
            self.yb,
            self.cfg.lam,
            self.stats,
            rng=self.dropout_rng,
            out=self.grads,
        )
        eta = self.schedule(t)
        for name, g in grads.items():
            np.multiply(g, eta, out=g)
            self.params[name] -= g

    def _evaluate(self, t: int) -> bool:
        """Append the evaluation after ``t`` updates to the history; False if its cost is not
        finite (the run diverged and stops there)."""
        row = {"update": t, "epoch": t / self.per_epoch, "eta": self.schedule(t)}
        for part, (Xp, yp) in (("train", self.train_set), ("val", self.val_set)):
            for key, value in self.model.evaluate(
                self.params, Xp, yp, self.cfg.lam, self.stats
            ).items():
                row[f"{part}_{key}"] = value
        self.history.append(row)
        log.info(
            "update %d/%d (epoch %.2f): train cost %.4f acc %.4f | val cost %.4f acc %.4f | %.1fs",
            t,
            self.cfg.n_updates,
            row["epoch"],
            row["train_cost"],
            row["train_acc"],
            row["val_cost"],
            row["val_acc"],
            time.monotonic() - self.started,
        )
        if diverged_at([row]) is None:
            return True
        log.warning(
            "the cost is not finite at update %d (eta_t = %g, lambda = %g): the run diverged "
            "and stops here",
            t,
            row["eta"],
            self.cfg.lam,
        )
        return False

    def _arrays(self) -> dict[str, np.ndarray]:
        return self.params | self.stats

    def _keep_best(self) -> bool:
        """Track the best validation accuracy of the evaluations after update 0 (and keep its
        model with ``keep_best``); False if training should stop (patience exhausted)."""
        best = self.best
        acc = self.history[-1]["val_acc"]
        if acc > best["acc"]:
            best["acc"], best["since"] = acc, 0
            if self.cfg.keep_best:
                if best["arrays"] is None:
                    best["arrays"] = {k: v.copy() for k, v in self._arrays().items()}
                else:
                    for k, v in self._arrays().items():
                        np.copyto(best["arrays"][k], v)
        else:
            best["since"] += 1
        if self.cfg.patience is None or best["since"] < self.cfg.patience:
            return True
        log.info(
            "no better validation accuracy in %d evaluations: stopping at update %d",
            self.cfg.patience,
            self.history[-1]["update"],
        )
        return False

    def _snapshot(self, done: int) -> None:
        if self.cfg.snapshot_every and done % self.cfg.snapshot_every == 0:
            if self.snapshots is not None:
                self.snapshots.append((done, {k: v.copy() for k, v in self._arrays().items()}))

    def _restore_best(self) -> None:
        if self.cfg.keep_best and self.best["arrays"] is not None:
            row = best_evaluation(self.history)
            log.info(
                "keeping the parameters of update %d (val acc %.4f)",
                row["update"],
                self.best["acc"],
            )
            arrays = self._arrays()
            for k, v in self.best["arrays"].items():
                np.copyto(arrays[k], v)

    def train(self) -> tuple[list[dict], dict]:
        """Run the loop; return (history, stats)."""
        cfg = self.cfg
        clock.mark("training starts")
        if not self._evaluate(0):
            return self.history, self.stats
        for t in range(cfg.n_updates):
            self._gather(t)
            self._step(t)
            if t == 0:
                clock.mark("first update")
            done = t + 1
            self._snapshot(done)
            if done % cfg.eval_every == 0 or done == cfg.n_updates:
                if not (self._evaluate(done) and self._keep_best()):
                    break
        self._restore_best()
        clock.mark("training ends")
        return self.history, self.stats


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
    solver = Solver(model, params, train, val, cfg, schedule, rng, augment, snapshots)
    return solver.train()


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
