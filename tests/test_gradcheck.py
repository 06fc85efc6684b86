import numpy as np
import pytest

from dd2424 import gradcheck


def test_centred_difference_is_exact_for_a_quadratic(rng):
    A = rng.standard_normal((3, 3))
    params = {"x": rng.standard_normal((3, 2)), "v": rng.standard_normal(4)}

    def cost():
        return float((params["x"] * (A @ params["x"])).sum() + (params["v"] ** 3).sum())

    numeric = gradcheck.numerical_gradients(cost, params, h=1e-5)
    np.testing.assert_allclose(numeric["x"], (A + A.T) @ params["x"], rtol=1e-8)
    # cubic: centred difference error is h^2 exactly
    np.testing.assert_allclose(numeric["v"], 3 * params["v"] ** 2 + 1e-10, rtol=1e-8)


def test_parameters_are_restored_even_when_the_cost_raises(rng):
    params = {"w": rng.standard_normal(5)}
    before = params["w"].copy()
    calls = []

    def cost():
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("boom")
        return float(params["w"].sum())

    with pytest.raises(RuntimeError):
        gradcheck.numerical_gradients(cost, params, h=0.1)
    np.testing.assert_array_equal(params["w"], before)


def test_sampled_entries_only(rng):
    params = {"w": rng.standard_normal((4, 5))}
    entries = {"w": np.array([0, 7, 19])}
    g = gradcheck.numerical_gradients(
        lambda: float((params["w"] ** 2).sum()), params, 1e-5, entries
    )
    assert np.isfinite(g["w"].reshape(-1)[[0, 7, 19]]).all()
    assert np.isnan(g["w"]).sum() == 17
    rows = gradcheck.compare("s", {"w": 2 * params["w"]}, g, 1e-8, 1e-8)
    assert rows[0].entries == 3 and rows[0].passed


def test_float32_parameters_are_refused():
    with pytest.raises(TypeError, match="float64"):
        gradcheck.numerical_gradients(lambda: 0.0, {"w": np.zeros(3, np.float32)}, 1e-5)


def test_relative_error_is_the_spec_formula():
    ga = np.array([1.0, 0.0, -2.0])
    gn = np.array([1.1, 0.0, 2.0])
    np.testing.assert_allclose(gradcheck.relative_error(ga, gn), [0.1 / 2.1, 0.0, 1.0])


def test_compare_tolerance_is_absolute_plus_relative():
    ga = {"w": np.array([1.0, 2.0, 1e-9])}
    # 2.001 vs 2.0: relative error 2.5e-4
    row = gradcheck.compare("c", ga, {"w": np.array([1.0, 2.001, 1e-9])}, 1e-6, 1e-4)[0]
    assert not row.passed and row.worst_vs_tolerance == pytest.approx(1e-3 / (1e-6 + 4.001e-4))
    assert gradcheck.compare("c", ga, {"w": np.array([1.0, 2.001, 1e-9])}, 1e-6, 1e-3)[0].passed
    # a near-zero entry: relative error 1/3 but an absolute difference at the noise level
    row = gradcheck.compare("c", ga, {"w": np.array([1.0, 2.0, 2e-9])}, 1e-8, 1e-6)[0]
    assert row.passed and row.max_rel_error == pytest.approx(1 / 3)
    assert not gradcheck.compare("c", ga, {"w": np.array([1.0, 2.0, 2e-9])}, 1e-10, 1e-6)[0].passed


def test_sample_entries_distinct_and_bounded(rng):
    params = {"a": np.zeros((10, 10)), "b": np.zeros(3)}
    entries = gradcheck.sample_entries(params, 20, rng)
    assert len(set(entries["a"])) == 20 and entries["a"].max() < 100
    np.testing.assert_array_equal(entries["b"], [0, 1, 2])


def test_an_entry_on_a_kink_is_computed_again_with_a_smaller_h():
    # J = relu(w0) + w1^2 with w0 = 5e-6: at h = 1e-5 the centred difference straddles the
    # kink (0.75 instead of 1); at h / 10 it does not
    params = {"w": np.array([5e-6, 0.3])}

    def cost():
        w = params["w"]
        return max(w[0], 0.0) + w[1] ** 2

    analytic = {"w": np.array([1.0, 0.6])}
    numeric = gradcheck.numerical_gradients(cost, params, 1e-5)
    assert numeric["w"][0] == pytest.approx(0.75)
    assert not gradcheck.compare("k", analytic, numeric, 1e-8, 1e-5)[0].passed
    counts = gradcheck.recheck_kinks(cost, params, analytic, numeric, 1e-5, 1e-8, 1e-5)
    assert counts == {"w": 1}
    row = gradcheck.compare("k", analytic, numeric, 1e-8, 1e-5, counts)[0]
    assert row.passed and row.rechecked == 1
    np.testing.assert_array_equal(params["w"], [5e-6, 0.3])  # restored


def test_a_wrong_gradient_still_fails_after_the_recheck():
    params = {"w": np.array([0.5, -0.2])}

    def cost():
        return float((params["w"] ** 2).sum())

    wrong = {"w": params["w"].copy()}  # lambda W instead of 2 lambda W
    numeric = gradcheck.numerical_gradients(cost, params, 1e-5)
    counts = gradcheck.recheck_kinks(cost, params, wrong, numeric, 1e-5, 1e-8, 1e-5)
    assert counts == {"w": 2}
    row = gradcheck.compare("bug", wrong, numeric, 1e-8, 1e-5, counts)[0]
    assert not row.passed and row.rechecked == 2
