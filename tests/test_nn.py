import numpy as np
import pytest

from dd2424 import gradcheck, nn


def test_softmax_is_stable_at_large_logits():
    S = np.array([[1000.0, 1000.0, -1000.0], [-1e4, 0.0, 1e4]])
    P = nn.softmax(S)
    assert np.all(np.isfinite(P))
    np.testing.assert_allclose(P, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]], atol=1e-12)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)


def test_softmax_is_shift_invariant(rng):
    S = rng.standard_normal((4, 6))
    np.testing.assert_allclose(nn.softmax(S), nn.softmax(S + 123.4), rtol=1e-12)


def test_cross_entropy_finite_when_softmax_saturates():
    # p_y underflows to 0 in float64; the log-softmax form still gives the exact loss
    S = np.array([[0.0, 2000.0]])
    assert nn.cross_entropy(S, np.array([0])) == pytest.approx(2000.0)


def test_loss_cost_accuracy_by_hand():
    net = nn.Network(d=2, K=2)
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
    net = nn.Network(d=3, K=2, hidden=(4,))
    params = net.init(rng, dtype=np.float64)
    params["b1"] += 10
    expected = (params["W1"] ** 2).sum() + (params["W2"] ** 2).sum()
    assert net.penalty(params) == pytest.approx(expected)


@pytest.mark.parametrize(
    "kind,std", [("normal", 0.01), ("xavier", 1 / np.sqrt(400)), ("he", np.sqrt(2 / 400))]
)
def test_init_scales(kind, std, rng):
    net = nn.Network(d=400, K=10, hidden=(300,))
    params = net.init(rng, kind=kind, sigma=0.01)
    assert params["W1"].dtype == np.float32
    assert params["W1"].shape == (300, 400) and params["W2"].shape == (10, 300)
    assert params["W1"].std() == pytest.approx(std, rel=0.02)
    assert not params["b1"].any() and not params["b2"].any()


def test_lab1_init_draws_biases_too(rng):
    params = nn.Network(d=3072, K=10).init(rng, "normal", sigma=0.01, bias_sigma=0.01)
    assert params["b1"].any() and params["W1"].std() == pytest.approx(0.01, rel=0.02)


def test_check_rejects_wrong_shapes(rng):
    net = nn.Network(d=5, K=3, hidden=(4,))
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
    net = nn.Network(d=7, K=4, hidden=hidden)
    analytic, numeric = _numeric_vs_analytic(net, lam, n=5, rng=rng)
    rows = gradcheck.compare("t", analytic, numeric, abs_threshold=1e-8, rel_threshold=1e-5)
    assert [r.parameter for r in rows] == list(net.shapes())
    assert all(r.passed for r in rows), rows


def test_a_wrong_regularisation_gradient_fails_the_check(rng):
    """The lab-1 thresholds must catch lambda*W written instead of 2*lambda*W."""
    net = nn.Network(d=20, K=10)
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
    net = nn.Network(d=4, K=3, hidden=(5,))
    params = net.init(rng, dtype=np.float64)
    X = rng.standard_normal((6, 4))
    P, cache = net.forward(params, X)
    P0 = P.copy()
    net.backward(params, cache, P, np.zeros(6, dtype=int), 0.0)
    np.testing.assert_array_equal(P, P0)


def test_float32_training_arithmetic_stays_float32(rng):
    net = nn.Network(d=6, K=3, hidden=(4,))
    params = net.init(rng)
    X = rng.standard_normal((5, 6)).astype(np.float32)
    grads = net.gradients(params, X, np.array([0, 1, 2, 0, 1]), 0.01)
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}
