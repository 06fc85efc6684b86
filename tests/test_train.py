import numpy as np
import pytest

from dd2424 import nn, schedules, train


def test_batches_cover_every_row_once_per_epoch_when_shuffled(rng):
    gen = train.batch_order(10, 3, shuffle=True, rng=rng)
    epoch1 = np.concatenate([next(gen) for _ in range(3)])
    epoch2 = np.concatenate([next(gen) for _ in range(3)])
    assert len(set(epoch1.tolist())) == 9 and len(set(epoch2.tolist())) == 9
    assert not np.array_equal(epoch1, epoch2)


def test_batches_in_order_without_shuffle(rng):
    gen = train.batch_order(7, 3, shuffle=False, rng=rng)
    got = [next(gen).tolist() for _ in range(3)]
    assert got == [[0, 1, 2], [3, 4, 5], [0, 1, 2]]


def test_batch_larger_than_data_is_an_error(rng):
    with pytest.raises(ValueError, match="larger than the training set"):
        next(train.batch_order(5, 6, True, rng))


@pytest.mark.parametrize("field,value", [("n_batch", 0), ("n_updates", 0), ("lam", -0.1)])
def test_bad_train_config_is_rejected(field, value):
    kwargs = {"n_batch": 10, "n_updates": 5, "lam": 0.0, "eval_every": 5} | {field: value}
    with pytest.raises(ValueError, match=field):
        train.TrainConfig(**kwargs)


def _toy_problem(rng, n=200, d=10, K=3):
    centres = rng.standard_normal((K, d)) * 2
    y = rng.integers(0, K, n)
    X = centres[y] + rng.standard_normal((n, d))
    return X.astype(np.float32), y


def _fit(seed, n_updates=60, eval_every=20):
    rng = np.random.default_rng(seed)
    X, y = _toy_problem(np.random.default_rng(0))
    net = nn.Network(d=10, K=3)
    params = net.init(rng, "normal", 0.01)
    cfg = train.TrainConfig(n_batch=20, n_updates=n_updates, lam=0.01, eval_every=eval_every)
    history, stats = train.minibatch_gd(
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
