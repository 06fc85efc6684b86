"""Config-driven runs of the character RNN (lab 4): the gradient checks, resumable training
and what a run records (smooth loss, validation loss, samples during training, metrics).

``train_resumable`` trains for a number of updates (or epochs), checkpoints every
``checkpoint_every`` updates (parameters, optimiser state, the walk, hprev, smooth loss, both
generators and the records so far) and, when a checkpoint of the same settings and corpus
exists, continues from it: a killed run rerun to the end gives the same result as an
uninterrupted one.
"""

from __future__ import annotations

import copy
import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import gradcheck
from ..data.text import Vocabulary
from . import network, sampling
from .settings import (
    check_gradcheck,
    check_settings,
    fingerprint,
    make_walk,
    rnn_config,
    split,
    total_updates,
)
from .state import TrainingState
from .trainer import train

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------ gradient checks
def gradient_check(spec: Mapping, text: str) -> list[dict]:
    """Spec §6 (A4): the first ``seq_length`` characters and the next ones as targets,
    h0 = 0, an ``m``-unit RNN drawn with ``sig``, centred differences with step ``h``
    (float64), one row per parameter.  With ``batch`` = B > 1 a second check runs the
    mini-batch forward/backward: B consecutive windows of the text as the B sequences, each
    from its own random h0 (so the h0 term of dW is checked too), the loss the mean over the
    batch of the per-sequence sums."""
    check_gradcheck(len(text), spec)
    vocab = Vocabulary.from_text(text)
    tau, m, B = int(spec["seq_length"]), int(spec["m"]), int(spec.get("batch", 1))
    data = vocab.encode(text[: B * tau + 1])
    rng = np.random.default_rng(spec["seed"])
    params = network.init_params(m, vocab.K, rng, sig=spec["sig"])
    thresholds = float(spec["abs_threshold"]), float(spec["rel_threshold"])
    problems = [(data[:tau], data[1 : tau + 1], np.zeros(m), f"rnn m={m} K={vocab.K} tau={tau}")]
    if B > 1:
        idx = np.arange(B)[None, :] * tau + np.arange(tau)[:, None]
        H0 = rng.standard_normal((B, m)) * 0.5
        problems.append((data[idx], data[idx + 1], H0, f"rnn m={m} K={vocab.K} tau={tau} B={B}"))
    rows = []
    for X, Y, H0, name in problems:
        _, cache, _ = network.forward(params, X, Y, H0)
        analytic = network.backward(params, cache)
        numeric = gradcheck.numerical_gradients(
            lambda X=X, Y=Y, H0=H0: network.forward(params, X, Y, H0)[0], params, float(spec["h"])
        )
        rows += gradcheck.as_records(gradcheck.compare(name, analytic, numeric, *thresholds))
    return rows


# ------------------------------------------------------------------------------- training
@dataclass
class RunResult:
    state: TrainingState
    vocab: Vocabulary
    smooth_loss: list[list]  # [update, smooth loss]
    validation: list[list]  # [update, validation loss per character]
    timing: list[list]  # [update, training seconds] at every evaluation and at the end
    samples: list[dict]  # {"update", "smooth_loss", "text"}
    n_updates: int
    n_train: int  # characters of the training text
    val_range: tuple[int, int] | None
    resumed_from: int  # updates already done by an earlier, interrupted run (0 if none)


def _new_or_resumed(settings, text, vocab, n, checkpoint: Path | None) -> TrainingState:
    key = fingerprint(settings, text)
    if checkpoint is not None and checkpoint.exists():
        try:
            state = TrainingState.load(checkpoint)
            same = state.extra.get("fingerprint") == key
        except (ValueError, KeyError, OSError) as err:
            log.warning("ignoring %s: it cannot be read (%s)", checkpoint, err)
            same = False
        if same:
            log.info(
                "resuming from %s at update %d (lines above this one are the interrupted job's)",
                checkpoint,
                state.update,
            )
            return state
        log.warning("ignoring %s: it was made with other settings or another corpus", checkpoint)
    rng = np.random.default_rng(settings["seed"])
    _, val = split(n, settings)
    state = TrainingState(
        rnn_config(settings, n),
        vocab.K,
        rng,
        vocab=vocab.to_list(),
        walk=make_walk(settings, n),
        select="smooth" if val is None else "validation",
    )
    state.extra = {
        "fingerprint": key,
        "smooth_loss": [],
        "validation": [],
        "timing": [],
        "samples": [],
    }
    return state


@dataclass(frozen=True)
class Text:
    """The corpus as the run sees it: its vocabulary, the character indices, the validation
    range and text, and how many characters it trains on."""

    vocab: Vocabulary
    data: np.ndarray
    val_range: tuple[int, int] | None
    n_train: int

    @property
    def val(self) -> np.ndarray | None:
        return None if self.val_range is None else self.data[slice(*self.val_range)]

    @classmethod
    def of(cls, text: str, settings: Mapping) -> Text:
        vocab = Vocabulary.from_text(text)
        data = vocab.encode(text)
        segments, val_range = split(len(data), settings)
        return cls(vocab, data, val_range, sum(b - a for a, b in segments))


def _log_start(state: TrainingState, text: Text, n_updates: int) -> None:
    cfg, val = state.config, text.val
    log.info(
        "char-RNN m=%d, %s, walk %s, B=%d on %d training characters (K=%d, validation %s): "
        "%d updates (%.2f epochs), from update %d",
        cfg.m,
        cfg.optimizer,
        state.walk.kind,
        cfg.batch,
        text.n_train,
        text.vocab.K,
        "none" if val is None else f"{len(val)} characters",
        n_updates,
        n_updates * cfg.batch * cfg.seq_length / text.n_train,
        state.update,
    )


def _train_chunk(state, text: Text, settings: Mapping, n: int, n_updates: int) -> None:
    """``n`` more updates, their records appended to ``state.extra`` (saved with it)."""
    history = train(
        state,
        text.data,
        n,
        val=text.val,
        eval_every=int(settings.get("eval_every") or 1000),
        end=n_updates,
        loss_every=int(settings["loss_every"]),
        sample_every=int(settings["sample_every"]),
        sample_length=int(settings["sample_length"]),
        log_every=int(settings["log_every"]),
    )
    extra = state.extra
    extra["smooth_loss"] += [[u, s, c] for u, s, c in history.smooth_loss]
    extra["validation"] += [[u, v] for u, v, _ in history.validation]
    extra["timing"] += [[u, s] for u, _, s in history.validation]
    extra["samples"] += [
        {"update": u, "smooth_loss": s, "text": text.vocab.decode(idx)}
        for u, s, idx in history.samples
    ]


def _finish(state: TrainingState, text: Text, settings: Mapping, n_updates: int) -> None:
    """The records of the run's end: the training time at the last update, and the sample
    after it when the run's length is a multiple of ``sample_every``."""
    extra = state.extra
    if not extra["timing"] or extra["timing"][-1][0] != n_updates:
        extra["timing"].append([n_updates, state.seconds])
    samples = extra["samples"]
    every = int(settings["sample_every"])
    if n_updates % every == 0 and (not samples or samples[-1]["update"] != n_updates):
        # where lane 0 goes on: its last hidden state and the character after its window
        starts, reset = _peek(state)
        h0 = np.zeros(state.config.m, state.dtype) if reset else state.hprev[0]
        first, length = int(text.data[starts]), int(settings["sample_length"])
        idx = sampling.synthesize(state.params, h0, first, length, state.rng)
        samples.append(
            {"update": n_updates, "smooth_loss": state.smooth_loss, "text": text.vocab.decode(idx)}
        )


def train_resumable(
    settings: Mapping,
    text: str,
    checkpoint: str | Path | None = None,
    where: str = "lab4.train",
) -> RunResult:
    """Train the RNN on ``text`` as ``settings`` say, checkpointing to ``checkpoint``.

    Records the smooth loss at update 1 and every ``loss_every`` updates, the validation loss
    (when there is a validation text) before the first update, every ``eval_every`` updates
    and after the last, and a ``sample_length`` sample before the first update and every
    ``sample_every`` updates (also after the last update when the run length is a multiple of
    it).  Settings the text is too short for raise SettingsError naming ``where``.
    """
    checkpoint = Path(checkpoint) if checkpoint is not None else None
    check_settings(len(text), settings, where)
    corpus = Text.of(text, settings)
    n_updates = total_updates(settings, len(corpus.data))
    state = _new_or_resumed(settings, text, corpus.vocab, len(corpus.data), checkpoint)
    resumed_from = state.update
    _log_start(state, corpus, n_updates)
    every = int(settings["checkpoint_every"])
    while state.update < n_updates:
        chunk = min(every - state.update % every, n_updates - state.update)
        _train_chunk(state, corpus, settings, chunk, n_updates)
        if checkpoint is not None:
            state.save(checkpoint)
            log.info("checkpoint at update %d: %s", state.update, checkpoint)
    _finish(state, corpus, settings, n_updates)
    extra = state.extra
    return RunResult(
        state=state,
        vocab=corpus.vocab,
        smooth_loss=extra["smooth_loss"],
        validation=extra["validation"],
        timing=extra["timing"],
        samples=extra["samples"],
        n_updates=n_updates,
        n_train=corpus.n_train,
        val_range=corpus.val_range,
        resumed_from=resumed_from,
    )


def _peek(state: TrainingState) -> tuple[int, bool]:
    """Lane 0's next window start and whether it starts afresh, without moving the walk."""
    starts, reset = copy.deepcopy(state.walk).next()
    return int(starts[0]), bool(reset[0])


# ----------------------------------------------------------------------- what a run records
#: the columns of each table ``records`` returns, in order
RECORD_COLUMNS = {
    "smooth_loss": ["update", "characters", "smooth_loss", "train_loss_per_char"],
    "validation": ["update", "characters", "val_loss", "val_perplexity"],
    "timing": ["update", "characters", "train_seconds", "val_loss"],
}


def records(result: RunResult) -> dict:
    """The run's records as rows (write them with ``io.write_records`` and ``RECORD_COLUMNS``)
    and text: ``smooth_loss`` (update, characters, smooth loss, training loss per character),
    ``validation`` (update, characters, validation loss and perplexity), ``samples`` (the
    markdown of the samples drawn during training) and ``timing`` (update, characters,
    training seconds, the validation loss of that update if there was one: a wall-clock
    record, never a result)."""
    cfg = result.state.config
    chars_per_update = cfg.batch * cfg.seq_length
    smooth = [
        dict(zip(RECORD_COLUMNS["smooth_loss"], (u, u * chars_per_update, s, c), strict=True))
        for u, s, c in result.smooth_loss
    ]
    val_losses = np.array([v for _, v in result.validation], dtype=float)
    validation = [
        {"update": u, "characters": u * chars_per_update, "val_loss": v, "val_perplexity": float(p)}
        for (u, v), p in zip(result.validation, np.exp(val_losses), strict=True)
    ]
    timing = []
    for u, seconds in result.timing:  # each with the validation losses of its update, if any
        losses = [v for update, v in result.validation if update == u] or [float("nan")]
        row = {"update": u, "characters": u * chars_per_update, "train_seconds": seconds}
        timing += [row | {"val_loss": v} for v in losses]
    lines = ["# Samples during training\n"]
    for s in result.samples:
        loss = "—" if s["smooth_loss"] is None else f"{s['smooth_loss']:.2f}"
        lines += [f"### after {s['update']} updates (smooth loss {loss})\n", "```", s["text"]]
        lines.append("```\n")
    return {
        "smooth_loss": smooth,
        "validation": validation,
        "samples": "\n".join(lines),
        "timing": timing,
    }


def metrics(result: RunResult, n_chars: int) -> dict:
    """What a run's metrics.json says of its training (``n_chars``: the corpus's length)."""
    state, cfg = result.state, result.state.config
    chars_per_update = cfg.batch * cfg.seq_length
    val = np.array([v for _, v in result.validation], dtype=float)
    best_val = None if np.isnan(val).all() else float(np.nanmin(val))  # NaN skipped
    losses = {u: s for u, s, _ in result.smooth_loss}
    per_char = [(u * chars_per_update, c) for u, _, c in result.smooth_loss]
    return {
        "updates": result.n_updates,
        "optimizer": cfg.optimizer,
        "eta": state.base_eta,  # the configured one or the optimiser's default
        "schedule": describe_schedule(cfg, state.base_eta),
        "walk": state.walk.kind,
        "batch": cfg.batch,
        "characters_seen": result.n_updates * chars_per_update,
        "epochs": result.n_updates * chars_per_update / result.n_train,
        "characters": n_chars,
        "train_characters": result.n_train,
        "val_characters": 0 if result.val_range is None else int(np.diff(result.val_range)[0]),
        "K": result.vocab.K,
        "final_smooth_loss": state.smooth_loss,
        "best_smooth_loss": state.best_smooth_loss,
        "best_smooth_update": state.best_smooth_update,
        # comparable across B and tau (a window of ~25,000 characters; see rnn.state)
        "train_loss_per_char": state.char_loss,
        "best_train_loss_per_char": state.best_char_loss,
        "best_train_loss_per_char_update": state.best_char_update,
        "best_by": "validation loss" if state.select == "validation" else "smooth loss",
        "best_after_updates": state.best_update,
        "best_val_loss": best_val,
        "best_val_perplexity": None if best_val is None else float(np.exp(best_val)),
        "final_val_loss": None if val.size == 0 else float(val[-1]),
        "smooth_loss_at": {str(u): losses[u] for u in (10_000, 30_000, 100_000) if u in losses},
        "train_loss_per_char_at": loss_at_characters(per_char, CHARACTER_MARKS),
        "initial_loss_expected": cfg.seq_length * float(np.log(result.vocab.K)),
    }


#: characters seen at which metrics record the smoothed training loss per character (the
#: course's 10,000, 30,000 and 100,000 updates of 25 characters at B = 1)
CHARACTER_MARKS = (250_000, 750_000, 2_500_000)


def loss_at_characters(record: list[tuple[int, float]], marks) -> dict[str, float]:
    """{characters: the first recorded loss at or after that many characters seen}."""
    out = {}
    for mark in marks:
        later = [loss for chars, loss in record if chars >= mark]
        if later:
            out[str(mark)] = later[0]
    return out


def describe_schedule(config, eta: float) -> str:
    """The step size's schedule of a run, as the tables show it."""
    schedule = config.make_schedule(eta)
    return f"eta={eta:g}" if schedule is None else schedule.describe()


def kept_log(checkpoint: str | Path, log_file: str | Path) -> Path:
    """The copy of a resumable job's log kept next to its checkpoint.  Snakemake deletes the
    log before a job runs, so a resumed job (one with a checkpoint and that copy) starts its
    log from the copy: the interrupted job's lines, then the resume line that says where it
    went on.  A job without a checkpoint starts a fresh copy."""
    checkpoint = Path(checkpoint)
    kept = checkpoint.with_name(checkpoint.stem + ".log")
    if checkpoint.exists() and kept.exists():
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, log_file)
    else:
        kept.unlink(missing_ok=True)
    return kept
