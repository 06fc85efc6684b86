"""The bonus experiments of labs 1-3 end to end (issue 10), on the offline run of
config/test.yaml: the ablation tables and their ensembles, range tests and the run that uses
one, the random search, the architecture grid, CE vs SVM and the headline's bonus rows."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import offline_plan

pytestmark = pytest.mark.workflow


def metrics_of(workdir, lab, run):
    return json.loads((workdir / f"results/{lab}/runs/{run}/metrics.json").read_text())


EXPECTED_ENSEMBLE_ROWS = {
    "lab1": ["seeds_majority", "seeds_soft"],
    "lab2": ["seeds_majority", "seeds_soft", "snapshots_majority", "snapshots_soft"],
    "lab3": ["snapshots_majority", "snapshots_soft"],
}


@pytest.mark.parametrize("lab", ["lab1", "lab2", "lab3"])
def test_ablation_table_rows_gains_and_timing(offline_run, lab):
    spec = offline_plan().lab(lab).bonus
    table = pd.read_csv(offline_run / f"results/{lab}/bonus.tsv", sep="\t")
    rows = table["row"].tolist()
    n = len(spec["improvements"])
    # improvements in config order (a --configfile that overrides one may move it first)
    assert rows[0] == "baseline" and sorted(rows[1 : n + 1]) == sorted(spec["improvements"])
    assert rows[n + 1 :] == ["recipe", *EXPECTED_ENSEMBLE_ROWS[lab]]
    baseline = metrics_of(offline_run, lab, spec["baseline"])
    assert table["test_acc"].iloc[0] == baseline["test_acc"]
    np.testing.assert_allclose(table["gain"], table["test_acc"] - baseline["test_acc"])
    for _, row in table.iterrows():
        if row["row"].startswith(("seeds_", "snapshots_")):
            continue  # an ensemble's votes (their members: see the ensemble tests)
        metrics = metrics_of(offline_run, lab, row["run"])
        assert row["test_acc"] == metrics["test_acc"] and row["updates"] == metrics["updates_done"]
        assert row["loss"] == metrics["loss"]
    reference = spec["reference"]
    assert (table["student_bonus_test_acc"] == reference["student_bonus_test_acc"]).all()
    assert (table["data"] == "synthetic").all()
    md = (offline_run / f"results/{lab}/bonus.md").read_text()
    assert "not comparable" in md and f"benchmarks/timing/{lab}_bonus.tsv" in md
    png = (offline_run / f"results/{lab}/figures/bonus.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # training time: a companion table with the same row names, never under results/
    timing = pd.read_csv(offline_run / f"benchmarks/timing/{lab}_bonus.tsv", sep="\t")
    assert timing["row"].tolist() == rows and (timing["seconds"] > 0).all()
    assert not [c for c in table.columns if "second" in c or "time" in c]
    if "seeds_majority" in rows:  # every member's training and the vote
        n = spec["ensemble"]["members"]
        assert timing.set_index("row").loc["seeds_majority", "jobs"] == n + 1


def test_each_improvement_is_the_baseline_with_its_settings(offline_run):
    base = metrics_of(offline_run, "lab1", "lam0_eta0.001")["settings"]
    decay = metrics_of(offline_run, "lab1", "bonus.step_decay")["settings"]
    assert decay["schedule"] == {"kind": "step", "eta": 0.01, "gamma": 0.1, "step_epochs": 4}
    assert {k: v for k, v in decay.items() if k != "schedule"} == {
        k: v
        for k, v in base.items()
        if k not in ("schedule", "course_test_acc", "student_test_acc")
    } | {"course_test_acc": None, "student_test_acc": None}
    history = pd.read_csv(offline_run / "results/lab1/runs/bonus.step_decay/history.tsv", sep="\t")
    assert history["eta"].tolist()[:6] == pytest.approx([0.01] * 4 + [0.001] * 2)
    # the split override: all five batches, 200 samples held out (test.yaml's all49k)
    all_data = metrics_of(offline_run, "lab1", "bonus.all_data")
    assert all_data["settings"]["split"] == "all49k" and all_data["n_train"] == 4800
    assert all_data["inputs"]["split"]["path"] == "data/synthetic/processed/all49k.npz"
    keep = metrics_of(offline_run, "lab1", "bonus.keep_best")
    assert keep["kept_update"] == keep["best_update"] and keep["settings"]["patience"] == 3
    augment = metrics_of(offline_run, "lab1", "bonus.augment")
    assert augment["augment"] == "flip, translate +-2, brightness +-0.1, contrast +-0.1"
    after = metrics_of(offline_run, "lab3", "bonus.bn_after")
    assert after["settings"]["batch_norm_position"] == "after"
    assert metrics_of(offline_run, "lab3", "bonus.dropout")["settings"]["keep_prob"] == 0.9
    # generated runs stay out of the lab's test-accuracy table
    table = pd.read_csv(offline_run / "results/lab1/test_accuracy.tsv", sep="\t")
    assert not table["run"].str.startswith(("bonus.", "loss.")).any()
    assert set(table["loss"]) == {"cross_entropy"}  # the loss column of the lab tables


@pytest.mark.parametrize("lab,ensemble", [("lab1", "bonus.seeds"), ("lab2", "bonus.snapshots")])
def test_ensembles_vote_with_the_saved_parameters_of_their_members(offline_run, lab, ensemble):
    table = pd.read_csv(offline_run / f"results/{lab}/ensembles/{ensemble}.tsv", sep="\t")
    members = table[table["kind"] == "member"]
    assert table["member"].tolist()[-2:] == ["majority vote", "soft vote"]
    if ensemble == "bonus.seeds":
        seeds = [metrics_of(offline_run, lab, run)["seed"] for run in members["member"]]
        assert seeds == [400, 401]
        for _, m in members.iterrows():  # recomputed from params.npz, as the run measured it
            assert m["test_acc"] == metrics_of(offline_run, lab, m["member"])["test_acc"]
    else:
        recipe = metrics_of(offline_run, lab, "bonus.recipe")
        assert members["updates"].tolist() == recipe["snapshot_updates"]
        assert len(members) == recipe["settings"]["cycles"]
        assert members["test_acc"].iloc[-1] == recipe["test_acc"]  # the last is the final model
    votes = table[table["kind"] == "ensemble"]["test_acc"]
    assert votes.between(0.1, 1).all()


def test_range_test_eta_rises_and_a_run_trains_with_its_proposal(offline_run):
    base = offline_run / "results/lab2/range_tests/m50_lam0.01"
    history = pd.read_csv(base / "history.tsv", sep="\t")
    assert (np.diff(history["eta"]) > 0).all()
    proposal = json.loads((base / "proposal.json").read_text())
    assert history["eta"].iloc[0] == pytest.approx(1e-5)
    assert len(history) == 21 or proposal["diverged_at"] is not None  # 60 updates, every 3rd
    assert 1e-5 <= proposal["eta_min"] < proposal["eta_max"] <= 1.0
    assert proposal["rule"].startswith("eta_max: the eta at the peak")
    run = metrics_of(offline_run, "lab2", "bonus.range_test")
    assert run["range_test"] == {
        "name": "m50_lam0.01",
        "eta_min": proposal["eta_min"],
        "eta_max": proposal["eta_max"],
    }
    schedule = run["settings"]["schedule"]
    assert (schedule["eta_min"], schedule["eta_max"]) == (proposal["eta_min"], proposal["eta_max"])
    assert "range_test" not in schedule
    trained = pd.read_csv(offline_run / "results/lab2/runs/bonus.range_test/history.tsv", sep="\t")
    assert trained["eta"].max() == pytest.approx(proposal["eta_max"])
    table = pd.read_csv(offline_run / "results/lab2/range_tests.tsv", sep="\t")
    assert table["range_test"].tolist() == ["m50_lam0.01", "m50_lam0.001", "m200_lam0.001"]
    assert str(table.set_index("range_test").loc["m200_lam0.001", "hidden"]) == "200"
    for name in table["range_test"]:
        assert (offline_run / f"results/lab2/figures/range_test_{name}.png").stat().st_size > 10_000


def test_random_search_ranks_trials_with_every_parameter_as_a_column(offline_run):
    spec = offline_plan().search("lab2", "random").spec
    base = offline_run / "results/lab2/search/random"
    grid = pd.read_csv(base / "random_grid.tsv", sep="\t")
    assert list(grid.columns) == ["trial", *spec["parameters"]] and len(grid) == spec["trials"]
    ranked = pd.read_csv(base / "ranked.tsv", sep="\t")
    assert set(spec["parameters"]) <= set(ranked.columns) and (ranked["stage"] == "random").all()
    assert ranked["best_val_acc"].is_monotonic_decreasing
    for _, row in grid.iterrows():  # each trial trained with its row's values
        settings = json.loads((base / f"random/{row['trial']}/metrics.json").read_text())[
            "settings"
        ]
        assert settings["lam"] == row["lam"] and settings["hidden"] == json.loads(row["hidden"])
        assert settings["schedule"]["n_s_epochs"] == row["schedule.n_s_epochs"]
    final = json.loads((base / "final/metrics.json").read_text())
    best = ranked.iloc[0]
    assert final["settings"]["lam"] == best["lam"] and final["settings"]["cycles"] == best["cycles"]
    assert final["settings"]["hidden"] == json.loads(best["hidden"])
    assert final["n_train"] == 4800  # the final split, all49k
    lab2 = pd.read_csv(offline_run / "results/lab2/test_accuracy.tsv", sep="\t")
    assert "random search: final" in set(lab2["run"])


def test_lab3_random_search_draws_the_bn_networks_settings(offline_run):
    spec = offline_plan().search("lab3", "random").spec
    base = offline_run / "results/lab3/search/random"
    ranked = pd.read_csv(base / "ranked.tsv", sep="\t")
    assert len(ranked) == spec["trials"] and set(spec["parameters"]) <= set(ranked.columns)
    for _, row in ranked.iterrows():  # each trial trained with its row's values
        metrics = json.loads((base / f"random/{row['trial']}/metrics.json").read_text())
        settings = metrics["settings"]
        assert settings["batch_norm"] and settings["hidden"] == json.loads(row["hidden"])
        assert settings["batch_norm_position"] == row["batch_norm_position"]
        assert settings["keep_prob"] == row["keep_prob"] and settings["lam"] == row["lam"]
    final = json.loads((base / "final/metrics.json").read_text())["settings"]
    best = ranked.iloc[0]
    assert final["batch_norm_position"] == best["batch_norm_position"]
    assert final["keep_prob"] == best["keep_prob"] and final["cycles"] == 1
    lab3 = pd.read_csv(offline_run / "results/lab3/test_accuracy.tsv", sep="\t")
    assert "random search: final" in set(lab3["run"])


def test_architecture_grid_table_and_figure(offline_run):
    spec = offline_plan().lab("lab3").section("architecture")
    table = pd.read_csv(offline_run / "results/lab3/architecture.tsv", sep="\t")
    assert len(table) == len(spec["depths"]) * len(spec["widths"])
    assert set(zip(table["depth"], table["width"], strict=True)) == {
        (d, w) for d in spec["depths"] for w in spec["widths"]
    }
    for _, row in table.iterrows():
        hidden = metrics_of(offline_run, "lab3", row["run"])["settings"]["hidden"]
        assert hidden == [row["width"]] * (row["depth"] - 1)
    assert (offline_run / "results/lab3/figures/architecture.png").stat().st_size > 10_000


def test_svm_vs_cross_entropy_table(offline_run):
    pairs = offline_plan().lab("lab1").section("svm_vs_ce")["pairs"]
    table = pd.read_csv(offline_run / "results/lab1/svm_vs_ce.tsv", sep="\t")
    assert table[["lam", "eta"]].to_dict("records") == pairs
    for _, row in table.iterrows():
        svm = metrics_of(offline_run, "lab1", f"loss.svm_lam{row['lam']:g}_eta{row['eta']:g}")
        assert svm["loss"] == "svm" and svm["test_acc"] == row["test_acc_svm"]
        assert row["svm_minus_cross_entropy"] == pytest.approx(
            row["test_acc_svm"] - row["test_acc_cross_entropy"]
        )
    assert "hinge" in (offline_run / "results/lab1/svm_vs_ce.md").read_text()


def test_headline_has_each_labs_bonus_recipe_next_to_the_best_student_bonus(offline_run):
    text = (offline_run / "results/summary.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    table = pd.DataFrame(cells[2:], columns=cells[0])
    recipes = table[table["result"] == "bonus recipe"].set_index("lab")
    assert set(recipes.index) == {"lab1", "lab2", "lab3"}
    assert recipes.loc["lab2", "best student"] == "(56.84 %)"  # marked: synthetic data
    assert recipes.loc["lab3", "best student"] == "(58.89 %)"
    for lab in ("lab1", "lab2", "lab3"):
        bonus = pd.read_csv(offline_run / f"results/{lab}/bonus.tsv", sep="\t").set_index("row")
        assert recipes.loc[lab, "ours"] == f"{100 * bonus.loc['recipe', 'test_acc']:.2f} %"
        votes = bonus[bonus.index.str.endswith(("_majority", "_soft"))]
        better = votes["test_acc"].max() > bonus.loc["recipe", "test_acc"]
        assert (table["result"].str.startswith("bonus recipe, ") & (table["lab"] == lab)).any() == (
            better
        )
