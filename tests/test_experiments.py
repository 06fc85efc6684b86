import numpy as np
import pandas as pd
import pytest

from dd2424 import nested, ranking, schedules, search
from dd2424.data import splits
from dd2424.mlp import runs as mlp_runs


def lab2_settings(**over):
    base = {
        "hidden": [50],
        "init": {"kind": "xavier"},
        "lam": 0.0,
        "schedule": {"kind": "cyclic", "eta_min": 1e-5, "eta_max": 0.1, "n_s": 500},
        "cycles": 1,
        "n_batch": 100,
        "seed": 400,
    }
    return nested.merge(base, over)


def test_merge_is_deep_and_null_removes_a_key():
    base = {"a": 1, "s": {"kind": "cyclic", "n_s": 500, "eta_max": 0.1}}
    out = nested.merge(base, {"s": {"n_s": None, "n_s_epochs": 2}, "b": [1]})
    assert out == {"a": 1, "b": [1], "s": {"kind": "cyclic", "eta_max": 0.1, "n_s_epochs": 2}}
    assert base["s"]["n_s"] == 500  # the defaults are not modified


def test_cycles_set_the_length_and_about_ten_evaluations_per_cycle():
    schedule, cfg = mlp_runs.schedule_and_config(lab2_settings(cycles=3), n_train=10_000)
    assert isinstance(schedule, schedules.Cyclic) and schedule.n_s == 500
    assert cfg.n_updates == 3000 and cfg.eval_every == 100
    assert schedule(cfg.n_updates) == pytest.approx(1e-5)  # stops where eta is smallest


def test_n_s_in_epochs_follows_the_training_set_size():
    settings = lab2_settings(cycles=2, schedule={"n_s": None, "n_s_epochs": 2})
    schedule, cfg = mlp_runs.schedule_and_config(settings, n_train=45_000)
    assert schedule.n_s == 900 and cfg.n_updates == 3600


def test_epochs_with_a_constant_rate_evaluate_once_per_epoch():
    settings = {"lam": 0.1, "schedule": {"kind": "constant", "eta": 0.001}}
    settings |= {"n_batch": 100, "n_epochs": 40}
    _, cfg = mlp_runs.schedule_and_config(settings, n_train=10_000)
    assert cfg.n_updates == 4000 and cfg.eval_every == 100


def test_cycles_need_a_cyclic_schedule():
    settings = {"lam": 0, "schedule": {"kind": "constant", "eta": 0.1}, "n_batch": 10}
    with pytest.raises(ValueError, match="cyclic schedule"):
        mlp_runs.schedule_and_config(settings | {"cycles": 2}, n_train=100)


@pytest.fixture(scope="module")
def small_split(cifar_dir):
    return splits.preprocess(
        cifar_dir, splits.Split(train=("data_batch_1",), val=("data_batch_2",))
    )


def test_two_layer_net_overfits_100_samples(small_split):
    """Spec A2 Ex2 sanity check: 100 samples, lambda = 0, 200 epochs -> very low train loss."""
    split = dict(small_split)
    split["X_train"], split["y_train"] = split["X_train"][:100], split["y_train"][:100]
    settings = lab2_settings(
        schedule={"kind": "constant", "eta": 0.05, "eta_min": None, "eta_max": None, "n_s": None},
        cycles=None,
        n_epochs=200,
        n_batch=10,
        eval_every=500,
    )
    _, history, metrics = mlp_runs.run(settings, split)
    assert history[0]["train_loss"] > 2.0
    assert history[-1]["train_loss"] < 0.01 and history[-1]["train_acc"] == 1.0
    assert metrics["n_updates"] == 2000


def test_run_is_reproducible_and_records_its_settings(small_split):
    settings = lab2_settings(schedule={"n_s": 4}, cycles=2)
    params_a, history_a, metrics = mlp_runs.run(settings, small_split)
    params_b, history_b, _ = mlp_runs.run(settings, small_split)
    np.testing.assert_array_equal(params_a["W1"], params_b["W1"])
    assert history_a == history_b
    assert metrics["settings"] == settings and metrics["n_updates"] == 16
    assert metrics["schedule"] == "cyclic eta 1e-05..0.1, n_s=4"
    assert [row["update"] for row in history_a][:3] == [0, 1, 2]  # 8 steps per cycle / 10


# ---- search machinery


def test_coarse_grid_is_the_spec_grid():
    grid = search.with_values(
        search.coarse_grid({"low": -5, "high": -1, "n": 8, "spacing": "grid"}), "log10", "lam"
    )
    assert grid["trial"].tolist() == list(range(8))
    assert grid["lam"].iloc[0] == 1e-5 and grid["lam"].iloc[-1] == 0.1
    np.testing.assert_allclose(np.diff(np.log10(grid["lam"])), 4 / 7, rtol=1e-5)


def test_random_coarse_grid_is_seeded_and_inside_the_range():
    spec = {"low": -5, "high": -1, "n": 6, "spacing": "random", "seed": 3}
    a, b = search.coarse_grid(spec), search.coarse_grid(spec)
    pd.testing.assert_frame_equal(a, b)
    assert a["x"].between(-5, -1).all()


def test_fine_range_surrounds_the_best_coarse_trials():
    coarse_spec = {"low": -5, "high": -1, "n": 5}  # step 1
    coarse = pd.DataFrame({"x": [-5, -4, -3, -2, -1], "acc": [0.40, 0.50, 0.52, 0.45, 0.30]})
    fine_spec = {"n": 50, "top": 2, "pad": 0.5, "seed": 1}
    grid, (lo, hi) = search.fine_grid(coarse, coarse_spec, fine_spec, "acc")
    assert (lo, hi) == (-4.5, -2.5)  # around -3 (best) and -4 (second), half a step out
    assert grid["x"].between(lo, hi).all() and len(grid) == 50
    # clipped to the coarse range when the best trial is at its edge
    coarse["acc"] = [0.6, 0.5, 0.4, 0.3, 0.2]
    _, (lo, hi) = search.fine_grid(coarse, coarse_spec, fine_spec, "acc")
    assert (lo, hi) == (-5, -3.5)


def test_rank_orders_by_score_and_keeps_ties_stable():
    trials = pd.DataFrame({"stage": ["coarse", "coarse", "fine"], "acc": [0.5, 0.6, 0.6]})
    ranked = ranking.rank(trials, "acc")  # a score without a tie-break column: trial order
    assert ranked["stage"].tolist() == ["coarse", "fine", "coarse"]
    assert ranked["rank"].tolist() == [1, 2, 3]
    assert ranked["tied_at_top"].tolist() == [True, True, False]


def test_dotted_paths_set_nested_settings_without_touching_the_original():
    settings = {"lam": 0.0, "schedule": {"eta_max": 0.1}}
    out = nested.set_path(settings, "schedule.eta_max", 0.05)
    assert out["schedule"]["eta_max"] == 0.05 and settings["schedule"]["eta_max"] == 0.1
    assert nested.get_path(out, "schedule.eta_max") == 0.05
    assert search.to_value(-2.5, "log10") == 0.00316228


# ---- bonus settings through dd2424.mlp.runs.run (issue 10)


def _short(**over):
    """A 2-layer run of 2 short cycles on the small split (200 training samples)."""
    return nested.merge(lab2_settings(schedule={"n_s": 10}, cycles=2, n_batch=20), over)


@pytest.mark.parametrize(
    "over",
    [
        {"loss": "svm", "schedule": {"eta_max": 0.01}},  # hinge gradients are up to 9x CE's
        {"keep_prob": 0.5},
        {"augment": {"flip": True, "translate": 2, "brightness": 0.1, "contrast": 0.1}},
        {"batch_norm": True, "batch_norm_position": "after", "hidden": [20, 20]},
        {"hidden": [200], "keep_prob": 0.5, "batch_norm": True, "loss": "svm", "lam": 0.01},
    ],
)
def test_every_bonus_setting_trains_reproducibly_through_run(over, small_split):
    a, history_a, metrics = mlp_runs.run(_short(**over), small_split)
    b, history_b, _ = mlp_runs.run(_short(**over), small_split)
    assert history_a == history_b
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert not metrics["diverged"]
    assert history_a[-1]["train_loss"] < history_a[0]["train_loss"]  # it learns
    assert history_a[-1]["train_acc"] > history_a[0]["train_acc"] + 0.1
    assert metrics["loss"] == over.get("loss", "cross_entropy")


def test_svm_runs_report_hinge_losses(small_split):
    settings = _short(loss="svm", init={"kind": "normal", "sigma": 1e-4})
    _, history, metrics = mlp_runs.run(settings, small_split)
    assert metrics["loss"] == "svm"
    assert history[0]["train_loss"] == pytest.approx(9.0, abs=0.05)  # 9 margins of ~1 at init
    _, history, _ = mlp_runs.run(_short(init={"kind": "normal", "sigma": 1e-4}), small_split)
    assert history[0]["train_loss"] == pytest.approx(np.log(10), abs=0.01)


def test_keep_best_and_patience_say_which_model_was_kept(small_split):
    settings = _short(keep_best=True, patience=3, eval_every=2, schedule={"n_s": 40})
    arrays, history, metrics = mlp_runs.run(settings, small_split)
    best = max(history[1:], key=lambda row: row["val_acc"])
    assert metrics["best_update"] == best["update"] == metrics["kept_update"]
    assert metrics["best_val_acc"] == best["val_acc"]
    if metrics["early_stopped"]:
        assert metrics["updates_done"] < metrics["n_updates"]
        assert history[-1]["update"] - best["update"] == 3 * 2  # 3 evaluations without gain
    net = mlp_runs.build_network(settings, 3072, 10)
    X, y = small_split["X_val"], small_split["y_val"].astype(np.intp)
    assert net.evaluate(arrays, X, y, 0.0)["acc"] == best["val_acc"]  # the kept model
    _, _, plain = mlp_runs.run(_short(eval_every=2, schedule={"n_s": 40}), small_split)
    assert plain["kept_update"] == plain["updates_done"] and not plain["early_stopped"]


def test_snapshots_are_saved_at_the_end_of_every_cycle(small_split):
    arrays, _, metrics = mlp_runs.run(_short(snapshots=True, cycles=3), small_split)
    assert metrics["snapshot_updates"] == [20, 40, 60]
    assert {k for k in arrays if k.startswith("snap")} == {
        f"snap{c}_{p}" for c in (1, 2, 3) for p in ("W1", "b1", "W2", "b2")
    }
    np.testing.assert_array_equal(arrays["snap3_W1"], arrays["W1"])  # the last is the final
    assert not np.array_equal(arrays["snap1_W1"], arrays["W1"])
    constant = _short(cycles=None, n_epochs=2)
    constant["schedule"] = {"kind": "constant", "eta": 0.01}
    with pytest.raises(ValueError, match="cyclic"):
        mlp_runs.run(nested.merge(constant, {"snapshots": True}), small_split)


def test_decay_schedules_and_the_ramp_through_run(small_split):
    base = _short(cycles=None, n_epochs=4)
    step = nested.merge(
        base,
        {
            "schedule": {
                "kind": "step",
                "eta": 0.05,
                "gamma": 0.5,
                "step_epochs": 2,
                "eta_min": None,
                "eta_max": None,
                "n_s": None,
            }
        },
    )
    _, history, metrics = mlp_runs.run(step, small_split)
    assert [row["eta"] for row in history] == pytest.approx([0.05, 0.05, 0.025, 0.025, 0.0125])
    ramp = nested.merge(
        step,
        {
            "schedule": {
                "kind": "ramp",
                "eta": None,
                "gamma": None,
                "step_epochs": None,
                "eta_lo": 1e-5,
                "eta_hi": 1.0,
            }
        },
    )
    ramp["eval_every"] = 4
    _, history, metrics = mlp_runs.run(ramp, small_split)
    etas = [row["eta"] for row in history]
    assert etas[0] == pytest.approx(1e-5) and np.all(np.diff(etas) > 0)
    assert metrics["schedule"].startswith("exponential ramp")


def test_augmentation_needs_images(small_split):
    split = dict(small_split)
    split["X_train"] = np.ascontiguousarray(split["X_train"][:, :20])
    split["X_val"] = np.ascontiguousarray(split["X_val"][:, :20])
    split["X_test"] = np.ascontiguousarray(split["X_test"][:, :20])
    with pytest.raises(ValueError, match="augment"):
        mlp_runs.run(_short(augment={"flip": True}), split)


def test_gradient_checks_cover_svm_dropout_and_bn_after(small_split):
    spec = {
        "hidden": [],
        "init": {"kind": "xavier"},
        "bn_eps": 1e-12,
        "h": 1e-5,
        "abs_threshold": 1e-8,
        "rel_threshold": 1e-5,
        "seed": 400,
        "checks": [
            {"n": 5, "dims": 20, "lam": 0.1, "loss": "svm"},
            {"n": 5, "dims": 10, "lam": 0.0, "hidden": [20], "keep_prob": 0.5},
            {
                "n": 8,
                "dims": 10,
                "lam": 0.01,
                "hidden": [20, 15],
                "batch_norm": True,
                "batch_norm_position": "after",
                "keep_prob": 0.8,
                "loss": "svm",
            },
        ],
    }
    rows = mlp_runs.gradient_checks(spec, small_split)
    assert all(r["passed"] for r in rows), rows
    assert [r["check"] for r in rows if r["parameter"] == "W1"] == [
        "20+10 svm n=5 lambda=0.1",
        "10+20+10 dropout p=0.5 n=5 lambda=0",
        "10+20+15+10 BN-after dropout p=0.8 svm n=8 lambda=0.01",
    ]
