"""Sampling text from the char-RNN (course-spec §4.2 0.3, bonus 4) and measures of the samples.

Generation: ``synthesize`` runs eqs 1-4 from h0 and a first character and draws each next
character from the *sampling distribution* p~_t: SoftMax(o_t / T) (temperature, eq 10), then
the nucleus cut (eqs 11-13, threshold theta = ``top_p``).

Measures (``sampling_cross_entropy``, ``word_hit_rate``, ``distinct_n``) compare sampling
settings quantitatively:

- cross-entropy of the sampling distribution on held-out text: the model reads the validation
  text (h carried across it) and at every position we ask how much probability p~_t gives the
  character that really comes next.  A nucleus cut can give it **zero** probability (an
  infinite loss); such positions are not folded into the mean: we report their share
  (``cut_rate``) and the mean cross-entropy over the other positions (``ce_kept``), so
  ``ce_kept`` alone flatters a tight cut and must be read next to ``cut_rate``;
- the share of generated words (maximal runs of letters, apostrophes inside words allowed,
  compared lower-cased) that occur in the training text;
- distinct-n (Li et al. 2016): distinct word n-grams / all word n-grams of the generated text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np

from ..activations import log_softmax, softmax
from .network import NAMES


def nucleus(p: np.ndarray, top_p: float) -> np.ndarray:
    """Eqs 11-13: keep the smallest set of most probable entries with mass >= top_p.

    k is the smallest count with sum_{j<=k} p_{i_j} >= top_p (p sorted descending); entries
    with p_i >= p_{i_k} are kept and the rest set to 0, then divided by their sum, which is
    p' of eq 12 (when several entries tie with p_{i_k}, eq 13 keeps them all and the sum is
    the kept mass, so the result still sums to 1).  ``top_p >= 1`` returns p unchanged.
    """
    if not 0.0 < top_p:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if top_p >= 1.0:
        return p
    sorted_p = np.sort(p)[::-1]
    k = min(int(np.searchsorted(np.cumsum(sorted_p), top_p, side="left")), len(p) - 1)
    kept = np.where(p >= sorted_p[k], p, 0.0)
    return kept / kept.sum()


def sampling_distribution(
    o: np.ndarray, temperature: float = 1.0, top_p: float = 1.0
) -> np.ndarray:
    """p~_t from the scores o_t: SoftMax(o_t / T) (eq 10), then the nucleus cut (eqs 11-13).

    For T != 1 the scores are shifted by their maximum before the division, in float64, so
    any T > 0 is exact: the shifted scores are <= 0 and at worst -inf, never an overflow (in
    float32, o / 1e-45 is inf and the probabilities NaN); as T -> 0 this is the argmax."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if temperature != 1.0:
        o = np.asarray(o, dtype=np.float64)
        o = (o - o.max()) / temperature
    return nucleus(softmax(o), top_p)


def sample_index(p: np.ndarray, rng: np.random.Generator) -> int:
    """Spec 0.3: cp = cumsum(p), a = rand, the first index with cp(ii) > a."""
    cp = np.cumsum(p)
    a = rng.random() * cp[-1]  # cp[-1] is 1 up to rounding
    return min(int(np.searchsorted(cp, a, side="right")), len(p) - 1)


def synthesize(
    params: Mapping[str, np.ndarray],
    h0: np.ndarray,
    x0: int,
    n: int,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_p: float = 1.0,
) -> np.ndarray:
    """Spec 0.3: run eqs 1-4 from h0 and input x0, sample n indices, each fed back as input.

    Each p_t goes through ``sampling_distribution`` (temperature, eq 10; nucleus, eqs 11-13)
    and one ``rng.random()`` draw (``sample_index``).  Returns the indices (n,).
    """
    U, W, V, b, c = (params[k] for k in NAMES)
    h = np.asarray(h0, dtype=W.dtype)
    xt = int(x0)
    out = np.empty(n, dtype=np.intp)
    for t in range(n):
        h = np.tanh(W @ h + U[:, xt] + b)
        xt = sample_index(sampling_distribution(V @ h + c, temperature, top_p), rng)
        out[t] = xt
    return out


# ------------------------------------------------------------------------------- measures
def log_sampling_probs(
    O: np.ndarray, temperature: float = 1.0, top_p: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise ``sampling_distribution`` of scores O (n, K), in logs: (log p~ (n, K) with
    -inf where the nucleus cut removed an entry, the kept mask).  Float64 throughout."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if not 0.0 < top_p:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    O = np.asarray(O, dtype=np.float64)
    log_p = log_softmax((O - O.max(axis=1, keepdims=True)) / temperature)  # no overflow
    if top_p >= 1.0:
        return log_p, np.ones(log_p.shape, dtype=bool)
    p = np.exp(log_p)
    sorted_p = -np.sort(-p, axis=1)
    # k: the smallest count whose mass reaches top_p (as nucleus(): searchsorted, side left)
    k = np.minimum((np.cumsum(sorted_p, axis=1) < top_p).sum(axis=1), p.shape[1] - 1)
    kept = p >= sorted_p[np.arange(len(p)), k][:, None]
    kept_mass = np.where(kept, p, 0.0).sum(axis=1, keepdims=True)
    return np.where(kept, log_p - np.log(kept_mass), -np.inf), kept


def sampling_cross_entropy(
    O: np.ndarray, targets: np.ndarray, temperature: float = 1.0, top_p: float = 1.0
) -> dict[str, float]:
    """How much probability the sampling distribution gives the real next characters.

    O (n, K) are the model's scores along a held-out text and ``targets`` (n,) the characters
    that follow.  Returns ``cut_rate`` (share of positions where the nucleus cut gave the
    true character probability 0), ``ce_kept`` (mean -log p~_t[y_t] in nats over the other
    positions; NaN if every position was cut) and ``perplexity_kept`` = exp(ce_kept).
    """
    log_q, _ = log_sampling_probs(O, temperature, top_p)
    true = log_q[np.arange(len(targets)), np.asarray(targets)]
    cut = ~np.isfinite(true)
    ce = float(-true[~cut].mean()) if (~cut).any() else float("nan")
    return {"cut_rate": float(cut.mean()), "ce_kept": ce, "perplexity_kept": float(np.exp(ce))}


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def words(text: str) -> list[str]:
    """Lower-cased words: maximal runs of letters, with apostrophes inside a word kept
    ("o'er", "'tis" -> "tis")."""
    return [w.lower() for w in _WORD.findall(text)]


def word_hit_rate(generated: str, known: set[str] | Iterable[str]) -> float:
    """Share of the generated words that occur in ``known`` (the training text's words);
    NaN when the text has no word."""
    known = known if isinstance(known, set) else set(known)
    got = words(generated)
    if not got:
        return float("nan")
    return sum(w in known for w in got) / len(got)


def distinct_n(tokens: list[str], n: int) -> float:
    """Distinct n-grams / all n-grams of a token list (Li et al. 2016); NaN if it has none."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return len(set(grams)) / len(grams) if grams else float("nan")
