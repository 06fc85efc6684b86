"""Ensembles, the LR range test and random search (issue 10, items 8-10)."""

import numpy as np
import pandas as pd
import pytest

from dd2424 import search, trials
from dd2424.data import splits
from dd2424.mlp import ensembles, network, range_test
from dd2424.mlp import runs as mlp_runs


def _probs(*members):
    return np.array(members, dtype=float)


def test_majority_vote_counts_votes():
    # 3 members, 2 samples, 3 classes: sample 0 -> 2 votes for class 2; sample 1 -> all for 0
    p = _probs(
        [[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]],
        [[0.5, 0.1, 0.4], [0.6, 0.3, 0.1]],
        [[0.1, 0.3, 0.6], [0.9, 0.05, 0.05]],
    )
    np.testing.assert_array_equal(ensembles.majority_vote(p), [2, 0])


def test_majority_vote_breaks_ties_by_the_soft_vote_then_the_lowest_index():
    # 2 members disagree (one vote each for classes 1 and 2): the soft vote among 1 and 2 wins,
    # even though class 0 has the highest mean probability of all (it has no vote)
    p = _probs([[0.40, 0.55, 0.05]], [[0.40, 0.05, 0.55]])  # exact tie of means too
    assert ensembles.majority_vote(p).tolist() == [1]  # the lowest tied index
    p = _probs([[0.40, 0.56, 0.04]], [[0.40, 0.05, 0.55]])  # mean(1) = .305 > mean(2) = .295
    assert ensembles.majority_vote(p).tolist() == [1]
    p = _probs([[0.40, 0.54, 0.06]], [[0.40, 0.05, 0.55]])  # mean(2) = .305 > mean(1) = .295
    assert ensembles.majority_vote(p).tolist() == [2]
    assert ensembles.soft_vote(p).tolist() == [0]  # the soft vote alone picks class 0 (.40)


def test_ensemble_of_seeds_and_of_snapshots(cifar_dir):
    split = splits.preprocess(
        cifar_dir, splits.Split(train=("data_batch_1",), val=("data_batch_2",))
    )
    base = {
        "hidden": [30],
        "batch_norm": True,
        "lam": 0.01,
        "schedule": {"kind": "cyclic", "eta_min": 1e-5, "eta_max": 0.1, "n_s": 10},
        "cycles": 3,
        "n_batch": 20,
        "seed": 1,
        "snapshots": True,
    }
    runs = [mlp_runs.run(base | {"seed": s}, split)[0] for s in (1, 2, 3)]
    net = mlp_runs.build_network(base, 3072, 10)
    X, y = split["X_test"], split["y_test"].astype(np.intp)
    seeds = [ensembles.without_snapshots(a) for a in runs]
    result = ensembles.evaluate(net, seeds, X, y)
    assert result["members"] == 3 and len(result["member_acc"]) == 3
    params, stats = ensembles.split(net, seeds[0])
    single = net.evaluate(params, X, y, 0.0, stats)
    assert result["member_acc"][0] == pytest.approx(single["acc"])
    snaps = ensembles.members(runs[0])
    assert len(snaps) == 3 and set(snaps[0]) == set(seeds[0])  # params and moving averages
    np.testing.assert_array_equal(snaps[-1]["W1"], seeds[0]["W1"])  # the last cycle = final
    assert 0 <= ensembles.evaluate(net, snaps, X, y)["soft_acc"] <= 1
    with pytest.raises(ValueError, match="do not fit"):
        ensembles.evaluate(network.Network(3072, 10, (31,), batch_norm=True), seeds, X, y)


# ---- LR range test


def test_range_test_eta_is_monotone_and_the_proposal_reads_the_record(cifar_dir):
    split = splits.preprocess(
        cifar_dir, splits.Split(train=("data_batch_1",), val=("data_batch_2",))
    )
    base = {
        "hidden": [30],
        "lam": 0.001,
        "n_batch": 10,
        "seed": 3,
        "schedule": {"kind": "cyclic", "eta_min": 1e-5, "eta_max": 0.1, "n_s": 5},
        "cycles": 2,
        "snapshots": True,
    }
    settings = range_test.settings(base, n_epochs=6, eta_lo=1e-4, eta_hi=10.0, eval_every=4)
    assert "cycles" not in settings and "snapshots" not in settings
    _, history, metrics = mlp_runs.run(settings, split)
    etas = [row["eta"] for row in history]
    assert np.all(np.diff(etas) > 0) and etas[0] == pytest.approx(1e-4)
    proposal = range_test.propose(history)
    assert 1e-4 <= proposal["eta_min"] < proposal["eta_max"] <= 10.0
    table = range_test.record(history)
    assert proposal["peak_update"] in table["update"].tolist()


def _history(etas, accs):
    return [
        {"update": i, "eta": e, "val_acc": a, "train_cost": 1.0, "val_cost": 1.0}
        for i, (e, a) in enumerate(zip(etas, accs, strict=True))
    ]


def test_range_test_proposal_rule_on_a_known_curve():
    etas = np.logspace(-5, 0, 11).tolist()
    accs = [0.10, 0.10, 0.11, 0.15, 0.25, 0.35, 0.42, 0.45, 0.40, 0.20, 0.10]
    out = range_test.propose(_history(etas, accs), window=1)
    assert out["eta_max"] == pytest.approx(etas[7])  # the peak, 0.45
    # 10% of the rise from 0.10 to 0.45 is 0.135: first reached at index 3 (0.15)
    assert out["eta_min"] == pytest.approx(etas[3]) and out["eta_min_rule"].startswith("acc")
    jump = [0.10, 0.50, 0.40, 0.30]
    out = range_test.propose(_history(etas[:4], jump), window=1)
    assert out["eta_min"] == pytest.approx(out["eta_max"] / 10)


def test_range_test_ignores_evaluations_from_the_divergence_on():
    etas = [1e-3, 1e-2, 1e-1, 1.0]
    history = _history(etas, [0.1, 0.3, 0.9, 0.95])
    history[3]["train_cost"] = float("nan")
    assert range_test.propose(history, window=1)["eta_max"] == pytest.approx(0.1)
    history[1]["val_cost"] = float("inf")
    with pytest.raises(ValueError, match="no evaluation after update 0"):
        range_test.propose(history)


# ---- random search over several settings


SPEC = {
    "lam": {"distribution": "log10_uniform", "low": -5, "high": -1},
    "schedule.n_s_epochs": {"distribution": "int_uniform", "low": 2, "high": 8},
    "cycles": {"distribution": "choice", "values": [2, 3, 4]},
    "hidden": {"distribution": "choice", "values": [[50], [100], [200]]},
    "keep_prob": {"distribution": "uniform", "low": 0.5, "high": 1.0},
}


def test_random_trials_are_seeded_prefix_stable_and_inside_their_ranges():
    a = search.random_trials(SPEC, 40, seed=7)
    assert a == search.random_trials(SPEC, 40, seed=7)
    assert a[:10] == search.random_trials(SPEC, 10, seed=7)  # more trials keep the first ones
    assert a != search.random_trials(SPEC, 40, seed=8)
    lams = np.array([t["lam"] for t in a])
    assert ((lams >= 1e-5) & (lams <= 0.1)).all() and lams.min() < 1e-3 < lams.max()
    assert {t["schedule.n_s_epochs"] for t in a} <= set(range(2, 9))
    assert {t["cycles"] for t in a} == {2, 3, 4}
    assert {tuple(t["hidden"]) for t in a} == {(50,), (100,), (200,)}
    assert all(0.5 <= t["keep_prob"] <= 1 for t in a)
    assert all(t["lam"] == float(f"{t['lam']:.6g}") for t in a)


def test_random_grid_round_trips_through_tsv_and_applies_to_settings(tmp_path):
    drawn = search.random_trials(SPEC, 5, seed=1)
    grid = search.random_grid(drawn)
    grid.to_csv(tmp_path / "g.tsv", sep="\t", index=False)
    back = pd.read_csv(tmp_path / "g.tsv", sep="\t")
    assert list(back.columns) == ["trial", *SPEC]
    for i, trial in enumerate(drawn):
        assert trials.grid_trial(tmp_path / "g.tsv", i, list(SPEC)) == trial
    base = {"lam": 0.0, "schedule": {"kind": "cyclic", "eta_min": 1e-5, "eta_max": 0.1}}
    settings = trials.apply_trial(base, drawn[0])
    assert settings["schedule"]["n_s_epochs"] == drawn[0]["schedule.n_s_epochs"]
    assert settings["hidden"] == drawn[0]["hidden"] and base["lam"] == 0.0


def test_text_and_boolean_choices_round_trip_through_tsv(tmp_path):
    spec = {
        "batch_norm_position": {"distribution": "choice", "values": ["before", "after"]},
        "shuffle": {"distribution": "choice", "values": [True, False]},
        "hidden": {"distribution": "choice", "values": [[50, 50], [100]]},
    }
    drawn = search.random_trials(spec, 12, seed=3)
    assert {t["batch_norm_position"] for t in drawn} == {"before", "after"}
    search.random_grid(drawn).to_csv(tmp_path / "g.tsv", sep="\t", index=False)
    for i, trial in enumerate(drawn):
        values = trials.grid_trial(tmp_path / "g.tsv", i, list(spec))
        assert values == trial and type(values["shuffle"]) is bool


@pytest.mark.parametrize(
    "spec,message",
    [
        ({}, "at least one"),
        ({"lam": {"distribution": "gaussian"}}, "lam.distribution"),
        ({"lam": {"distribution": "uniform", "low": 1, "high": 0}}, "lam: needs low <= high"),
        ({"cycles": {"distribution": "choice", "values": []}}, "cycles.values"),
        ({"n": {"distribution": "int_uniform", "low": 1.5, "high": 3}}, "integer"),
    ],
)
def test_a_malformed_random_search_spec_is_named(spec, message):
    with pytest.raises(ValueError, match=message):
        search.random_trials(spec, 3, seed=0)
