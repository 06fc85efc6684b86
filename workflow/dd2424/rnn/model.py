"""A run's saved best model (results/lab4/runs/<run>/model.npz): what it holds, reading it
back, passages generated from it, and the sampling comparison on its validation text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.text import Vocabulary
from ..io import load_arrays
from . import network, sampling
from .settings import SettingsError


def vocab_codes(vocab: Vocabulary) -> np.ndarray:
    """The vocabulary as the code points of its characters (int64): lossless for every
    character, NUL included (a NumPy string array drops trailing NULs, so "\\x00" would come
    back as "")."""
    return np.array([ord(c) for c in vocab.chars], dtype=np.int64)


def vocab_from(array: np.ndarray, path: str | Path) -> Vocabulary:
    """The vocabulary ``vocab_codes`` saved (or, from a model saved before it, the string
    array of its characters); ValueError naming ``path`` if it is not one."""
    array = np.asarray(array)
    try:
        if array.dtype.kind in "iu":
            return Vocabulary.from_list([chr(int(c)) for c in array])
        return Vocabulary.from_list([str(c) for c in array])
    except (ValueError, OverflowError) as err:
        message = f"{path}: its vocabulary cannot be read ({err}): retrain the run"
        raise ValueError(message) from None


def model_arrays(result) -> dict[str, np.ndarray]:
    """What model.npz holds: the best parameters, the vocabulary, the h0 and first character
    to generate from, and the validation range of the text (-1, -1 when none)."""
    state = result.state
    val = result.val_range or (-1, -1)
    return dict(state.best_params) | {
        "vocab": vocab_codes(result.vocab),
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
        vocab = vocab_from(arrays["vocab"], path)
        a, b = (int(v) for v in arrays["val_range"])
        return cls(
            params={k: np.asarray(arrays[k]) for k in network.NAMES},
            vocab=vocab,
            h0=np.asarray(arrays["h0"]),
            x0=int(arrays["x0"]),
            val_range=None if a < 0 else (a, b),
        )

    @classmethod
    def load(cls, path: str | Path) -> Model:
        """The model saved at ``path`` (model.npz); ValueError naming it if it is not one."""
        return cls.from_arrays(load_arrays(path), path)

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
