"""Character corpora for the RNN of lab 4: reading, a deterministic vocabulary, synthetic text.

The vocabulary is the **sorted** set of distinct characters (spec 0.1, course-spec §7.2), so
the char <-> index map is the same in every process whatever ``PYTHONHASHSEED`` is, and a
saved model can be reloaded.  Texts are decoded as UTF-8 explicitly (a byte-wise read splits
non-ASCII characters and gives K = 83 instead of 80 on the Goblet of Fire text).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def read_text(path: str | Path) -> str:
    """The whole file as a string, decoded as UTF-8, with line endings kept as they are."""
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


@dataclass(frozen=True)
class Vocabulary:
    """The characters of a corpus; index i is ``chars[i]`` (spec's book_chars, ind_to_char).

    Build it with ``from_text`` (sorted distinct characters) or ``from_list`` (a saved list,
    order kept as saved).
    """

    chars: tuple[str, ...]
    _codes: np.ndarray = field(init=False, repr=False, compare=False)
    _order: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        chars = tuple(self.chars)
        if not chars:
            raise ValueError("a vocabulary needs at least one character")
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError("every vocabulary entry must be a single character")
        codes = np.array([ord(c) for c in chars], dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        if np.any(np.diff(codes[order]) == 0):
            raise ValueError("vocabulary characters must be distinct")
        object.__setattr__(self, "chars", chars)
        object.__setattr__(self, "_codes", codes[order])
        object.__setattr__(self, "_order", order.astype(np.intp))

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """The sorted (by code point) distinct characters of ``text``."""
        codes = np.unique(_code_points(text))
        return cls(tuple(chr(int(c)) for c in codes))

    @classmethod
    def from_list(cls, chars: Sequence[str]) -> Vocabulary:
        return cls(tuple(chars))

    def to_list(self) -> list[str]:
        """JSON-able form; ``Vocabulary.from_list(v.to_list()) == v``."""
        return list(self.chars)

    @property
    def K(self) -> int:
        return len(self.chars)

    @property
    def char_to_ind(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}

    def encode(self, text: str) -> np.ndarray:
        """Indices (intp) of the characters of ``text``; KeyError for a character not in it."""
        cps = _code_points(text)
        pos = np.searchsorted(self._codes, cps)
        pos = np.minimum(pos, len(self._codes) - 1)
        bad = self._codes[pos] != cps
        if bad.any():
            first = chr(int(cps[np.argmax(bad)]))
            raise KeyError(f"character {first!r} is not in the vocabulary")
        return self._order[pos]

    def decode(self, indices: Iterable[int] | np.ndarray) -> str:
        chars = self.chars
        return "".join(chars[i] for i in np.asarray(indices, dtype=np.intp).ravel().tolist())


# --------------------------------------------------------------------------- synthetic text
# A small fixed grammar (a Markov chain over word classes, words drawn with fixed Zipf-like
# weights) with capitals, punctuation, dialogue, newlines and tab-indented paragraphs, so a
# char-RNN has plenty to learn quickly.  One name contains a non-ASCII character (UTF-8 test).
_WORDS = {
    "name": ("Harry", "Ron", "Hermione", "Hagrid", "Mrs. Müller", "Dumbledore"),
    "det": ("the", "a", "his", "her", "that"),
    "adj": ("old", "dark", "little", "quiet", "strange", "golden", "cold"),
    "noun": ("wizard", "house", "garden", "owl", "castle", "letter", "door", "dragon", "boy"),
    "verb": ("saw", "opened", "found", "watched", "followed", "closed", "heard", "left"),
    "adv": ("slowly", "quickly", "again", "carefully", "suddenly"),
    "prep": ("in", "behind", "near", "under"),
    "say": ("said", "asked", "whispered"),
}


def _zipf(n: int) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1)
    return w / w.sum()


_WEIGHTS = {k: _zipf(len(v)) for k, v in _WORDS.items()}


class _Grammar:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def word(self, kind: str) -> str:
        words = _WORDS[kind]
        return words[self.rng.choice(len(words), p=_WEIGHTS[kind])]

    def noun_phrase(self) -> list[str]:
        words = [self.word("det")]
        if self.rng.random() < 0.4:
            words.append(self.word("adj"))
        words.append(self.word("noun"))
        return words

    def clause(self) -> list[str]:
        subject = [self.word("name")] if self.rng.random() < 0.4 else self.noun_phrase()
        words = [*subject, self.word("verb"), *self.noun_phrase()]
        if self.rng.random() < 0.3:
            words += [self.word("prep"), *self.noun_phrase()]
        if self.rng.random() < 0.25:
            words.append(self.word("adv"))
        return words

    def sentence(self) -> str:
        words = self.clause()
        if self.rng.random() < 0.2:
            words += [",", "and", *self.clause()]
        text = " ".join(words).replace(" ,", ",")
        text = text[0].upper() + text[1:]
        if self.rng.random() < 0.25:  # dialogue
            end = "?" if self.rng.random() < 0.3 else ","
            return f'"{text}{end}" {self.word("say")} {self.word("name")}.'
        return text + ("." if self.rng.random() < 0.85 else "!")

    def paragraph(self) -> str:
        n = 1 + int(self.rng.integers(4))
        return "\t" + " ".join(self.sentence() for _ in range(n)) + "\n"


def synthetic_text(n_chars: int, rng: np.random.Generator) -> str:
    """Exactly ``n_chars`` characters of English-like text drawn from a fixed small grammar."""
    if n_chars < 0:
        raise ValueError(f"n_chars must be >= 0, got {n_chars}")
    grammar = _Grammar(rng)
    parts: list[str] = []
    total = 0
    while total < n_chars:
        p = grammar.paragraph()
        if grammar.rng.random() < 0.1:
            p = "\nCHAPTER " + grammar.word("noun").upper() + "\n\n" + p
        parts.append(p)
        total += len(p)
    return "".join(parts)[:n_chars]


def write_synthetic_corpus(path: str | Path, n_chars: int, seed: int) -> str:
    """Write ``synthetic_text(n_chars, default_rng(seed))`` as UTF-8 (atomically); return it."""
    text = synthetic_text(n_chars, np.random.default_rng(seed))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)
    return text
