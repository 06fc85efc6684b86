import numpy as np
import pytest

from dd2424 import schedules
from dd2424.data import augment
from dd2424.mlp import network, trainer


def test_batches_cover_every_row_once_per_epoch_when_shuffled(rng):
    gen = trainer.batch_order(10, 3, shuffle=True, rng=rng)
    epoch1 = np.concatenate([next(gen) for _ in range(3)])
    epoch2 = np.concatenate([next(gen) for _ in range(3)])
    assert len(set(epoch1.tolist())) == 9 and len(set(epoch2.tolist())) == 9
    assert not np.array_equal(epoch1, epoch2)


def test_batches_in_order_without_shuffle(rng):
    gen = trainer.batch_order(7, 3, shuffle=False, rng=rng)
    got = [next(gen).tolist() for _ in range(3)]
    assert got == [[0, 1, 2], [3, 4, 5], [0, 1, 2]]


def test_batch_larger_than_data_is_an_error(rng):
    with pytest.raises(ValueError, match="larger than the training set"):
        next(trainer.batch_order(5, 6, True, rng))


@pytest.mark.parametrize("field,value", [("n_batch", 0), ("n_updates", 0), ("lam", -0.1)])
def test_bad_train_config_is_rejected(field, value):
    kwargs = {"n_batch": 10, "n_updates": 5, "lam": 0.0, "eval_every": 5} | {field: value}
    with pytest.raises(ValueError, match=field):
        trainer.TrainConfig(**kwargs)


def _toy_problem(rng, n=200, d=10, K=3):
    centres = rng.standard_normal((K, d)) * 2
    y = rng.integers(0, K, n)
    X = centres[y] + rng.standard_normal((n, d))
    return X.astype(np.float32), y


def _fit(seed, n_updates=60, eval_every=20):
    rng = np.random.default_rng(seed)
    X, y = _toy_problem(np.random.default_rng(0))
    net = network.Network(d=10, K=3)
    params = net.init(rng, "normal", 0.01)
    cfg = trainer.TrainConfig(n_batch=20, n_updates=n_updates, lam=0.01, eval_every=eval_every)
    history, stats = trainer.minibatch_gd(
        net, params, (X, y), (X[:50], y[:50]), cfg, schedules.Constant(0.1), rng
    )
    assert stats == {}  # no batch normalisation, no moving averages
    return params, history


def test_training_lowers_the_cost_and_records_history():
    params, history = _fit(1)
    assert [row["update"] for row in history] == [0, 20, 40, 60]
    assert [row["epoch"] for row in history] == [0, 2, 4, 6]
    assert history[-1]["train_cost"] < 0.5 * history[0]["train_cost"]
    assert history[-1]["val_acc"] > 0.9
    assert {"train_loss", "train_cost", "train_acc", "val_loss", "val_cost", "val_acc"} <= set(
        history[0]
    )


def test_final_evaluation_recorded_when_not_on_the_grid():
    _, history = _fit(1, n_updates=50, eval_every=20)
    assert [row["update"] for row in history] == [0, 20, 40, 50]


def test_same_seed_same_result_different_seed_different_result():
    a, _ = _fit(3)
    b, _ = _fit(3)
    c, _ = _fit(4)
    np.testing.assert_array_equal(a["W1"], b["W1"])
    assert not np.array_equal(a["W1"], c["W1"])


def test_constant_schedule_and_unknown_kind():
    s = schedules.make_schedule({"kind": "constant", "eta": 0.5})
    assert s(0) == s(1000) == 0.5
    with pytest.raises(ValueError, match="unknown schedule"):
        schedules.make_schedule({"kind": "warp", "eta": 1})
    # only a schedule that changes eta during the run needs the run's length
    assert not any(map(schedules.varies, (None, {}, {"kind": "constant"}, {"warmup": 0})))
    assert all(map(schedules.varies, ({"kind": "cosine"}, {"warmup": 200})))


def test_cyclic_rate_at_the_points_the_spec_names():
    s = schedules.Cyclic(eta_min=1e-5, eta_max=1e-1, n_s=500)
    mid = (1e-5 + 1e-1) / 2
    expected = {0: 1e-5, 250: mid, 500: 1e-1, 750: mid, 1000: 1e-5, 1250: mid, 1500: 1e-1}
    for t, eta in expected.items():
        assert s(t) == pytest.approx(eta, rel=1e-12), t
    # linear in between: eq. 14 on the way up, eq. 15 on the way down
    assert s(100) == pytest.approx(1e-5 + 100 / 500 * (1e-1 - 1e-5))
    assert s(1100) == pytest.approx(1e-5 + 100 / 500 * (1e-1 - 1e-5))
    assert s(900) == pytest.approx(1e-1 - 400 / 500 * (1e-1 - 1e-5))
    assert s.updates(3) == 3000 and s(s.updates(3)) == pytest.approx(1e-5)


@pytest.mark.parametrize("n_s", [0, 2.5, 900.0, True])
def test_cyclic_needs_a_positive_integer_half_cycle(n_s):
    with pytest.raises(ValueError, match="n_s"):
        schedules.Cyclic(1e-5, 1e-1, n_s)


def test_cyclic_from_config_in_epochs():
    s = schedules.make_schedule(
        {"kind": "cyclic", "eta_min": 1e-5, "eta_max": 0.1, "n_s_epochs": 2}, steps_per_epoch=450
    )
    assert s.n_s == 900
    with pytest.raises(ValueError, match="either n_s or n_s_epochs"):
        schedules.make_schedule(
            {"kind": "cyclic", "eta_min": 1e-5, "eta_max": 0.1, "n_s": 5, "n_s_epochs": 2}, 450
        )


# ---- bonus schedules (issue 10): step and exponential decay, the range-test ramp


def test_step_decay_multiplies_by_gamma_every_n_epochs():
    s = schedules.make_schedule(
        {"kind": "step", "eta": 0.1, "gamma": 0.1, "step_epochs": 2}, steps_per_epoch=10
    )
    assert [s(t) for t in (0, 19, 20, 39, 40)] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])
    assert s.describe() == "step eta=0.1 x0.1 every 2 epoch(s)"


def test_exponential_decay_is_piecewise_constant_per_epoch():
    s = schedules.make_schedule({"kind": "exponential", "eta": 0.1, "gamma": 0.9}, 10)
    assert s(0) == s(9) == 0.1
    assert s(10) == pytest.approx(0.09) and s(25) == pytest.approx(0.1 * 0.9**2)
    with pytest.raises(ValueError, match="epoch length"):
        schedules.make_schedule({"kind": "exponential", "eta": 0.1, "gamma": 0.9})
    with pytest.raises(ValueError, match="gamma"):
        schedules.make_schedule({"kind": "exponential", "eta": 0.1, "gamma": 1.5}, 10)


@pytest.mark.parametrize("spacing", ["linear", "exponential"])
def test_ramp_rises_monotonically_from_eta_lo_to_eta_hi(spacing):
    s = schedules.make_schedule(
        {"kind": "ramp", "eta_lo": 1e-5, "eta_hi": 1.0, "spacing": spacing}, n_updates=500
    )
    etas = np.array([s(t) for t in range(500)])
    assert etas[0] == pytest.approx(1e-5) and etas[-1] == pytest.approx(1.0)
    assert (np.diff(etas) > 0).all()
    if spacing == "exponential":  # a straight line in log eta
        np.testing.assert_allclose(np.diff(np.log(etas)), np.log(1e5) / 499, rtol=1e-9)
    else:
        np.testing.assert_allclose(np.diff(etas), (1 - 1e-5) / 499, rtol=1e-9)


# ---- keep the best model, early stopping, snapshots, augmentation in the loop


class Scripted:
    """A model whose validation accuracies follow a script (one per evaluation), to test the
    loop's bookkeeping: its single parameter counts the updates."""

    def __init__(self, accs):
        self.accs = list(accs)
        self.calls = 0

    def init_stats(self, params, X):
        return {"mu1": np.zeros(1)}

    def gradients(self, params, X, y, lam, stats=None, rng=None, out=None):
        stats["mu1"] += 1
        return {"w": np.array([-1.0])}  # w grows by eta = 1 per update

    def evaluate(self, params, X, y, lam, stats=None):
        acc = self.accs[min(self.calls // 2, len(self.accs) - 1)]
        self.calls += 1
        return {"loss": 1.0, "cost": 1.0, "acc": acc}


def _scripted(accs, **cfg):
    X, y = np.zeros((10, 2)), np.zeros(10, int)
    params = {"w": np.zeros(1)}
    config = trainer.TrainConfig(n_batch=5, n_updates=10, lam=0.0, eval_every=2, **cfg)
    snaps = []
    history, stats = trainer.minibatch_gd(
        Scripted(accs),
        params,
        (X, y),
        (X, y),
        config,
        schedules.Constant(1.0),
        np.random.default_rng(0),
        snapshots=snaps,
    )
    return params, stats, history, snaps


def test_keep_best_restores_the_parameters_and_stats_of_the_best_evaluation():
    # evaluations at updates 0, 2, 4, 6, 8, 10; the best after update 0 is at update 4
    params, stats, history, _ = _scripted([0.9, 0.3, 0.5, 0.4, 0.5, 0.2], keep_best=True)
    assert [r["update"] for r in history] == [0, 2, 4, 6, 8, 10]
    assert params["w"][0] == 4 and stats["mu1"][0] == 4  # not update 0's 0.9, not the tie at 8
    assert trainer.best_evaluation(history)["update"] == 4
    params, _, _, _ = _scripted([0.9, 0.3, 0.5, 0.4, 0.5, 0.2])
    assert params["w"][0] == 10  # without keep_best: the final parameters


def test_patience_stops_after_that_many_evaluations_without_improvement():
    params, _, history, _ = _scripted([0.1, 0.3, 0.5, 0.4, 0.5, 0.9], patience=2, keep_best=True)
    assert history[-1]["update"] == 8  # 6 and 8 did not beat update 4's 0.5
    assert params["w"][0] == 4


def test_snapshots_copy_the_parameters_every_cycle():
    _, _, _, snaps = _scripted([0.1], snapshot_every=4)
    assert [(u, a["w"][0], a["mu1"][0]) for u, a in snaps] == [(4, 4, 4), (8, 8, 8)]


def test_keep_best_restores_the_model_before_a_divergence():
    X, y = _toy_problem(np.random.default_rng(0))
    net = network.Network(d=10, K=3)
    params = net.init(np.random.default_rng(1), "normal", 0.01)
    cfg = trainer.TrainConfig(n_batch=20, n_updates=40, lam=0.0, eval_every=10, keep_best=True)
    # fine for 20 updates, then eta = 1e30 blows the cost up
    history, _ = trainer.minibatch_gd(
        net,
        params,
        (X, y),
        (X, y),
        cfg,
        lambda t: 0.1 if t < 20 else 1e30,
        np.random.default_rng(2),
    )
    assert trainer.diverged_at(history) is not None
    assert np.isfinite(params["W1"]).all()
    assert net.evaluate(params, X, y, 0.0)["acc"] == trainer.best_evaluation(history)["val_acc"]


def test_dropout_and_augmentation_leave_the_data_order_and_init_alone(rng):
    """Their draws come from spawned generators: the shuffling stream is the same."""
    seen = []

    class Spy(network.Network):
        def gradients(self, params, X, y, lam, stats=None, rng=None, masks=None, out=None):
            seen.append(np.sort(y.copy()))
            return super().gradients(params, X, y, lam, stats, rng, masks, out)

    X = rng.standard_normal((60, 3072)).astype(np.float32)
    y = np.arange(60)
    cfg = trainer.TrainConfig(n_batch=20, n_updates=6, lam=0.0, eval_every=6)
    runs = []
    for kwargs, aug in [({}, None), ({"keep_prob": 0.5}, augment.Augmentation(flip=True))]:
        seen.clear()
        net = Spy(d=3072, K=60, hidden=(4,), **kwargs)
        params = net.init(np.random.default_rng(3))
        trainer.minibatch_gd(
            net,
            params,
            (X, y),
            (X, y),
            cfg,
            schedules.Constant(0.01),
            np.random.default_rng(4),
            augment=aug,
        )
        runs.append([s.tolist() for s in seen])
    assert runs[0] == runs[1]  # the same samples in every batch (augmentation reorders them)


def test_augmented_training_is_reproducible(rng):
    X = rng.standard_normal((60, 3072)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    cfg = trainer.TrainConfig(n_batch=20, n_updates=9, lam=0.01, eval_every=3)
    aug = augment.Augmentation(flip=True, translate=3, brightness=0.1, contrast=0.1)
    out = []
    for _ in range(2):
        net = network.Network(d=3072, K=3, hidden=(5,), keep_prob=0.8)
        params = net.init(np.random.default_rng(3))
        history, _ = trainer.minibatch_gd(
            net,
            params,
            (X, y),
            (X, y),
            cfg,
            schedules.Constant(0.01),
            np.random.default_rng(4),
            augment=aug,
        )
        out.append((params, history))
    assert out[0][1] == out[1][1]
    for name in out[0][0]:
        np.testing.assert_array_equal(out[0][0][name], out[1][0][name])
