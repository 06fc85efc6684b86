"""Config-driven runs of the character RNN (lab 4): text checks, the validation split, the
gradient checks, resumable training and the saved model.

Settings are one run's merged ``lab4.train`` + ``lab4.runs.<run>`` mapping (see
config/README.md).  ``train_resumable`` trains for a number of updates (or epochs),
checkpoints every ``checkpoint_every`` updates (parameters, optimiser state, the walk, hprev,
smooth loss, both generators and the records so far) and, when a checkpoint of the same
settings and corpus exists, continues from it: a killed run rerun to the end gives the same
result as an uninterrupted one.

Validation text (``validation.mode``): ``none``; ``tail``, the last ``fraction`` of the text;
or ``chunk``, chunk number ``chunk`` of the text cut into ``chunks`` equal chunks.  It is
never part of the training pieces, whatever the walk.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import gradcheck
from ..data.text import Vocabulary, read_text
from . import network, sampling
from .trainer import RNNConfig, Trainer, train
from .walks import Walk, cut

log = logging.getLogger(__name__)

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


def rnn_config(settings: Mapping) -> RNNConfig:
    return RNNConfig(**{k: settings[k] for k in CONFIG_KEYS if k in settings})


# ---------------------------------------------------------------------- text and split
def check_corpus(text: str, path: str | Path) -> None:
    """An empty corpus cannot train anything: say which file it is and what to do."""
    if not text:
        raise SettingsError(
            f"the corpus {path} is empty: point lab4.corpus at a non-empty UTF-8 text "
            "(or delete the file so that it is downloaded / generated again)"
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
    """``updates`` if set, else ``epochs`` passes over the training text: for every walk and
    B, ceil(windows of the sequential walk / B) updates per epoch."""
    if settings.get("updates"):
        return int(settings["updates"])
    return int(settings["epochs"]) * make_walk(settings, n_chars).updates_per_epoch()


@dataclass
class RunResult:
    state: Trainer
    vocab: Vocabulary
    smooth_loss: list[list]  # [update, smooth loss]
    validation: list[list]  # [update, validation loss per character]
    timing: list[list]  # [update, training seconds] at every evaluation and at the end
    samples: list[dict]  # {"update", "smooth_loss", "text"}
    n_updates: int
    n_train: int  # characters of the training text
    val_range: tuple[int, int] | None
    resumed_from: int  # updates already done by an earlier, interrupted run (0 if none)


def _new_or_resumed(settings, text, vocab, n, checkpoint: Path | None) -> Trainer:
    key = fingerprint(settings, text)
    if checkpoint is not None and checkpoint.exists():
        try:
            state = Trainer.load(checkpoint)
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
    state = Trainer(
        rnn_config(settings),
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
    vocab = Vocabulary.from_text(text)
    data = vocab.encode(text)
    n = len(data)
    segments, val_range = split(n, settings)
    val = None if val_range is None else data[val_range[0] : val_range[1]]
    n_train = sum(b - a for a, b in segments)
    n_updates = total_updates(settings, n)
    state = _new_or_resumed(settings, text, vocab, n, checkpoint)
    resumed_from = state.update
    every = int(settings["checkpoint_every"])
    sample_every = int(settings["sample_every"])
    cfg = state.config
    log.info(
        "char-RNN m=%d, %s, walk %s, B=%d on %d training characters (K=%d, validation %s): "
        "%d updates (%.2f epochs), from update %d",
        cfg.m,
        cfg.optimizer,
        state.walk.kind,
        cfg.batch,
        n_train,
        vocab.K,
        "none" if val is None else f"{len(val)} characters",
        n_updates,
        n_updates * cfg.batch * cfg.seq_length / n_train,
        state.update,
    )
    extra = state.extra
    while state.update < n_updates:
        chunk = min(every - state.update % every, n_updates - state.update)
        history = train(
            state,
            data,
            chunk,
            val=val,
            eval_every=int(settings.get("eval_every") or 1000),
            end=n_updates,
            loss_every=int(settings["loss_every"]),
            sample_every=sample_every,
            sample_length=int(settings["sample_length"]),
            log_every=int(settings["log_every"]),
        )
        extra["smooth_loss"] += [[u, s] for u, s in history.smooth_loss]
        extra["validation"] += [[u, v] for u, v, _ in history.validation]
        extra["timing"] += [[u, s] for u, _, s in history.validation]
        extra["samples"] += [
            {"update": u, "smooth_loss": s, "text": vocab.decode(idx)}
            for u, s, idx in history.samples
        ]
        if checkpoint is not None:
            state.save(checkpoint)
            log.info("checkpoint at update %d: %s", state.update, checkpoint)
    if not extra["timing"] or extra["timing"][-1][0] != n_updates:
        extra["timing"].append([n_updates, state.seconds])
    samples = extra["samples"]
    if n_updates % sample_every == 0 and (not samples or samples[-1]["update"] != n_updates):
        # where lane 0 goes on: its last hidden state and the character after its window
        starts, reset = _peek(state)
        h0 = np.zeros(cfg.m, state.dtype) if reset else state.hprev[0]
        idx = sampling.synthesize(
            state.params, h0, int(data[starts]), int(settings["sample_length"]), state.rng
        )
        samples.append(
            {"update": n_updates, "smooth_loss": state.smooth_loss, "text": vocab.decode(idx)}
        )
    return RunResult(
        state=state,
        vocab=vocab,
        smooth_loss=extra["smooth_loss"],
        validation=extra["validation"],
        timing=extra["timing"],
        samples=samples,
        n_updates=n_updates,
        n_train=n_train,
        val_range=val_range,
        resumed_from=resumed_from,
    )


def _peek(state: Trainer) -> tuple[int, bool]:
    """Lane 0's next window start and whether it starts afresh, without moving the walk."""
    starts, reset = copy.deepcopy(state.walk).next()
    return int(starts[0]), bool(reset[0])


# ------------------------------------------------------------------------------ the model
def model_arrays(result: RunResult) -> dict[str, np.ndarray]:
    """What model.npz holds: the best parameters, the vocabulary, the h0 and first character
    to generate from, and the validation range of the text (-1, -1 when none)."""
    state = result.state
    val = result.val_range or (-1, -1)
    return dict(state.best_params) | {
        "vocab": np.array(result.vocab.chars),
        "h0": state.best_h0.copy(),
        "x0": np.array(state.best_x0, dtype=np.int64),
        "val_range": np.array(val, dtype=np.int64),
    }


@dataclass
class Model:
    """A saved model: parameters, vocabulary, where to start generating, validation range."""

    params: dict[str, np.ndarray]
    vocab: Vocabulary
    h0: np.ndarray
    x0: int
    val_range: tuple[int, int] | None

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], path: str | Path = "model") -> Model:
        missing = [k for k in (*network.NAMES, "vocab", "h0", "x0", "val_range") if k not in arrays]
        if missing:
            raise ValueError(f"{path} lacks {missing}: retrain the run that wrote it")
        vocab = Vocabulary.from_list([str(c) for c in arrays["vocab"]])
        a, b = (int(v) for v in arrays["val_range"])
        return cls(
            params={k: np.asarray(arrays[k]) for k in network.NAMES},
            vocab=vocab,
            h0=np.asarray(arrays["h0"]),
            x0=int(arrays["x0"]),
            val_range=None if a < 0 else (a, b),
        )

    def generate(self, length: int, seed: int, temperature: float = 1.0, top_p: float = 1.0) -> str:
        """A passage of ``length`` characters from (h0, x0), drawn with its own generator."""
        idx = sampling.synthesize(
            self.params,
            self.h0,
            self.x0,
            length,
            np.random.default_rng(seed),
            temperature=temperature,
            top_p=top_p,
        )
        return self.vocab.decode(idx)


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


# --------------------------------------------------------------- the sampling comparison
def sampling_comparison(
    model: Model,
    text: str,
    temperatures: list[float],
    top_ps: list[float],
    length: int,
    seed: int,
) -> list[dict]:
    """One row per (temperature, top_p): the cross-entropy of the sampling distribution on
    the model's validation text (``cut_rate`` and ``ce_kept``, see ``dd2424.rnn.sampling``), and
    for ``length`` generated characters (from the model's h0 and x0, one seeded generator per
    cell) the share of words found in the training text and distinct-2/3 of the words."""
    if model.val_range is None:
        raise SettingsError(
            "the sampling comparison needs a model trained with a validation text: set "
            "lab4.sampling.run to a run whose validation.mode is tail or chunk"
        )
    a, b = model.val_range
    if b > len(text):
        raise SettingsError(
            f"the model's validation range {a}..{b} does not fit the corpus ({len(text)} "
            "characters): retrain the run on this corpus"
        )
    val = model.vocab.encode(text[a:b])
    O, _ = network.scores(model.params, val[:-1])
    known = set(sampling.words(text[:a] + "\n" + text[b:]))
    rows = []
    for i, (temperature, top_p) in enumerate(
        (t, p) for t in sorted(temperatures) for p in sorted(top_ps)
    ):
        ce = sampling.sampling_cross_entropy(O, val[1:], temperature, top_p)
        generated = model.generate(length, seed + i, temperature, top_p)
        tokens = sampling.words(generated)
        rows.append(
            {
                "temperature": temperature,
                "top_p": top_p,
                **ce,
                "words": len(tokens),
                "word_hit_rate": sampling.word_hit_rate(generated, known),
                "distinct_2": sampling.distinct_n(tokens, 2),
                "distinct_3": sampling.distinct_n(tokens, 3),
            }
        )
    return rows
