"""Config-driven runs of the character RNN (lab 4): gradient check and resumable training.

``train_resumable`` trains for a number of updates (or epochs), checkpoints every
``checkpoint_every`` updates (parameters, AdaGrad memory, position, hprev, smooth loss, RNG
state and the records so far) and, when a checkpoint of the same settings and corpus exists,
continues from it: a killed run rerun to the end gives the same result as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import gradcheck, rnn
from .text import Vocabulary

log = logging.getLogger(__name__)

CONFIG_KEYS = ("m", "seq_length", "eta", "sig", "eps", "clip", "smooth", "dtype")


def rnn_config(settings: Mapping) -> rnn.RNNConfig:
    return rnn.RNNConfig(**{k: settings[k] for k in CONFIG_KEYS if k in settings})


def gradient_check(spec: Mapping, text: str) -> list[dict]:
    """Spec §6 (A4): the first ``seq_length`` characters and the next ones as targets,
    h0 = 0, an ``m``-unit RNN drawn with ``sig``, centred differences with step ``h``
    (float64), one row per parameter."""
    vocab = Vocabulary.from_text(text)
    tau = int(spec["seq_length"])
    data = vocab.encode(text[: tau + 1])
    x, y = data[:tau], data[1:]
    m = int(spec["m"])
    params = rnn.init_params(m, vocab.K, np.random.default_rng(spec["seed"]), sig=spec["sig"])
    h0 = np.zeros(m)
    _, cache, _ = rnn.forward(params, x, y, h0)
    analytic = rnn.backward(params, cache)
    numeric = gradcheck.numerical_gradients(
        lambda: rnn.forward(params, x, y, h0)[0], params, float(spec["h"])
    )
    name = f"rnn m={m} K={vocab.K} tau={tau}"
    thresholds = float(spec["abs_threshold"]), float(spec["rel_threshold"])
    return gradcheck.as_records(gradcheck.compare(name, analytic, numeric, *thresholds))


def total_updates(settings: Mapping, n_chars: int) -> int:
    """``updates`` if set, else ``epochs`` epochs of the spec's position rule."""
    if settings.get("updates"):
        return int(settings["updates"])
    return int(settings["epochs"]) * rnn.updates_per_epoch(n_chars, int(settings["seq_length"]))


def fingerprint(settings: Mapping, text: str) -> str:
    """Identifies what a checkpoint was trained on: the training settings and the corpus."""
    blob = json.dumps(dict(settings), sort_keys=True) + "\0" + text
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class RunResult:
    state: rnn.Trainer
    vocab: Vocabulary
    smooth_loss: list[list]  # [update, smooth loss]
    samples: list[dict]  # {"update", "smooth_loss", "text"}
    n_updates: int
    resumed_from: int  # updates already done by an earlier, interrupted run (0 if none)
    updates_per_s: float


def _new_or_resumed(settings, text, vocab, checkpoint: Path | None) -> rnn.Trainer:
    key = fingerprint(settings, text)
    if checkpoint is not None and checkpoint.exists():
        state = rnn.Trainer.load(checkpoint)
        if state.extra.get("fingerprint") == key:
            log.info("resuming from %s at update %d", checkpoint, state.update)
            return state
        log.warning("ignoring %s: it was made with other settings or another corpus", checkpoint)
    rng = np.random.default_rng(settings["seed"])
    state = rnn.Trainer(rnn_config(settings), vocab.K, rng, vocab=vocab.to_list())
    state.extra = {"fingerprint": key, "smooth_loss": [], "samples": []}
    return state


def train_resumable(
    settings: Mapping, text: str, checkpoint: str | Path | None = None
) -> RunResult:
    """Train the RNN on ``text`` as ``settings`` say, checkpointing to ``checkpoint``.

    Records the smooth loss at update 1 and every ``loss_every`` updates, and a
    ``sample_length`` sample before the first update and every ``sample_every`` updates
    (also after the last update when the run length is a multiple of it).
    """
    checkpoint = Path(checkpoint) if checkpoint is not None else None
    vocab = Vocabulary.from_text(text)
    data = vocab.encode(text)
    n_updates = total_updates(settings, len(data))
    state = _new_or_resumed(settings, text, vocab, checkpoint)
    resumed_from = state.update
    every = int(settings["checkpoint_every"])
    sample_every = int(settings["sample_every"])
    log.info(
        "char-RNN m=%d on %d characters (K=%d): %d updates (%.2f epochs), from update %d",
        state.config.m,
        len(data),
        vocab.K,
        n_updates,
        n_updates / rnn.updates_per_epoch(len(data), state.config.seq_length),
        state.update,
    )
    seconds = 0.0
    while state.update < n_updates:
        chunk = min(every - state.update % every, n_updates - state.update)
        history = rnn.train(
            state,
            data,
            chunk,
            loss_every=int(settings["loss_every"]),
            sample_every=sample_every,
            sample_length=int(settings["sample_length"]),
            log_every=int(settings["log_every"]),
        )
        seconds += history.seconds
        state.extra["smooth_loss"] += [[u, s] for u, s in history.smooth_loss]
        state.extra["samples"] += [
            {"update": u, "smooth_loss": s, "text": vocab.decode(idx)}
            for u, s, idx in history.samples
        ]
        if checkpoint is not None:
            state.save(checkpoint)
            log.info("checkpoint at update %d: %s", state.update, checkpoint)
    samples = state.extra["samples"]
    if n_updates % sample_every == 0 and (not samples or samples[-1]["update"] != n_updates):
        h0 = np.zeros(state.config.m, state.dtype) if state.e == 0 else state.hprev
        idx = rnn.synthesize(
            state.params, h0, int(data[state.e]), int(settings["sample_length"]), state.rng
        )
        samples.append(
            {"update": n_updates, "smooth_loss": state.smooth_loss, "text": vocab.decode(idx)}
        )
    done = state.update - resumed_from
    return RunResult(
        state=state,
        vocab=vocab,
        smooth_loss=state.extra["smooth_loss"],
        samples=samples,
        n_updates=n_updates,
        resumed_from=resumed_from,
        updates_per_s=done / seconds if seconds > 0 else float("nan"),
    )


def passage(
    result: RunResult, length: int, seed: int, temperature: float = 1.0, top_p: float = 1.0
) -> str:
    """A passage from the best model (lowest smooth loss), started from the h0 and first input
    of its forward pass, drawn with its own seeded generator."""
    state = result.state
    idx = rnn.synthesize(
        state.best_params,
        state.best_hprev,
        state.best_x0,
        length,
        np.random.default_rng(seed),
        temperature=temperature,
        top_p=top_p,
    )
    return result.vocab.decode(idx)
