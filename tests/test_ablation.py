"""The bonus experiments of labs 1-3 as generated runs, and their tables (dd2424.mlp.ablation), the
range test's proposal applied to a run, the headline's bonus rows and the bonus figures."""

import numpy as np
import pandas as pd
import pytest

from dd2424.mlp import ablation, range_test
from dd2424.report import plots, summary

BASELINE = {
    "hidden": [50],
    "lam": 0.01,
    "schedule": {"kind": "cyclic", "eta_min": 1e-5, "eta_max": 0.1, "n_s": 800},
    "cycles": 3,
    "n_batch": 100,
    "seed": 400,
}
SPEC = {
    "baseline": "fig4",
    "improvements": {
        "all_data": {"what": "all five batches", "settings": {"split": "all49k"}},
        "wide": {"settings": {"hidden": [200]}},
        "dropout": {"settings": {"keep_prob": 0.8}},
        "slow": {"settings": {"schedule": {"eta_max": 0.01}}},
    },
    "recipe": {"include": ["wide", "slow", "dropout"], "settings": {"cycles": 4}},
    "ensemble": {"members": 3, "snapshots": True},
}


def test_each_improvement_is_the_baseline_with_its_settings_merged():
    runs = ablation.bonus_runs(SPEC, BASELINE)
    assert runs["bonus.all_data"] == BASELINE | {"split": "all49k"}
    assert runs["bonus.wide"]["hidden"] == [200] and runs["bonus.wide"]["lam"] == 0.01
    slow = runs["bonus.slow"]["schedule"]
    assert slow == {"kind": "cyclic", "eta_min": 1e-5, "eta_max": 0.01, "n_s": 800}
    assert BASELINE["schedule"]["eta_max"] == 0.1  # not modified


def test_the_recipe_combines_the_included_improvements_and_its_own_settings():
    runs = ablation.bonus_runs(SPEC, BASELINE)
    recipe = runs["bonus.recipe"]
    assert recipe["hidden"] == [200] and recipe["keep_prob"] == 0.8
    assert recipe["schedule"]["eta_max"] == 0.01 and recipe["cycles"] == 4
    assert "split" not in recipe  # all_data is not in the recipe
    assert recipe["snapshots"] is True  # for the snapshot ensemble
    # the seed members are the recipe with the next seeds, and nothing else differs
    assert runs["bonus.recipe.seed401"] == recipe | {"seed": 401}
    assert runs["bonus.recipe.seed402"] == recipe | {"seed": 402}
    assert "bonus.recipe.seed400" not in runs  # the recipe itself is the first member
    # without `include`, every improvement in the order listed
    everything = ablation.recipe_settings({"improvements": SPEC["improvements"]}, BASELINE)
    assert everything["split"] == "all49k" and "snapshots" not in everything
    assert ablation.recipe_what(SPEC) == "wide + slow + dropout; cycles=4"


def test_ensembles_of_the_recipe():
    recipe = ablation.recipe_settings(SPEC, BASELINE)
    ensembles = ablation.bonus_ensembles(SPEC, recipe)
    assert ensembles["bonus.seeds"]["runs"] == [
        "bonus.recipe",
        "bonus.recipe.seed401",
        "bonus.recipe.seed402",
    ]
    assert ensembles["bonus.snapshots"] == {
        "kind": "snapshots",
        "runs": ["bonus.recipe"],
        "what": "the recipe's parameters at the end of every cycle (one run)",
    }
    assert ablation.bonus_ensembles({"improvements": {}}, recipe) == {}


def test_architecture_and_loss_grids():
    runs = ablation.architecture_runs(
        {"depths": [1, 3], "widths": [20, 40], "settings": {"batch_norm": False}}, BASELINE
    )
    assert list(runs) == ["arch.d1_w20", "arch.d1_w40", "arch.d3_w20", "arch.d3_w40"]
    assert runs["arch.d3_w40"]["hidden"] == [40, 40] and runs["arch.d1_w20"]["hidden"] == []
    constant = BASELINE | {"schedule": {"kind": "constant", "eta": 0.001}}
    losses = ablation.loss_runs({"pairs": [{"lam": 0.1, "eta": 0.01}]}, constant)
    assert list(losses) == ["loss.cross_entropy_lam0.1_eta0.01", "loss.svm_lam0.1_eta0.01"]
    svm = losses["loss.svm_lam0.1_eta0.01"]
    assert svm["loss"] == "svm" and svm["lam"] == 0.1 and svm["schedule"]["eta"] == 0.01
    cyclic = ablation.loss_runs({"pairs": [{"lam": 0, "eta": 0.05}]}, BASELINE)
    assert cyclic["loss.svm_lam0_eta0.05"]["schedule"]["eta_max"] == 0.05


def test_describe_names_every_changed_leaf():
    text = ablation.describe({"augment": {"flip": True, "translate": 2}, "keep_prob": 0.5})
    assert text == "augment.flip=true, augment.translate=2, keep_prob=0.5"
    assert ablation.describe({}) == "no change"


def _metrics(test_acc, updates=480, n_train=1000, loss="cross_entropy", **settings):
    return {
        "loss": loss,
        "test_acc": test_acc,
        "test_loss": 1.0,
        "best_val_acc": test_acc,
        "updates_done": updates,
        "n_train": n_train,
        "diverged_at": None,
        "settings": {"n_batch": 100, "hidden": [50], "lam": 0.0} | settings,
    }


def test_ensemble_table_puts_the_votes_under_their_members():
    result = {"member_acc": [0.5, 0.6, 0.55], "majority_acc": 0.62, "soft_acc": 0.63}
    table = ablation.ensemble_table(["a", "b", "c"], result, [100, 100, 90], "seeds")
    assert table["member"].tolist() == ["a", "b", "c", "majority vote", "soft vote"]
    assert table["updates"].tolist() == [100, 100, 90, 290, 290]  # seeds: every run trained
    snaps = ablation.ensemble_table(["s1", "s2", "s3"], result, [10, 20, 30], "snapshots")
    assert snaps["updates"].tolist()[-2:] == [30, 30]  # snapshots: one run
    with pytest.raises(ValueError, match="2 names"):
        ablation.ensemble_table(["a", "b"], result, [1, 2], "seeds")


def test_the_ablation_table_measures_every_gain_against_the_baseline():
    rows = [
        {"row": "baseline", "run": "fig4", "what": "x"} | ablation.run_record(_metrics(0.50)),
        {"row": "wide", "run": "bonus.wide", "what": "y"} | ablation.run_record(_metrics(0.55)),
        {"row": "recipe", "run": "bonus.recipe", "what": "z"}
        | ablation.run_record(_metrics(0.58, updates=960, n_train=2000)),
    ]
    recipe = {k: v for k, v in rows[-1].items() if k not in ("row", "run", "what")}
    assert recipe["epochs"] == 48.0  # 960 updates of 20 per epoch
    votes = pd.DataFrame(
        {
            "member": ["a", "b", "majority vote", "soft vote"],
            "kind": ["member", "member", "ensemble", "ensemble"],
            "updates": [960, 960, 1920, 1920],
            "test_acc": [0.58, 0.57, 0.61, 0.57],
        }
    )
    ensemble = {"kind": "seeds", "what": "2 seeds"}
    rows += ablation.ensemble_rows("bonus.seeds", ensemble, votes, recipe)
    reference = {"course_test_acc": 0.52, "student_test_acc": 0.524, "student_bonus_test_acc": 0.57}
    table = ablation.bonus_table(rows, reference, "synthetic")
    assert table["row"].tolist() == ["baseline", "wide", "recipe", "seeds_majority", "seeds_soft"]
    assert table["gain"].tolist() == pytest.approx([0.0, 0.05, 0.08, 0.11, 0.07])
    majority = table.set_index("row").loc["seeds_majority"]
    assert majority["updates"] == 1920 and majority["epochs"] == 96.0
    assert majority["what"] == "majority vote of 2: 2 seeds"
    assert (table["student_bonus_test_acc"] == 0.57).all() and (table["data"] == "synthetic").all()
    assert list(table.columns).index("gain") == list(table.columns).index("test_acc") + 1
    # the headline: the recipe and the best vote that beats it
    best = ablation.bonus_headline(table)
    assert [r["row"] for r in best] == ["recipe", "seeds_majority"]
    rows_out = summary.bonus_rows(table)
    assert rows_out[0]["result"] == "bonus recipe" and rows_out[0]["student"] == "57.00 %"
    assert rows_out[1]["ours"] == "61.00 %" and rows_out[1]["course"] == ""
    worse = table.assign(test_acc=table["test_acc"].where(table["row"] == "recipe", 0.1))
    assert [r["row"] for r in ablation.bonus_headline(worse)] == ["recipe"]
    with pytest.raises(ValueError, match="baseline"):
        ablation.bonus_table(rows[1:], reference, "synthetic")


def test_architecture_and_svm_tables():
    entries = {
        "arch.d3_w50": _metrics(0.5, hidden=[50, 50]),
        "arch.d2_w50": _metrics(0.4, hidden=[50]),
    }
    table = ablation.architecture_table(entries, "synthetic")
    assert table["run"].tolist() == ["arch.d2_w50", "arch.d3_w50"]  # by width, then depth
    assert table["depth"].tolist() == [2, 3] and table["width"].tolist() == [50, 50]
    assert table["weights"].tolist() == [3072 * 50 + 50 * 10, 3072 * 50 + 50 * 50 + 50 * 10]
    schedule = {"kind": "constant", "eta": 0.001}
    entries = {
        "ce": _metrics(0.40, lam=0.1, schedule=schedule),
        "svm": _metrics(0.43, loss="svm", lam=0.1, schedule=schedule),
    }
    table = ablation.svm_vs_ce_table(entries, "synthetic")
    assert len(table) == 1 and table["svm_minus_cross_entropy"].iloc[0] == pytest.approx(0.03)
    assert {"test_loss_cross_entropy", "test_loss_svm", "data"} <= set(table.columns)
    with pytest.raises(ValueError, match="both losses"):
        ablation.svm_vs_ce_table({"ce": entries["ce"]}, "synthetic")


def test_a_run_takes_its_cyclic_bounds_from_a_range_test():
    settings = BASELINE | {"schedule": {"kind": "cyclic", "range_test": "m50", "n_s": 800}}
    out = range_test.apply_proposal(settings, {"eta_min": 2e-4, "eta_max": 0.05})
    assert out["schedule"] == {"kind": "cyclic", "n_s": 800, "eta_min": 2e-4, "eta_max": 0.05}
    assert settings["schedule"]["range_test"] == "m50"  # not modified
    with pytest.raises(ValueError, match="cyclic"):
        range_test.apply_proposal(BASELINE, {"eta_min": 1e-4, "eta_max": 0.1})


def test_bonus_figures_are_written(tmp_path):
    table = pd.DataFrame(
        {"row": ["baseline", "a", "b"], "test_acc": [0.5, 0.55, 0.45], "gain": [0, 0.05, -0.05]}
    )
    plots.ablation_gains(table, "gains", tmp_path / "gains.png")
    etas = np.logspace(-5, 0, 8)
    record = pd.DataFrame(
        {
            "eta": etas,
            **{f"{p}_{k}": np.linspace(1, 2, 8) for p in ("train", "val") for k in ("loss", "acc")},
        }
    )
    plots.range_test_curves(record, {"eta_min": 1e-4, "eta_max": 1e-2}, "rt", tmp_path / "rt.png")
    arch = pd.DataFrame({"depth": [2, 3, 2, 3], "width": [50, 50, 100, 100], "test_acc": [0.4] * 4})
    plots.architecture_accuracy(arch, "arch", tmp_path / "arch.png")
    ranked = pd.DataFrame(
        {
            "lam": [0.01, 0.001, 0.1],
            "hidden": ["[50]", "[100]", "[50]"],
            "best_val_acc": [0.5, 0.4, 0.3],
            "diverged": [False, False, True],
        }
    )
    spec = {
        "lam": {"distribution": "log10_uniform", "low": -3, "high": -1},
        "hidden": {"distribution": "choice", "values": [[50], [100]]},
    }
    plots.random_search_scores(ranked, spec, "best_val_acc", "random", tmp_path / "random.png")
    for name in ("gains", "rt", "arch", "random"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_range_test_evaluations_are_evenly_spaced_over_the_test():
    settings = {"n_epochs": 4, "n_batch": 100}
    assert range_test.evaluation_step(settings, 10_000, 40) == 10  # 400 updates
    assert range_test.evaluation_step(settings, 1_000, 80) == 1  # never below 1
