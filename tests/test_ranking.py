"""Honest model selection (issue 20): the ranking of a search's trials breaks ties in the score
by the loss at the same evaluation, counts the tie, and warns when the chosen value sits at
the edge of the searched range, naming the key to widen."""

import numpy as np
import pandas as pd
import pytest

from dd2424 import ranking, search

LAMBDA = {
    "parameter": "lam",
    "scale": "log10",
    "score": "best_val_acc",
    "coarse": {"low": -5, "high": -1, "n": 5},
    "fine": {"n": 4, "top": 2, "pad": 0.5, "seed": 1},
}


def trials(accs, losses, lams, diverged=None):
    return pd.DataFrame(
        {
            "stage": "coarse",
            "trial": range(len(accs)),
            "lam": lams,
            "x": np.log10(lams),
            "best_val_acc": accs,
            "val_loss_at_best": losses,
            "diverged": diverged or [False] * len(accs),
        }
    )


def test_ties_in_accuracy_are_broken_by_the_lower_validation_loss():
    # 145/150 for four trials, as on a small real validation set: trial order would pick 1e-5
    t = trials(
        [145 / 150, 145 / 150, 144 / 150, 145 / 150, 145 / 150],
        [0.40, 0.31, 0.20, 0.35, 0.33],
        [1e-5, 1e-4, 1e-3, 1e-2, 1e-1],
    )
    ranked = ranking.rank(t, "best_val_acc")
    assert ranked["lam"].tolist() == [1e-4, 1e-1, 1e-2, 1e-5, 1e-3]
    assert ranked["tied_at_top"].tolist() == [True, True, True, True, False]
    assert "4 trials tie at the best best_val_acc (0.9667)" in ranking.tie_line(
        ranked, "best_val_acc"
    )
    assert "lowest val_loss_at_best" in ranking.tie_line(ranked, "best_val_acc")


def test_diverged_trials_rank_last_even_with_the_best_score():
    t = trials([0.9, 0.95, 0.9], [0.5, 0.1, 0.4], [1e-5, 1e-4, 1e-3], [False, True, False])
    ranked = ranking.rank(t, "best_val_acc")
    assert ranked["lam"].tolist() == [1e-3, 1e-5, 1e-4]
    assert ranked["tied_at_top"].tolist() == [True, True, False]


def test_the_fine_stage_is_drawn_around_the_tie_broken_best_coarse_trials():
    coarse = trials([0.9] * 5, [0.5, 0.5, 0.5, 0.2, 0.1], [1e-5, 1e-4, 1e-3, 1e-2, 1e-1])
    _, (lo, hi) = search.fine_grid(coarse, LAMBDA["coarse"], LAMBDA["fine"], "best_val_acc")
    assert (lo, hi) == (-2.5, -1.0)  # around 1e-2 and 1e-1 (lowest losses), not 1e-5, 1e-4


@pytest.mark.parametrize(
    ("lam", "warned"),
    [(1e-5, ".coarse.low"), (10**-1.1, ".coarse.high"), (1e-3, None)],
)
def test_a_coarse_to_fine_choice_at_the_edge_is_warned_with_the_key_to_widen(lam, warned):
    warnings = ranking.edge_warnings(LAMBDA, {"lam": lam}, "lab2.searches.lambda")
    if warned is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and f"lab2.searches.lambda{warned}" in warnings[0]
        assert f"lam = {lam:g} sits at the" in warnings[0]


def test_a_random_search_warns_for_each_numeric_value_at_its_edge():
    spec = {
        "score": "best_val_acc",
        "parameters": {
            "lam": {"distribution": "log10_uniform", "low": -4, "high": -2},
            "keep_prob": {"distribution": "uniform", "low": 0.7, "high": 1.0},
            "cycles": {"distribution": "int_uniform", "low": 1, "high": 3},
            "hidden": {"distribution": "choice", "values": [[50], [100]]},
        },
    }
    best = {"lam": 0.0099, "keep_prob": 0.85, "cycles": 1, "hidden": "[100]"}
    warnings = ranking.edge_warnings(spec, best, "lab2.searches.random")
    assert len(warnings) == 2
    assert "raise lab2.searches.random.parameters.lam.high" in warnings[0]
    assert "lower lab2.searches.random.parameters.cycles.low" in warnings[1]


def test_best_md_and_the_ranked_note_say_the_rule_the_tie_and_the_edge():
    t = trials([0.9, 0.9, 0.8], [0.3, 0.2, 0.1], [1e-5, 1e-3, 1e-1]).assign(
        final_val_acc=0.8, final_val_loss=0.4
    )
    ranked = ranking.rank(t, "best_val_acc")
    text = search.best_markdown(ranked, LAMBDA, ["coarse"], "lab2.searches.lambda")
    assert "ties by val_loss_at_best" in text and "2 trials tie" in text
    assert "Warning" not in text  # 1e-3 is the tie-broken choice, in the middle
    note = ranking.ranked_note(ranked.iloc[[1, 0, 2]].reset_index(drop=True), LAMBDA, "k")
    assert "Ranked by best_val_acc, higher first; ties by val_loss_at_best" in note
    assert "lower k.coarse.low" in note  # were 1e-5 chosen
