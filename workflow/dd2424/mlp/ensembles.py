"""Ensembles of trained networks of labs 1-3 (bonus 1.6 h, 2.6 c): several parameter sets of
one architecture (runs that differ only in their seed, or the cycle snapshots of one run)
vote on every test sample.

- Soft vote: the class with the highest mean probability over the members.
- Majority vote: the class most members predict (each member's argmax).  Tie rule: among the
  classes with the most votes, the one with the highest mean probability (the soft vote
  restricted to the tied classes); if that is tied too, the lowest class index.

"Probability" is the softmax of a member's scores, also for a network trained with the SVM
loss (whose scores are not calibrated probabilities: the soft vote then averages softmaxed
margins, which is only a heuristic).  Each member is a dict of arrays as ``params.npz`` holds
them: the parameters and, for a batch-normalised network, its moving averages (``mu<l>``,
``v<l>``); a run saved with ``snapshots: true`` holds one member per cycle under
``snap<c>_<name>`` (``members``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from ..activations import softmax
from .network import Network

SNAPSHOT = re.compile(r"snap(\d+)_(.+)")


def members(arrays: Mapping[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    """The cycle snapshots of a run's saved arrays, in cycle order (``snap1_W1``, ... ->
    [{"W1": ...}, ...]); empty if the run saved none."""
    found: dict[int, dict[str, np.ndarray]] = {}
    for key, value in arrays.items():
        match = SNAPSHOT.fullmatch(key)
        if match:
            found.setdefault(int(match[1]), {})[match[2]] = value
    return [found[c] for c in sorted(found)]


def without_snapshots(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The run's kept model: its arrays without the ``snap<c>_`` ones."""
    return {k: v for k, v in arrays.items() if not SNAPSHOT.fullmatch(k)}


def split(net: Network, arrays: Mapping[str, np.ndarray]) -> tuple[dict, dict]:
    """(parameters, moving averages) of one member; ValueError if the arrays do not fit the
    network (e.g. a member of another architecture)."""
    names = net.shapes()
    params = {k: np.asarray(arrays[k]) for k in names if k in arrays}
    net.check(params)
    stats = {k: np.asarray(v) for k, v in arrays.items() if re.fullmatch(r"(mu|v)\d+", k)}
    if net.batch_norm and not stats:
        raise ValueError("a batch-normalised member needs its moving averages (mu<l>, v<l>)")
    return params, stats


def probabilities(
    net: Network, ensemble: Sequence[Mapping[str, np.ndarray]], X: np.ndarray
) -> np.ndarray:
    """(M, n, K): each member's softmax probabilities on X, in test mode."""
    out = []
    for arrays in ensemble:
        params, stats = split(net, arrays)
        S, _ = net.scores(params, X, stats or None)
        out.append(softmax(S))
    return np.stack(out)


def soft_vote(probs: np.ndarray) -> np.ndarray:
    """(n,) the class with the highest mean probability over the members (M, n, K)."""
    return probs.mean(axis=0).argmax(axis=1)


def majority_vote(probs: np.ndarray) -> np.ndarray:
    """(n,) the class most members (M, n, K) predict; ties go to the tied class with the
    highest mean probability, then to the lowest class index."""
    M, n, K = probs.shape
    votes = np.zeros((n, K), dtype=np.intp)
    for member in probs:
        votes[np.arange(n), member.argmax(axis=1)] += 1
    tied = votes == votes.max(axis=1, keepdims=True)
    mean = probs.mean(axis=0)
    return np.where(tied, mean, -np.inf).argmax(axis=1)  # argmax: lowest index of equals


def evaluate(
    net: Network,
    ensemble: Sequence[Mapping[str, np.ndarray]],
    X: np.ndarray,
    y: np.ndarray,
) -> dict:
    """Accuracy of every member, of the majority vote and of the soft vote on (X, y)."""
    if not len(ensemble):
        raise ValueError("an ensemble needs at least one member")
    probs = probabilities(net, ensemble, X)
    return {
        "member_acc": [float((p.argmax(axis=1) == y).mean()) for p in probs],
        "majority_acc": float((majority_vote(probs) == y).mean()),
        "soft_acc": float((soft_vote(probs) == y).mean()),
        "members": len(ensemble),
    }
