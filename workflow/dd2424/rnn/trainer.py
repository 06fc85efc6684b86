"""The char-RNN's training loop (course-spec §4.2 0.5 and bonus 1-3), in small named steps:
each update takes the walk's windows (``dd2424.rnn.walks``), draws a sample now and then,
steps the state (``dd2424.rnn.state``), records the smooth loss, measures the validation loss
every ``eval_every`` updates and logs progress.  Evaluations and samples are left out of the
training time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .. import clock
from . import network, sampling
from .state import TrainingState

log = logging.getLogger(__name__)


@dataclass
class History:
    """What ``train`` recorded: (update, smooth loss, smoothed training loss per character) at
    update 1 and every ``loss_every``;
    (update, smooth loss before it or None, sampled indices) before update 0 and every
    ``sample_every``; (update, validation loss per character, training seconds so far) at
    every evaluation."""

    smooth_loss: list[tuple[int, float, float]] = field(default_factory=list)
    samples: list[tuple[int, float | None, np.ndarray]] = field(default_factory=list)
    validation: list[tuple[int, float, float]] = field(default_factory=list)
    updates: int = 0
    seconds: float = 0.0

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else float("nan")


def validation_loss(params: Mapping[str, np.ndarray], val: np.ndarray) -> float:
    """Mean cross-entropy per character (nats) on the validation text, h carried across it."""
    return network.text_loss(params, val) / (len(val) - 1)


class Loop:
    """One call of ``train``: its checks, the windows of an update, the samples, the records
    and the evaluations, each a small step (the arguments are ``train``'s)."""

    def __init__(self, state: TrainingState, data: np.ndarray, **options) -> None:
        self.state, self.cfg = state, state.config
        self.walk = state.walk
        self.val = options["val"]
        self.eval_every, self.end = options["eval_every"], options["end"]
        self.loss_every, self.on_loss = options["loss_every"], options["on_loss"]
        self.sample_every, self.sample_length = options["sample_every"], options["sample_length"]
        self.log_every = options["log_every"]
        self.data = self._checked(np.asarray(data))
        self.steps = np.arange(self.cfg.seq_length + 1)[:, None]
        self.history = History()
        self.overhead = 0.0  # evaluations and samples, left out of the training time
        self.started = self.last_time = time.perf_counter()
        self.last_update = state.update

    def _checked(self, data: np.ndarray) -> np.ndarray:
        state, walk = self.state, self.walk
        if walk is None:
            raise ValueError("the trainer has no walk")
        if not np.issubdtype(data.dtype, np.integer):
            raise TypeError("data must be character indices")
        if len(data) and (data.min() < 0 or data.max() >= state.K):
            raise ValueError(f"data indices must be in [0, {state.K})")
        if int(walk.pieces[:, 1].max()) > len(data):
            raise ValueError(f"the walk's pieces reach past the end of the data ({len(data)})")
        if self.val is not None and len(self.val) < 2:
            raise ValueError("the validation text needs at least 2 characters")
        return data.astype(np.intp, copy=False)

    def loop_seconds(self) -> float:
        return time.perf_counter() - self.started - self.overhead

    def evaluate(self, h0: np.ndarray, x0: int) -> None:
        """The validation loss now; the validation rule keeps the best model."""
        t0 = time.perf_counter()
        score = validation_loss(self.state.params, self.val)
        self.state.consider(score, h0, x0)
        self.overhead += time.perf_counter() - t0
        record = (self.state.update, score, self.state.seconds + self.loop_seconds())
        self.history.validation.append(record)

    def windows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X, Y, H0) of the next update: lane j's window in column j, and the lanes' h0
        (0 for a lane that starts a new piece)."""
        starts, reset = self.walk.next()
        windows = self.data[starts + self.steps]  # (tau + 1, B)
        H0 = self.state.hprev
        if reset.any():
            H0[reset] = 0
        return windows[:-1], windows[1:], H0

    def sample(self, X: np.ndarray, H0: np.ndarray) -> None:
        every, state = self.sample_every, self.state
        if every and state.update % every == 0:
            t0 = time.perf_counter()
            length = self.sample_length
            s = sampling.synthesize(state.params, H0[0], int(X[0, 0]), length, state.rng)
            self.history.samples.append((state.update, state.smooth_loss, s))
            self.overhead += time.perf_counter() - t0

    def record(self, Y: np.ndarray) -> None:
        """The smooth loss at update 1 and every ``loss_every``; the validation loss every
        ``eval_every`` and after update ``end``."""
        u, state = self.state.update, self.state
        if u == 1 or u % self.loss_every == 0:
            self.history.smooth_loss.append((u, state.smooth_loss, state.char_loss))
            if self.on_loss is not None:
                self.on_loss(u, state.smooth_loss)
        if self.val is not None and (u % self.eval_every == 0 or u == self.end):
            self.evaluate(state.hprev[0], int(Y[-1, 0]))

    def log_progress(self) -> None:
        u, every = self.state.update, self.log_every
        if not (every and u % every == 0):
            return
        now = time.perf_counter()
        validation = self.history.validation
        shown = (
            f", validation loss {validation[-1][1]:.4f} (at update {validation[-1][0]})"
            if validation
            else ""
        )
        log.info(
            "update %d (epoch %d): smooth loss %.4f (%.4f per character)%s, %.0f updates/s",
            u,
            self.walk.epoch,
            self.state.smooth_loss,
            self.state.char_loss,
            shown,
            (u - self.last_update) / (now - self.last_time),
        )
        self.last_time, self.last_update = now, u

    def run(self, n_updates: int) -> History:
        state = self.state
        clock.mark("training starts")
        if self.val is not None and state.update == 0 and state.best_score is None:
            self.evaluate(
                np.zeros(self.cfg.m, dtype=state.dtype), int(self.data[self.walk.pieces[0, 0]])
            )
        for i in range(n_updates):
            X, Y, H0 = self.windows()
            self.sample(X, H0)
            _, state.hprev = state.step(X, Y, H0)
            if i == 0:
                clock.mark("first update")
            self.record(Y)
            self.log_progress()
        clock.mark("training ends", once=False)  # a resumable run trains in chunks: the last counts
        self.history.updates = n_updates
        self.history.seconds = self.loop_seconds()
        state.seconds += self.history.seconds
        return self.history


def train(
    state: TrainingState,
    data: np.ndarray,
    n_updates: int,
    *,
    val: np.ndarray | None = None,
    eval_every: int = 1000,
    end: int | None = None,
    loss_every: int = 100,
    sample_every: int | None = None,
    sample_length: int = 200,
    log_every: int = 10_000,
    on_loss: Callable[[int, float], None] | None = None,
) -> History:
    """``n_updates`` more updates over ``data`` (character indices) along ``state.walk``.

    Each lane's window at e: x = data[e:e+tau], y = data[e+1:e+tau+1].  With ``sample_every``,
    a ``sample_length`` sample is drawn from state.rng before every update whose index is a
    multiple of it (so also before the first), from lane 0's h0 and first input of that
    update.  With ``val`` (indices of the validation text), the validation loss is measured
    before the first update, after every ``eval_every``-th and after update ``end`` (the
    run's last), and the best model follows the validation rule.  Stopping and resuming (also
    through ``save``/``load``) gives the same result as one uninterrupted call.
    """
    options = {
        "val": val,
        "eval_every": eval_every,
        "end": end,
        "loss_every": loss_every,
        "sample_every": sample_every,
        "sample_length": sample_length,
        "log_every": log_every,
        "on_loss": on_loss,
    }
    return Loop(state, data, **options).run(n_updates)
