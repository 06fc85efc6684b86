"""Ways to walk a text for the char-RNN (course-spec §4.2 0.5 and bonus 2), B sequences at once.

The training text is a list of *pieces*, contiguous ranges [start, stop) of the book (the
held-out validation text is never part of one).  Each update takes one window of tau + 1
characters (inputs data[e:e+tau], targets data[e+1:e+tau+1]) for each of B *lanes*:

- ``sequential`` (the course's walk): the pieces are the training text, each cut into B
  equal parts, walked in order; a lane walks its piece with the spec's position rule
  (e += tau; the piece is done when the next window would not fit) and carries h from one
  window to the next.  With B = 1 and one piece this is exactly spec 0.5.
- ``chunks``: the pieces are L chunks of the book, visited in a random order drawn anew for
  every epoch, each walked sequentially by one lane with h carried inside it.
- ``random``: every window starts at a position drawn uniformly among all windows that fit
  inside a piece; h is reset for every window.

For ``sequential`` and ``chunks`` the lanes draw pieces from a shared queue: a lane whose
piece is done takes the next one and starts it with h = 0 (``reset``); when the queue is empty
an epoch is complete and it is refilled (reshuffled for ``chunks``).  The state (lanes,
queue, generator) is saved and restored with ``state``/``load_state``, so a resumed walk
continues exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

WALKS = ("sequential", "random", "chunks")


def windows_in(length: int, tau: int) -> int:
    """Windows of the spec's position rule in a piece of ``length`` characters (0 if none fits):
    positions 0, tau, 2 tau, ... with e + tau + 1 <= length (44 301 for the Goblet text)."""
    return 0 if length < tau + 1 else (length - tau - 1) // tau + 1


def cut(start: int, stop: int, parts: int) -> list[tuple[int, int]]:
    """[start, stop) cut into ``parts`` contiguous ranges of (almost) equal length."""
    edges = [start + (stop - start) * i // parts for i in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


class Walk:
    """Where each of ``batch`` lanes reads its next window; see the module docstring."""

    def __init__(
        self,
        kind: str,
        pieces: Sequence[tuple[int, int]],
        tau: int,
        batch: int,
        rng: np.random.Generator,
    ) -> None:
        if kind not in WALKS:
            raise ValueError(f"unknown walk {kind!r} (have: {', '.join(WALKS)})")
        if batch < 1 or tau < 1:
            raise ValueError("batch and tau must be >= 1")
        self.kind, self.tau, self.batch, self.rng = kind, int(tau), int(batch), rng
        self.pieces = np.array(pieces, dtype=np.int64).reshape(-1, 2)
        lengths = self.pieces[:, 1] - self.pieces[:, 0]
        short = [
            tuple(p) for p, n in zip(self.pieces.tolist(), lengths, strict=True) if n < tau + 1
        ]
        if short:
            raise ValueError(
                f"pieces {short[:3]} are shorter than seq_length + 1 = {tau + 1} characters"
            )
        # windows per piece, and for the random walk the number of valid starts per piece
        self.windows = np.array([windows_in(int(n), self.tau) for n in lengths], dtype=np.int64)
        self.starts_per_piece = lengths - self.tau  # e in [start, stop - tau - 1]
        self._starts_end = np.cumsum(self.starts_per_piece)  # random walk: draw -> piece
        self.epoch = 0
        self.drawn = 0
        self.lane_piece = np.full(self.batch, -1, dtype=np.int64)  # -1: needs a piece
        self.lane_pos = np.zeros(self.batch, dtype=np.int64)  # next window's start
        # the last start that fits in the lane's piece (stop - tau - 1; -1: needs a piece)
        self.lane_last = np.full(self.batch, -1, dtype=np.int64)
        self._no_reset = np.zeros(self.batch, dtype=bool)
        self._all_reset = np.ones(self.batch, dtype=bool)
        self.queue = np.zeros(0, dtype=np.int64)
        self.queue_pos = 0
        if kind != "random":
            self._refill(first=True)

    @property
    def windows_per_epoch(self) -> int:
        """Windows in one pass over the training pieces (the same for every walk)."""
        return int(self.windows.sum())

    def updates_per_epoch(self) -> int:
        return -(-self.windows_per_epoch // self.batch)

    def _refill(self, first: bool = False) -> None:
        n = len(self.pieces)
        self.queue = self.rng.permutation(n) if self.kind == "chunks" else np.arange(n)
        self.queue_pos = 0
        if not first:
            self.epoch += 1

    def next(self) -> tuple[np.ndarray, np.ndarray]:
        """(start of each lane's window (B,), whether the lane starts afresh with h = 0 (B,)).

        Both arrays belong to the walk: read them before the next call, do not modify them."""
        tau = self.tau
        if self.kind == "random":
            self.drawn += 1  # epochs of the random walk: updates / updates_per_epoch
            self.epoch = (self.drawn - 1) // self.updates_per_epoch()
            ends = self._starts_end
            draw = self.rng.integers(int(ends[-1]), size=self.batch)
            piece = np.searchsorted(ends, draw, side="right")
            offset = draw - (ends[piece] - self.starts_per_piece[piece])
            return self.pieces[piece, 0] + offset, self._all_reset
        reset = self._no_reset
        done = self.lane_pos > self.lane_last
        if done.any():
            reset = done
            for lane in np.flatnonzero(done):
                if self.queue_pos == len(self.queue):
                    self._refill()
                p = int(self.queue[self.queue_pos])
                self.queue_pos += 1
                self.lane_piece[lane] = p
                self.lane_pos[lane] = self.pieces[p, 0]
                self.lane_last[lane] = self.pieces[p, 1] - tau - 1
        starts = self.lane_pos.copy()
        self.lane_pos += tau
        return starts, reset

    # ------------------------------------------------------------------------ save / load
    def state(self) -> dict[str, Any]:
        """JSON-able state (lanes, queue, epoch, generator)."""
        return {
            "kind": self.kind,
            "epoch": self.epoch,
            "drawn": self.drawn,
            "lane_piece": self.lane_piece.tolist(),
            "lane_pos": self.lane_pos.tolist(),
            "queue": self.queue.tolist(),
            "queue_pos": self.queue_pos,
            "rng": json.loads(json.dumps(self.rng.bit_generator.state, default=int)),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state["kind"] != self.kind or len(state["lane_piece"]) != self.batch:
            raise ValueError("the saved walk is of another kind or batch size")
        self.epoch = int(state["epoch"])
        self.drawn = int(state["drawn"])
        self.lane_piece = np.array(state["lane_piece"], dtype=np.int64)
        self.lane_pos = np.array(state["lane_pos"], dtype=np.int64)
        piece = self.lane_piece
        self.lane_last = np.where(piece < 0, -1, self.pieces[piece, 1] - self.tau - 1)
        self.queue = np.array(state["queue"], dtype=np.int64)
        self.queue_pos = int(state["queue_pos"])
        self.rng.bit_generator.state = state["rng"]
