import numpy as np
import pytest
import yaml
from conftest import ROOT

from dd2424 import activations, gradcheck
from dd2424.mlp import batchnorm, losses, network


def test_softmax_is_stable_at_large_logits():
    S = np.array([[1000.0, 1000.0, -1000.0], [-1e4, 0.0, 1e4]])
    P = activations.softmax(S)
    assert np.all(np.isfinite(P))
    np.testing.assert_allclose(P, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]], atol=1e-12)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)


def test_softmax_is_shift_invariant(rng):
    S = rng.standard_normal((4, 6))
    np.testing.assert_allclose(activations.softmax(S), activations.softmax(S + 123.4), rtol=1e-12)


def test_cross_entropy_finite_when_softmax_saturates():
    # p_y underflows to 0 in float64; the log-softmax form still gives the exact loss
    S = np.array([[0.0, 2000.0]])
    assert losses.cross_entropy(S, np.array([0])) == pytest.approx(2000.0)


def test_loss_cost_accuracy_by_hand():
    net = network.Network(d=2, K=2)
    params = {"W1": np.array([[1.0, 0.0], [0.0, 1.0]]), "b1": np.array([0.0, 0.0])}
    X = np.array([[np.log(3.0), 0.0], [0.0, 0.0], [0.0, 1.0]])
    y = np.array([0, 1, 0])
    # p = [3/4, 1/4], [1/2, 1/2], [1/(1+e), e/(1+e)]
    loss = -(np.log(0.75) + np.log(0.5) + np.log(1 / (1 + np.e))) / 3
    out = net.evaluate(params, X, y, lam=0.5)
    assert out["loss"] == pytest.approx(loss, rel=1e-12)
    assert out["cost"] == pytest.approx(loss + 0.5 * 2.0, rel=1e-12)
    # argmax: row 0 -> 0 (right), row 1 tie -> 0 (wrong), row 2 -> 1 (wrong)
    assert out["acc"] == pytest.approx(1 / 3)


def test_penalty_sums_all_weight_matrices_but_no_biases(rng):
    net = network.Network(d=3, K=2, hidden=(4,))
    params = net.init(rng, dtype=np.float64)
    params["b1"] += 10
    expected = (params["W1"] ** 2).sum() + (params["W2"] ** 2).sum()
    assert net.penalty(params) == pytest.approx(expected)


@pytest.mark.parametrize(
    "kind,std", [("normal", 0.01), ("xavier", 1 / np.sqrt(400)), ("he", np.sqrt(2 / 400))]
)
def test_init_scales(kind, std, rng):
    net = network.Network(d=400, K=10, hidden=(300,))
    params = net.init(rng, kind=kind, sigma=0.01)
    assert params["W1"].dtype == np.float32
    assert params["W1"].shape == (300, 400) and params["W2"].shape == (10, 300)
    assert params["W1"].std() == pytest.approx(std, rel=0.02)
    assert not params["b1"].any() and not params["b2"].any()


def test_lab1_init_draws_biases_too(rng):
    params = network.Network(d=3072, K=10).init(rng, "normal", sigma=0.01, bias_sigma=0.01)
    assert params["b1"].any() and params["W1"].std() == pytest.approx(0.01, rel=0.02)


def test_check_rejects_wrong_shapes(rng):
    net = network.Network(d=5, K=3, hidden=(4,))
    params = net.init(rng)
    net.check(params)
    params["W2"] = params["W2"].T
    with pytest.raises(ValueError, match="do not fit"):
        net.check(params)


def _numeric_vs_analytic(net, lam, n, rng, h=1e-6):
    params = net.init(rng, "normal", sigma=0.3, bias_sigma=0.1, dtype=np.float64)
    X = rng.standard_normal((n, net.d))
    y = rng.integers(0, net.K, n)
    analytic = net.gradients(params, X, y, lam)
    numeric = gradcheck.numerical_gradients(lambda: net.cost(params, X, y, lam), params, h)
    return analytic, numeric


@pytest.mark.parametrize("hidden", [(), (8,), (8, 6)])
@pytest.mark.parametrize("lam", [0.0, 0.1])
def test_gradients_match_numerical(hidden, lam, rng):
    net = network.Network(d=7, K=4, hidden=hidden)
    analytic, numeric = _numeric_vs_analytic(net, lam, n=5, rng=rng)
    rows = gradcheck.compare("t", analytic, numeric, abs_threshold=1e-8, rel_threshold=1e-5)
    assert [r.parameter for r in rows] == list(net.shapes())
    assert all(r.passed for r in rows), rows


def test_a_wrong_regularisation_gradient_fails_the_check(rng):
    """The lab-1 thresholds must catch lambda*W written instead of 2*lambda*W."""
    net = network.Network(d=20, K=10)
    params = net.init(rng, "normal", sigma=0.01, bias_sigma=0.01, dtype=np.float64)
    X = rng.standard_normal((2, 20))
    y = np.array([3, 7])
    good = net.gradients(params, X, y, 0.1)
    broken = dict(good, W1=good["W1"] - 0.1 * params["W1"])
    numeric = gradcheck.numerical_gradients(lambda: net.cost(params, X, y, 0.1), params, 1e-6)
    assert all(r.passed for r in gradcheck.compare("ok", good, numeric, 1e-6, 1e-5))
    w_row, b_row = gradcheck.compare("bug", broken, numeric, 1e-6, 1e-5)
    assert not w_row.passed and b_row.passed


def test_backward_leaves_probabilities_untouched(rng):
    net = network.Network(d=4, K=3, hidden=(5,))
    params = net.init(rng, dtype=np.float64)
    X = rng.standard_normal((6, 4))
    P, cache = net.forward(params, X)
    P0 = P.copy()
    net.backward(params, cache, P, np.zeros(6, dtype=int), 0.0)
    np.testing.assert_array_equal(P, P0)


def test_float32_training_arithmetic_stays_float32(rng):
    net = network.Network(d=6, K=3, hidden=(4,))
    params = net.init(rng)
    X = rng.standard_normal((5, 6)).astype(np.float32)
    grads = net.gradients(params, X, np.array([0, 1, 2, 0, 1]), 0.01)
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}


# ---- batch normalisation (course-spec §3.2)


def _bn_problem(rng, hidden, n=8, d=10, K=5):
    net = network.Network(d=d, K=K, hidden=hidden, batch_norm=True, bn_eps=1e-12)
    params = net.init(rng, "he", dtype=np.float64)
    # gamma, beta away from their 1/0 start so their gradients are exercised
    for name in params:
        if name.startswith(("gamma", "beta")):
            params[name] += rng.normal(0, 0.3, params[name].shape)
    X = rng.standard_normal((n, d))
    y = rng.integers(0, K, n)
    return net, params, X, y


@pytest.mark.parametrize("hidden", [(12,), (12, 9), (12, 9, 7)])
@pytest.mark.parametrize("lam", [0.0, 0.05])
def test_batchnorm_gradients_match_numerical_in_training_mode(hidden, lam, rng):
    net, params, X, y = _bn_problem(rng, hidden)
    assert {f"gamma{l}" for l in range(1, len(hidden) + 1)} <= set(params)
    analytic = net.gradients(params, X, y, lam)
    numeric = gradcheck.numerical_gradients(lambda: net.cost(params, X, y, lam), params, 1e-5)
    rows = gradcheck.compare("bn", analytic, numeric, abs_threshold=1e-8, rel_threshold=1e-5)
    assert {r.parameter for r in rows} == set(net.shapes())
    assert all(r.passed for r in rows), [(r.parameter, r.max_rel_error) for r in rows]


def test_batchnorm_layers_have_no_bias_but_the_output_layer_does():
    net = network.Network(d=4, K=3, hidden=(5, 6), batch_norm=True)
    assert list(net.shapes()) == ["W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3", "b3"]
    with pytest.raises(ValueError, match="hidden layer"):
        network.Network(d=4, K=3, batch_norm=True)


def test_training_mode_uses_the_batch_mean_and_biased_variance(rng):
    net, params, X, _ = _bn_problem(rng, (6,))
    _, cache = net.scores(params, X)
    S, S_hat, mu, v = cache["bn"][1]
    np.testing.assert_allclose(S, X @ params["W1"].T)
    np.testing.assert_allclose(v, ((S - S.mean(0)) ** 2).sum(0) / len(X))  # divide by n
    np.testing.assert_allclose(S_hat, (S - S.mean(0)) / np.sqrt(v + 1e-12))
    np.testing.assert_allclose(S_hat.mean(0), 0, atol=1e-12)


def test_moving_averages_start_at_the_first_batch_and_follow_eqs_38_39(rng):
    net = network.Network(d=6, K=3, hidden=(4,), batch_norm=True, bn_alpha=0.9)
    params = net.init(rng, dtype=np.float64)
    X1, X2 = rng.standard_normal((10, 6)), rng.standard_normal((10, 6)) + 1
    stats = net.init_stats(params, X1)
    S1 = X1 @ params["W1"].T
    np.testing.assert_allclose(stats["mu1"], S1.mean(0))
    np.testing.assert_allclose(stats["v1"], S1.var(0))
    net.gradients(params, X1, np.zeros(10, int), 0.0, stats)  # same batch: unchanged
    np.testing.assert_allclose(stats["mu1"], S1.mean(0))
    S2 = X2 @ params["W1"].T
    net.gradients(params, X2, np.zeros(10, int), 0.0, stats)
    np.testing.assert_allclose(stats["mu1"], 0.9 * S1.mean(0) + 0.1 * S2.mean(0))
    np.testing.assert_allclose(stats["v1"], 0.9 * S1.var(0) + 0.1 * S2.var(0))
    before = {k: v.copy() for k, v in stats.items()}
    net.evaluate(params, X2, np.zeros(10, int), 0.0, stats)  # evaluation never updates them
    net.cost(params, X2, np.zeros(10, int), 0.0)
    for key in stats:
        np.testing.assert_array_equal(stats[key], before[key])


def test_evaluation_normalises_with_the_moving_averages(rng):
    net = network.Network(d=6, K=3, hidden=(4,), batch_norm=True)
    params = net.init(rng, dtype=np.float64)
    X = rng.standard_normal((7, 6))
    stats = {"mu1": np.full(4, 0.5), "v1": np.full(4, 4.0)}
    S, _ = net.scores(params, X, stats)
    H = np.maximum((X @ params["W1"].T - 0.5) / np.sqrt(4.0 + net.bn_eps), 0)
    np.testing.assert_allclose(S, H @ params["W2"].T + params["b2"])
    with pytest.raises(ValueError, match="moving averages"):
        net.evaluate(params, X, np.zeros(7, int), 0.0)


def test_batchnorm_backward_is_equation_37(rng):
    G, S = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    mu, v, n = S.mean(0), S.var(0), 5
    out = batchnorm.backward(G, S, mu, v, 1e-12)
    s1, s2 = (v + 1e-12) ** -0.5, (v + 1e-12) ** -1.5
    G1, G2, D = G * s1, G * s2, S - mu
    # the spec's column form, transposed: G^T = G1^T - (1/n) G1^T 1 1^T - (1/n) D^T o (c 1^T)
    ones = np.ones(n)
    c = (G2 * D).T @ ones  # eq. 36
    expected_T = G1.T - np.outer(G1.T @ ones, ones) / n - D.T * np.outer(c, ones) / n
    expected = expected_T.T
    np.testing.assert_allclose(out, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "bug",
    [
        "no_mean_term",  # drop -(1/n) G1 1 1^T
        "no_variance_term",  # drop -(1/n) D (c 1^T)
        "unbiased_variance",  # v * n/(n-1) in the backward pass only
        "no_gamma",  # skip eq. 26
    ],
)
def test_a_broken_batchnorm_backward_fails_the_configured_lab3_thresholds(bug, rng, monkeypatch):
    spec = yaml.safe_load((ROOT / "config/config.yaml").read_text())["lab3"]["gradcheck"]
    net, params, X, y = _bn_problem(rng, (12, 9), n=10)
    right = batchnorm.backward

    def broken(G, S, mu, v, eps):
        n = len(G)
        G1 = G * (v + eps) ** -0.5
        D = S - mu
        c = (G * (v + eps) ** -1.5 * D).sum(0)
        if bug == "no_mean_term":
            return G1 - D * (c / n)
        if bug == "no_variance_term":
            return G1 - G1.sum(0) / n
        if bug == "unbiased_variance":
            return right(G, S, mu, v * n / (n - 1), eps)
        return right(G / params["gamma1"] if G.shape[1] == 12 else G, S, mu, v, eps)

    numeric = gradcheck.numerical_gradients(lambda: net.cost(params, X, y, 0.0), params, spec["h"])
    thresholds = spec["abs_threshold"], spec["rel_threshold"]
    good = gradcheck.compare("ok", net.gradients(params, X, y, 0.0), numeric, *thresholds)
    assert all(r.passed for r in good)
    monkeypatch.setattr(batchnorm, "backward", broken)
    bad = gradcheck.compare("bug", net.gradients(params, X, y, 0.0), numeric, *thresholds)
    assert not all(r.passed for r in bad)


# ---- bonus: SVM loss, dropout, batch norm after the ReLU (issue 10)


def test_svm_loss_is_zero_when_every_margin_is_met():
    S = np.array([[3.0, 1.9, -5.0], [0.0, 0.5, 1.5]])
    y = np.array([0, 2])  # right class ahead of every other by >= 1
    assert losses.svm_loss(S, y) == 0.0
    assert not losses.svm_gradient(S, y).any()


def test_svm_loss_by_hand():
    S = np.array([[1.0, 1.5, 0.0], [2.0, 0.0, 2.0]])
    y = np.array([0, 1])
    # row 0: max(0, 1.5-1+1) + max(0, 0-1+1) = 1.5; row 1: (2+1) + (2+1) = 6
    assert losses.svm_loss(S, y) == pytest.approx((1.5 + 6.0) / 2)
    G = losses.svm_gradient(S, y)
    np.testing.assert_allclose(G, np.array([[-1, 1, 0], [1, -2, 1]]) / 2)


def test_evaluate_reports_the_loss_that_is_trained(rng):
    X = rng.standard_normal((6, 5))
    y = rng.integers(0, 3, 6)
    ce, svm = network.Network(d=5, K=3), network.Network(d=5, K=3, loss="svm")
    params = ce.init(rng, "normal", sigma=0.5, dtype=np.float64)
    S = X @ params["W1"].T + params["b1"]
    assert svm.evaluate(params, X, y, 0.0)["loss"] == pytest.approx(losses.svm_loss(S, y))
    assert ce.evaluate(params, X, y, 0.0)["loss"] == pytest.approx(losses.cross_entropy(S, y))
    expected = losses.svm_loss(S, y) + 0.1 * svm.penalty(params)
    assert svm.cost(params, X, y, 0.1) == pytest.approx(expected)


@pytest.mark.parametrize(
    "kwargs",
    [{"loss": "hinge"}, {"bn_position": "middle"}, {"keep_prob": 0.0}, {"keep_prob": 1.5}],
)
def test_bad_network_settings_are_named(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs)).replace("bn_", "batch_norm_")):
        network.Network(d=3, K=2, hidden=(4,), **kwargs)
    with pytest.raises(ValueError, match="hidden layer"):
        network.Network(d=3, K=2, keep_prob=0.5)


def test_dropout_scales_kept_units_by_one_over_p_and_is_off_in_evaluation(rng):
    net = network.Network(d=6, K=3, hidden=(2000,), keep_prob=0.8)
    params = net.init(rng, dtype=np.float64)
    X = rng.standard_normal((5, 6))
    masks = net.dropout_masks(rng, 5, np.float64)
    assert set(np.unique(masks[1])) == {0.0, 1 / 0.8}
    assert abs((masks[1] > 0).mean() - 0.8) < 0.02
    full = np.maximum(X @ params["W1"].T + params["b1"], 0)
    _, cache = net.scores(params, X, masks=masks)
    kept = masks[1] > 0
    np.testing.assert_allclose(cache["inputs"][1][kept], full[kept] / 0.8)
    assert not cache["inputs"][1][~kept].any()
    # evaluation (test mode): no mask, no scaling, the same as a network without dropout
    plain = network.Network(d=6, K=3, hidden=(2000,))
    y = np.zeros(5, int)
    assert net.evaluate(params, X, y, 0.0) == plain.evaluate(params, X, y, 0.0)
    with pytest.raises(ValueError, match="dropout masks or a generator"):
        net.gradients(params, X, y, 0.0)


def test_dropout_masks_come_from_the_generator(rng):
    net = network.Network(d=6, K=3, hidden=(7, 5), keep_prob=0.5)
    a = net.dropout_masks(np.random.default_rng(1), 4)
    b = net.dropout_masks(np.random.default_rng(1), 4)
    assert [m.shape for m in a.values()] == [(4, 7), (4, 5)] and a[1].dtype == np.float32
    for l in a:
        np.testing.assert_array_equal(a[l], b[l])
    assert network.Network(d=6, K=3, hidden=(7,)).dropout_masks(rng, 4) == {}


def _check(net, params, X, y, lam, h=1e-5, masks=None):
    analytic = net.gradients(params, X, y, lam, masks=masks)
    numeric = gradcheck.numerical_gradients(
        lambda: net.cost(params, X, y, lam, masks=masks), params, h
    )
    rows = gradcheck.compare("t", analytic, numeric, abs_threshold=1e-8, rel_threshold=1e-5)
    assert {r.parameter for r in rows} == set(net.shapes())
    return rows


@pytest.mark.parametrize("hidden", [(), (8,), (8, 6)])
@pytest.mark.parametrize("lam", [0.0, 0.1])
def test_svm_gradients_match_numerical(hidden, lam, rng):
    net = network.Network(d=7, K=4, hidden=hidden, loss="svm")
    params = net.init(rng, "normal", sigma=0.5, bias_sigma=0.1, dtype=np.float64)
    X, y = rng.standard_normal((6, 7)), rng.integers(0, 4, 6)
    S, _ = net.scores(params, X)
    margins = S - S[np.arange(6), y][:, None] + 1
    assert (margins < 0).any() and (margins > 0).any()  # both sides of the hinge exercised
    rows = _check(net, params, X, y, lam, h=1e-6)
    assert all(r.passed for r in rows), rows


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hidden": (9, 7), "keep_prob": 0.5},
        {"hidden": (9,), "keep_prob": 0.7, "loss": "svm"},
        {"hidden": (9, 7), "batch_norm": True, "bn_position": "after"},
        {"hidden": (9, 7, 6), "batch_norm": True, "bn_position": "after", "keep_prob": 0.6},
        {"hidden": (9, 7), "batch_norm": True, "keep_prob": 0.6},
        {"hidden": (9, 7), "batch_norm": True, "loss": "svm"},
        {"hidden": (9, 7), "batch_norm": True, "bn_position": "after", "loss": "svm"},
    ],
)
@pytest.mark.parametrize("lam", [0.0, 0.05])
def test_bonus_gradients_match_numerical_with_a_fixed_mask(kwargs, lam, rng):
    net = network.Network(d=10, K=5, bn_eps=1e-12, **kwargs)
    params = net.init(rng, "he", bias_sigma=0.1, dtype=np.float64)
    for name in params:
        if name.startswith(("gamma", "beta")):
            params[name] += rng.normal(0, 0.3, params[name].shape)
    X, y = rng.standard_normal((8, 10)), rng.integers(0, 5, 8)
    masks = net.dropout_masks(rng, 8, np.float64)
    rows = _check(net, params, X, y, lam, masks=masks)
    assert all(r.passed for r in rows), [(r.parameter, r.max_rel_error) for r in rows]


def test_a_gradient_check_with_a_different_mask_fails(rng):
    """The numerical cost must use the analytic pass's mask: with another one it disagrees."""
    net = network.Network(d=10, K=5, hidden=(9,), keep_prob=0.5)
    params = net.init(rng, "he", dtype=np.float64)
    X, y = rng.standard_normal((8, 10)), rng.integers(0, 5, 8)
    masks = net.dropout_masks(rng, 8, np.float64)
    other = net.dropout_masks(rng, 8, np.float64)
    analytic = net.gradients(params, X, y, 0.0, masks=masks)
    numeric = gradcheck.numerical_gradients(
        lambda: net.cost(params, X, y, 0.0, masks=other), params, 1e-5
    )
    assert not all(r.passed for r in gradcheck.compare("t", analytic, numeric, 1e-8, 1e-5))


def test_bn_after_the_relu_normalises_the_relu_output_and_keeps_the_bias(rng):
    net = network.Network(d=6, K=3, hidden=(5,), batch_norm=True, bn_position="after", bn_eps=1e-12)
    assert list(net.shapes()) == ["W1", "b1", "gamma1", "beta1", "W2", "b2"]
    params = net.init(rng, bias_sigma=0.3, dtype=np.float64)
    params["gamma1"] += 0.5
    X = rng.standard_normal((10, 6))
    S, cache = net.scores(params, X)
    R = np.maximum(X @ params["W1"].T + params["b1"], 0)
    R_hat = (R - R.mean(0)) / np.sqrt(R.var(0) + 1e-12)
    H = params["gamma1"] * R_hat + params["beta1"]  # no ReLU after the normalisation
    np.testing.assert_allclose(cache["inputs"][1], H)
    np.testing.assert_allclose(S, H @ params["W2"].T + params["b2"])
    stats = net.init_stats(params, X)
    np.testing.assert_allclose(stats["mu1"], R.mean(0))


def test_gradient_buffers_give_bit_identical_gradients(rng):
    for kwargs in ({"hidden": (8,)}, {"hidden": (8, 6), "batch_norm": True}, {"loss": "svm"}):
        net = network.Network(d=7, K=4, **kwargs)
        params = net.init(rng)
        X = rng.standard_normal((5, 7)).astype(np.float32)
        y = rng.integers(0, 4, 5)
        plain = net.gradients(params, X, y, 0.01)
        out = {name: np.full_like(p, np.nan) for name, p in params.items()}
        buffered = net.gradients(params, X, y, 0.01, out=out)
        for name in plain:
            assert buffered[name] is out[name]
            np.testing.assert_array_equal(buffered[name], plain[name])
