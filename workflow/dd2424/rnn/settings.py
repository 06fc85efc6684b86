"""A char-RNN run's settings against its text: the validation split, the pieces the walk
reads, the checks that name the key to change when the text is too short, the run's walk and
length, and the fingerprint that ties a checkpoint to its settings and corpus.

Settings are one run's merged ``lab4.train`` + ``lab4.runs.<run>`` mapping (see
config/README.md).  Validation text (``validation.mode``): ``none``; ``tail``, the last
``fraction`` of the text; or ``chunk``, chunk number ``chunk`` of the text cut into ``chunks``
equal chunks.  It is never part of the training pieces, whatever the walk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .. import schedules
from ..data.text import read_text
from .state import RNNConfig
from .walks import Walk, cut

CONFIG_KEYS = (
    "m",
    "seq_length",
    "optimizer",
    "eta",
    "eps",
    "gamma",
    "beta1",
    "beta2",
    "sig",
    "clip",
    "smooth",
    "batch",
    "dtype",
)


class SettingsError(ValueError):
    """A setting that the text cannot satisfy; the message names the key and the fix."""


def rnn_config(settings: Mapping, n_chars: int | None = None) -> RNNConfig:
    """The state's config of a run; its step size's schedule is resolved against the run's
    length and epoch on a text of ``n_chars`` characters (needed when it has a schedule)."""
    config = {k: settings[k] for k in CONFIG_KEYS if k in settings}
    schedule = dict(settings.get("schedule") or {})
    if schedules.varies(schedule):
        schedule["n_updates"] = total_updates(settings, n_chars)
        schedule["steps_per_epoch"] = make_walk(settings, n_chars).updates_per_epoch()
        config["schedule"] = schedule
    return RNNConfig(**config)


# ---------------------------------------------------------------------- text and split
def check_corpus(text: str, path: str | Path) -> None:
    """An empty corpus, or one of a single distinct character (K = 1: every loss is 0 and every
    gradient too, so nothing can be learnt or checked), cannot train anything: say which file
    it is and what to do."""
    if not text:
        raise SettingsError(
            f"the corpus {path} is empty: point lab4.corpus at a non-empty UTF-8 text "
            "(or delete the file so that it is downloaded / generated again)"
        )
    if len(set(text)) < 2:
        raise SettingsError(
            f"the corpus {path} holds a single distinct character ({text[0]!r}, K = 1): there "
            "is nothing to predict, so every loss and gradient would be 0; point lab4.corpus "
            "at a text of at least 2 distinct characters"
        )


def split(n: int, settings: Mapping, where: str = "lab4.train") -> tuple[list, tuple | None]:
    """(training segments [(start, stop)], validation range (start, stop) or None) of a text
    of ``n`` characters; checks that every part is long enough, naming the key to change."""
    tau = int(settings["seq_length"])
    spec = settings.get("validation") or {"mode": "none"}
    mode = spec.get("mode", "none")
    need = tau + 1
    if n < need + (0 if mode == "none" else 2):
        raise SettingsError(
            f"{where}.seq_length = {tau} needs a text of at least seq_length + 1 = {need} "
            f"characters{' plus 2 for validation' if mode != 'none' else ''}; the corpus has "
            f"{n}: lower {where}.seq_length or use a longer text"
        )
    if mode == "none":
        return [(0, n)], None
    if mode == "tail":
        fraction = float(spec["fraction"])
        v = int(round(fraction * n))
        if v < 2 or n - v < need:
            raise SettingsError(
                f"{where}.validation.fraction = {fraction} holds out {v} of {n} characters, "
                f"leaving {n - v} to train on; the validation text needs >= 2 and the "
                f"training text >= seq_length + 1 = {need}: change "
                f"{where}.validation.fraction"
            )
        return [(0, n - v)], (n - v, n)
    if mode == "chunk":
        L, j = int(settings["chunks"]), int(spec["chunk"])
        if not 0 <= j < L:
            raise SettingsError(
                f"{where}.validation.chunk = {j} is not one of the {L} chunks "
                f"({where}.chunks): use 0 .. {L - 1}"
            )
        if n // L < need:
            raise SettingsError(
                f"{where}.chunks = {L} cuts the {n} characters into chunks of ~{n // L}, "
                f"shorter than seq_length + 1 = {need}: lower {where}.chunks"
            )
        a, b = cut(0, n, L)[j]
        return [s for s in ((0, a), (b, n)) if s[1] > s[0]], (a, b)
    raise SettingsError(f"{where}.validation.mode = {mode!r}: use none, tail or chunk")


def pieces(n: int, settings: Mapping, where: str = "lab4.train") -> list[tuple[int, int]]:
    """The walk's pieces (see ``dd2424.rnn.walks``), checked to hold a window each."""
    segments, val = split(n, settings, where)
    tau = int(settings["seq_length"])
    kind = settings.get("walk", "sequential")
    batch = int(settings.get("batch", 1))
    if kind == "chunks":
        L = int(settings["chunks"])
        mode = (settings.get("validation") or {}).get("mode", "none")
        if mode == "chunk":
            out = [c for c in cut(0, n, L) if c != val]
        else:
            out = cut(*segments[0], L)
        what, fix = f"{where}.chunks = {L} cuts the text into pieces", f"lower {where}.chunks"
        if batch > len(out):
            raise SettingsError(
                f"{where}.batch = {batch} lanes but only {len(out)} training chunks "
                f"({where}.chunks = {L}): each lane walks a chunk of its own, so raise "
                f"{where}.chunks or lower {where}.batch"
            )
    elif kind == "sequential":
        out = [p for s in segments for p in cut(*s, batch)]
        what = f"{where}.batch = {batch} cuts the training text into lanes"
        fix = f"lower {where}.batch"
    else:
        out = segments
        what, fix = "the training text is cut into pieces", f"lower {where}.seq_length"
    short = [p for p in out if p[1] - p[0] < tau + 1]
    if short:
        raise SettingsError(
            f"{what} of {min(p[1] - p[0] for p in short)} characters, shorter than "
            f"seq_length + 1 = {tau + 1}: {fix}"
        )
    return out


def check_settings(n: int, settings: Mapping, where: str = "lab4.train") -> None:
    """Everything about a run that the length of the text decides (raises SettingsError)."""
    pieces(n, settings, where)


def check_gradcheck(n: int, spec: Mapping, where: str = "lab4.gradcheck") -> None:
    tau, batch = int(spec["seq_length"]), int(spec.get("batch", 1))
    need = batch * tau + 1
    if n < need:
        raise SettingsError(
            f"{where}.seq_length = {tau} with {where}.batch = {batch} needs batch * "
            f"seq_length + 1 = {need} characters; the corpus has {n}: lower "
            f"{where}.seq_length or {where}.batch"
        )


def read_corpus(path: str | Path) -> str:
    """The corpus as text, with a message naming the file and the fix when it is not UTF-8
    or is empty."""
    try:
        text = read_text(path)
    except UnicodeDecodeError as err:
        raise SettingsError(
            f"the corpus {path} is not UTF-8 text (byte {err.start}: {err.reason}): convert it "
            f"(e.g. `iconv -f latin1 -t utf-8 {path}`) and point lab4.corpus.local_copy at the "
            "converted file, with its checksum"
        ) from None
    check_corpus(text, path)
    return text


def fingerprint(settings: Mapping, text: str) -> str:
    """Identifies what a checkpoint was trained on: the training settings and the corpus."""
    blob = json.dumps(dict(settings), sort_keys=True) + "\0" + text
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def make_walk(settings: Mapping, n: int) -> Walk:
    """The run's walk; its generator is the run's seed's second stream, so the sampling
    during training never changes which windows are trained on."""
    return Walk(
        settings.get("walk", "sequential"),
        pieces(n, settings),
        int(settings["seq_length"]),
        int(settings.get("batch", 1)),
        np.random.default_rng([1, int(settings["seed"])]),
    )


def total_updates(settings: Mapping, n_chars: int) -> int:
    """``updates`` if set, else the updates that see ``characters`` (a budget in characters:
    ceil(characters / (B tau)), the same text for every B), else ``epochs`` passes over the
    training text: for every walk and B, ceil(windows of the sequential walk / B) updates per
    epoch."""
    if settings.get("updates"):
        return int(settings["updates"])
    if settings.get("characters"):
        per_update = int(settings.get("batch", 1)) * int(settings["seq_length"])
        return -(-int(settings["characters"]) // per_update)
    return int(settings["epochs"]) * make_walk(settings, n_chars).updates_per_epoch()
