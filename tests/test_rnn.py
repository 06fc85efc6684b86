"""Lab 4: vocabulary, synthetic corpus, RNN forward/BPTT, clipping, AdaGrad, the training loop,
sampling (plain, temperature, nucleus) and resumable training."""

import json
import logging
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from dd2424 import gradcheck, rnn, text

TAU = 25


@pytest.fixture(scope="module")
def corpus() -> tuple[text.Vocabulary, np.ndarray]:
    t = text.synthetic_text(20_000, np.random.default_rng(2424))
    vocab = text.Vocabulary.from_text(t)
    return vocab, vocab.encode(t)


def copy_rng(rng: np.random.Generator) -> np.random.Generator:
    bitgen = type(rng.bit_generator)()
    bitgen.state = rng.bit_generator.state
    return np.random.Generator(bitgen)


# ----------------------------------------------------------------------------- text
def test_vocabulary_is_sorted_and_round_trips(tmp_path):
    written = text.write_synthetic_corpus(tmp_path / "c.txt", 5_000, seed=1)
    t = text.read_text(tmp_path / "c.txt")
    assert t == written and len(t) == 5_000
    v = text.Vocabulary.from_text(t)
    assert list(v.chars) == sorted(set(t))
    assert v.K == len(set(t))
    assert v.decode(v.encode(t)) == t
    assert v.encode(t).dtype == np.intp
    assert text.Vocabulary.from_list(json.loads(json.dumps(v.to_list()))) == v
    with pytest.raises(KeyError):
        v.encode("~")


def test_text_is_read_as_utf8(tmp_path):
    path = tmp_path / "u.txt"
    path.write_bytes("Où est\n\t•".encode())
    t = text.read_text(path)
    assert t == "Où est\n\t•"
    v = text.Vocabulary.from_text(t)
    assert v.K == 9  # 'ù' and '•' are one character each
    assert len(set(path.read_bytes())) == 12  # a byte-wise read splits them into 5 bytes
    assert v.decode(v.encode(t)) == t


def test_synthetic_corpus_is_seeded():
    a = text.synthetic_text(3_000, np.random.default_rng(5))
    assert a == text.synthetic_text(3_000, np.random.default_rng(5))
    assert a != text.synthetic_text(3_000, np.random.default_rng(6))
    assert "\n" in a and "." in a and "ü" in text.synthetic_text(20_000, np.random.default_rng(5))


def test_vocabulary_does_not_depend_on_the_hash_seed(tmp_path):
    path = tmp_path / "c.txt"
    text.write_synthetic_corpus(path, 20_000, seed=3)
    code = (
        "import json, sys\n"
        "from dd2424.text import Vocabulary, read_text\n"
        "t = read_text(sys.argv[1])\n"
        "print(json.dumps([Vocabulary.from_text(t).to_list(), list(set(t))]))\n"
    )
    outs = []
    for seed in ("1", "2"):
        env = os.environ | {"PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        outs.append(json.loads(run.stdout))
    (vocab1, set1), (vocab2, set2) = outs
    assert set1 != set2  # iterating a set really is seed dependent, so the check means something
    assert vocab1 == vocab2 == text.Vocabulary.from_text(text.read_text(path)).to_list()


# ----------------------------------------------------------------------- gradients
# Measured (m = 5, h = 1e-4, first 25 chars, h0 = 0, float64), max relative error per parameter:
#   sig = .01: U 7.9e-8, W 1.4e-6, V 4.4e-7, b 4.3e-7, c 9.1e-10; max abs diff 8.8e-10
#              (spec: max 8.5e-6 on V; the student: 5.5e-6)
#   sig = .3:  U 2.1e-8, W 1.2e-7, V 3.1e-8, b 5.2e-8, c 1.0e-9;  max abs diff 4.9e-8
# Thresholds are ~4-6x these.  Without the (1 - h^2) factor: U 2.7e-4, W 3.4e-3, b 2.1e-3 at
# sig = .01 and ~0.5-1 at sig = .3.
REL_THRESHOLDS = {
    0.01: {"U": 5e-7, "W": 7e-6, "V": 2e-6, "b": 2e-6, "c": 5e-9},
    0.3: {"U": 1e-7, "W": 5e-7, "V": 2e-7, "b": 3e-7, "c": 5e-9},
}
ABS_THRESHOLDS = {0.01: 5e-9, 0.3: 2e-7}


def gradient_check(corpus, sig: float) -> list[gradcheck.CheckRow]:
    vocab, data = corpus
    x, y = data[:TAU], data[1 : TAU + 1]
    params = rnn.init_params(5, vocab.K, np.random.default_rng(7), sig=sig)
    h0 = np.zeros(5)
    _, cache, _ = rnn.forward(params, x, y, h0)
    analytic = rnn.backward(params, cache)
    numeric = gradcheck.numerical_gradients(lambda: rnn.forward(params, x, y, h0)[0], params, 1e-4)
    rows = []
    for name in rnn.NAMES:
        rows += gradcheck.compare(
            f"rnn sig={sig}",
            analytic,
            {name: numeric[name]},
            ABS_THRESHOLDS[sig],
            REL_THRESHOLDS[sig][name],
        )
    print(sig, {r.parameter: f"{r.max_rel_error:.2e}/{r.max_abs_diff:.1e}" for r in rows})
    return rows


@pytest.mark.parametrize("sig", [0.01, 0.3])
def test_bptt_matches_numerical_gradients(corpus, sig):
    rows = gradient_check(corpus, sig)
    assert [r.parameter for r in rows] == list(rnn.NAMES)
    assert all(r.passed for r in rows), rows


@pytest.mark.parametrize("sig", [0.01, 0.3])
def test_gradient_check_catches_a_missing_tanh_derivative(corpus, sig, monkeypatch):
    monkeypatch.setattr(rnn, "dtanh", lambda h: np.ones_like(h))
    failed = {r.parameter for r in gradient_check(corpus, sig) if not r.passed}
    assert failed == {"U", "W", "b"}  # V and c do not depend on it


def test_forward_loss_is_a_sum_and_matches_a_plain_loop(corpus, rng):
    vocab, data = corpus
    x, y = data[:TAU], data[1 : TAU + 1]
    p = rnn.init_params(8, vocab.K, rng, sig=0.5)
    h0 = rng.standard_normal(8)
    loss, cache, h_last = rnn.forward(p, x, y, h0)
    h, total = h0, 0.0
    for t in range(TAU):
        h = np.tanh(p["W"] @ h + p["U"][:, x[t]] + p["b"])
        o = p["V"] @ h + p["c"]
        total -= math.log(np.exp(o[y[t]]) / np.exp(o).sum())
    assert loss == pytest.approx(total, rel=1e-12)
    np.testing.assert_allclose(h_last, h, rtol=1e-12)
    np.testing.assert_allclose(cache.P.sum(axis=1), 1, rtol=1e-12)
    small = rnn.init_params(8, vocab.K, rng)  # sig = .01: near-uniform p, loss ~ tau ln K
    assert rnn.forward(small, x, y, np.zeros(8))[0] == pytest.approx(TAU * math.log(vocab.K), 1e-3)


# ------------------------------------------------------------------- clip, AdaGrad
def test_clipping_is_applied_once_to_the_final_gradients():
    """K = 3 ('a', 'b', 'c'), m = 2: 10 steps where c is the target but p_c ~ 0, then 10 steps
    where p_c ~ 1 but a is the target.  dc[c] sums to ~0; clipping the running sums at every
    step (the student's bug) would give +5.  dc[a] ~ -10 is clipped to -5."""
    trainer = rnn.Trainer(rnn.RNNConfig(m=2, seq_length=20), 3, np.random.default_rng(0))
    p = trainer.params
    p["W"][...] = 0
    p["b"][...] = 0
    p["c"][...] = [-10.0, 0.0, 0.0]  # p_a ~ 0 throughout
    p["U"][...] = [[3.0, -3.0, 0.0], [-3.0, 3.0, 0.0]]
    p["V"][...] = [[0.0, 0.0], [0.0, 0.0], [-5.0, 5.0]]
    x = np.array([0] * 10 + [1] * 10)
    y = np.array([2] * 10 + [0] * 10)
    before = {k: v.copy() for k, v in p.items()}
    _, cache, _ = rnn.forward(before, x, y, np.zeros(2))
    full = rnn.backward(before, cache)

    g = cache.P.copy()
    g[np.arange(20), y] -= 1
    running = np.zeros(3)
    for t in range(20):
        running = np.clip(running + g[t], -5, 5)
    assert running[2] == pytest.approx(5, abs=1e-3)  # what per-step clipping would give

    trainer.step(x, y, np.zeros(2))
    assert abs(full["c"][2]) < 1e-3
    assert trainer.grads["c"][2] == full["c"][2]
    assert trainer.grads["c"][0] == -5 and full["c"][0] < -9.9
    for name, g_full in rnn.clip_gradients(full).items():
        np.testing.assert_array_equal(trainer.grads[name], g_full)


def test_adagrad_step_matches_a_hand_computation():
    theta = np.array([1.0, -2.0, 0.5, 0.0])
    grad = np.array([0.5, -3.0, 0.0, 1e-5])
    mem = np.array([0.0, 1.0, 4.0, 0.0])
    rnn.adagrad_(theta, grad, mem, eta=0.1, eps=1e-8)
    np.testing.assert_array_equal(mem, [0.25, 10.0, 4.0, 1e-5 * 1e-5])
    expected = [
        1.0 - 0.1 * 0.5 / math.sqrt(0.25 + 1e-8),
        -2.0 + 0.1 * 3.0 / math.sqrt(10.0 + 1e-8),
        0.5,
        -0.1 * 1e-5 / math.sqrt(1e-5 * 1e-5 + 1e-8),  # eps inside the sqrt: ~ -9.95e-3, not -0.0999
    ]
    np.testing.assert_allclose(theta, expected, rtol=1e-15, atol=0)


# --------------------------------------------------------------- the training loop
def test_position_rule():
    assert rnn.next_position(0, 60, 25) == (25, False)
    assert rnn.next_position(25, 60, 25) == (0, True)  # 50 > 60 - 25 - 1
    assert rnn.next_position(0, 76, 25) == (25, False)
    assert rnn.next_position(25, 76, 25) == (50, False)  # 50 = 76 - 26: the window still fits
    assert rnn.updates_per_epoch(1_107_542, 25) == 44_301  # the Goblet of Fire text
    for n in (26, 27, 50, 51, 52, 76, 77, 1000):
        e, count, done = 0, 0, False
        while not done:
            assert e + 25 + 1 <= n  # every window has its 25 targets
            e, done = rnn.next_position(e, n, 25)
            count += 1
        assert count == rnn.updates_per_epoch(n, 25)


def test_training_loop_carries_and_resets_hprev(corpus):
    """N = 60, tau = 25: updates at e = 0 (h0 = 0), e = 25 (h0 = last h), wrap, e = 0 (h0 = 0);
    the trainer must match a hand-written loop bit for bit, samples included."""
    vocab, data = corpus
    d = data[:60]
    cfg = rnn.RNNConfig(m=6)
    rng = np.random.default_rng(11)
    trainer = rnn.Trainer(cfg, vocab.K, copy_rng(rng))
    p = rnn.init_params(6, vocab.K, rng)
    mem = {k: np.zeros_like(v) for k, v in p.items()}
    zeros = np.zeros(6)

    smooth, best = None, None

    def manual_step(x, y, h0):
        nonlocal smooth, best
        loss, cache, h_last = rnn.forward(p, x, y, h0)
        smooth = loss if smooth is None else 0.999 * smooth + 0.001 * loss
        if best is None or smooth < best[0]:
            best = (smooth, {k: v.copy() for k, v in p.items()}, h0.copy())  # params of this pass
        for k, g in rnn.clip_gradients(rnn.backward(p, cache)).items():
            mem[k] += g * g
            p[k] -= g / np.sqrt(mem[k] + cfg.eps) * cfg.eta
        return h_last

    samples = [rnn.synthesize(p, zeros, d[0], 30, rng)]
    h1 = manual_step(d[0:25], d[1:26], zeros)
    samples.append(rnn.synthesize(p, h1, d[25], 30, rng))
    manual_step(d[25:50], d[26:51], h1)
    samples.append(rnn.synthesize(p, zeros, d[0], 30, rng))
    manual_step(d[0:25], d[1:26], zeros)

    history = rnn.train(trainer, d, 1, sample_every=1, sample_length=30)
    assert (trainer.e, trainer.epoch) == (25, 0)
    assert np.any(trainer.hprev != 0)
    history2 = rnn.train(trainer, d, 1, sample_every=1, sample_length=30)
    assert (trainer.e, trainer.epoch) == (0, 1)
    assert np.all(trainer.hprev == 0)
    history3 = rnn.train(trainer, d, 1, sample_every=1, sample_length=30)
    assert (trainer.e, trainer.epoch, trainer.update) == (25, 1, 3)
    for name in rnn.NAMES:
        np.testing.assert_array_equal(trainer.params[name], p[name])
        np.testing.assert_array_equal(trainer.mem[name], mem[name])
        np.testing.assert_array_equal(trainer.best_params[name], best[1][name])
    assert trainer.smooth_loss == smooth and trainer.best_smooth_loss == best[0]
    np.testing.assert_array_equal(trainer.best_hprev, best[2])
    got = [s for h in (history, history2, history3) for (_, _, s) in h.samples]
    assert [u for h in (history, history2, history3) for (u, _, _) in h.samples] == [0, 1, 2]
    for a, b in zip(got, samples, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_resumed_training_is_bit_identical(corpus, tmp_path, dtype):
    vocab, data = corpus
    d = data[:1_200]  # 47 updates per epoch: the run crosses several epoch ends
    cfg = rnn.RNNConfig(m=16, dtype=dtype)
    kwargs = dict(sample_every=40, sample_length=20, loss_every=10)
    one = rnn.Trainer(cfg, vocab.K, np.random.default_rng(3), vocab=vocab.to_list())
    h_one = rnn.train(one, d, 300, **kwargs)

    first = rnn.Trainer(cfg, vocab.K, np.random.default_rng(3), vocab=vocab.to_list())
    h_a = rnn.train(first, d, 137, **kwargs)
    first.save(tmp_path / "state.npz")
    assert sorted(os.listdir(tmp_path)) == ["state.npz"]
    second = rnn.Trainer.load(tmp_path / "state.npz")
    assert second.vocab == vocab.to_list() and second.config == cfg
    h_b = rnn.train(second, d, 163, **kwargs)

    assert second.theta.dtype == np.dtype(dtype)
    assert one.epoch > 3 and second.update == one.update == 300
    for key in ("theta", "mem_flat", "hprev", "best_theta", "best_hprev"):
        np.testing.assert_array_equal(getattr(second, key), getattr(one, key))
    for key in ("e", "epoch", "smooth_loss", "best_smooth_loss", "best_update"):
        assert getattr(second, key) == getattr(one, key)
    assert second.rng.bit_generator.state == one.rng.bit_generator.state
    assert h_a.smooth_loss + h_b.smooth_loss == h_one.smooth_loss
    assert [u for u, _, _ in h_a.samples + h_b.samples] == list(range(0, 300, 40))
    for (_, s1, a), (_, s2, b) in zip(h_a.samples + h_b.samples, h_one.samples, strict=True):
        assert s1 == s2
        np.testing.assert_array_equal(a, b)


def test_short_training_run_learns_the_synthetic_corpus(corpus, caplog):
    vocab, data = corpus
    trainer = rnn.Trainer(rnn.RNNConfig(m=50), vocab.K, np.random.default_rng(0))
    with caplog.at_level(logging.INFO, logger="dd2424.rnn"):
        history = rnn.train(trainer, data, 2_000, sample_every=1_000, log_every=1_000)
    assert len([r for r in caplog.records if "updates/s" in r.getMessage()]) == 2
    assert history.updates == 2_000 and history.updates_per_s > 0
    chance = TAU * math.log(vocab.K)
    assert history.smooth_loss[0][0] == 1
    assert history.smooth_loss[0][1] == pytest.approx(chance, rel=0.01)
    assert trainer.smooth_loss < 0.5 * chance
    assert trainer.best_smooth_loss <= trainer.smooth_loss
    assert [u for u, _ in history.smooth_loss] == [1, *range(100, 2_001, 100)]
    assert [u for u, _, _ in history.samples] == [0, 1_000]


# ------------------------------------------------------------------------- sampling
class FixedRandom:
    def __init__(self, *values: float) -> None:
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


def test_sample_index_is_the_first_index_with_cumsum_above_a():
    p = np.array([0.25, 0.25, 0.5])
    draws = [rnn.sample_index(p, FixedRandom(a)) for a in (0.0, 0.2499, 0.25, 0.7, 0.9999)]
    assert draws == [0, 0, 1, 2, 2]


def test_empirical_distribution_of_draws_matches_p():
    p = np.array([0.05, 0.1, 0.2, 0.3, 0.35])
    rng = np.random.default_rng(99)
    n = 20_000
    counts = np.bincount([rnn.sample_index(p, rng) for _ in range(n)], minlength=5)
    chi2 = float(((counts - n * p) ** 2 / (n * p)).sum())
    assert chi2 < 18.47  # 99.9% quantile of chi-square with 4 degrees of freedom


def test_temperature_follows_eq_10():
    o = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(rnn.sampling_distribution(o), np.exp(o) / np.exp(o).sum())
    np.testing.assert_allclose(
        rnn.sampling_distribution(o, temperature=0.5), np.exp(2 * o) / np.exp(2 * o).sum()
    )
    np.testing.assert_array_equal(rnn.sampling_distribution(o, temperature=1e-3), [0, 0, 1])


@pytest.mark.parametrize(
    ("top_p", "expected"),
    [
        (0.3, [0, 1, 0, 0, 0]),
        (0.5, [0, 0.4 / 0.7, 0, 0.3 / 0.7, 0]),
        (0.75, [0, 0.4 / 0.85, 0, 0.3 / 0.85, 0.15 / 0.85]),
        (0.9, [0.1 / 0.95, 0.4 / 0.95, 0, 0.3 / 0.95, 0.15 / 0.95]),
        (1.0, [0.1, 0.4, 0.05, 0.3, 0.15]),
    ],
)
def test_nucleus_cut_follows_eqs_11_to_13(top_p, expected):
    p = np.array([0.1, 0.4, 0.05, 0.3, 0.15])
    np.testing.assert_allclose(rnn.nucleus(p, top_p), expected, rtol=1e-12)


def test_nucleus_boundary_and_ties():
    # exact dyadic sums: 0.5 + 0.25 reaches theta = .75 exactly, so k = 2
    np.testing.assert_array_equal(
        rnn.nucleus(np.array([0.125, 0.5, 0.125, 0.25]), 0.75), [0, 2 / 3, 0, 1 / 3]
    )
    np.testing.assert_array_equal(rnn.nucleus(np.full(4, 0.25), 0.5), np.full(4, 0.25))


def test_nucleus_draws_never_hit_the_tail():
    p = np.array([0.1, 0.4, 0.05, 0.3, 0.15])
    rng = np.random.default_rng(1)
    q = rnn.nucleus(p, 0.75)
    draws = {rnn.sample_index(q, rng) for _ in range(3_000)}
    assert draws == {1, 3, 4}


def reference_synthesis(params, h0, x0, n, rng, temperature=1.0, top_p=1.0):
    """Eqs 1-4, 10-13 and spec 0.3 written out plainly, one step at a time."""
    h, xt, out = h0, x0, []
    for _ in range(n):
        h = np.tanh(params["W"] @ h + params["U"][:, xt] + params["b"])
        o = (params["V"] @ h + params["c"]) / temperature
        p = np.exp(o - o.max())
        p /= p.sum()
        if top_p < 1:
            order = np.argsort(-p, kind="stable")
            k = int(np.argmax(np.cumsum(p[order]) >= top_p))
            p = np.where(p >= p[order[k]], p, 0)
            p /= p.sum()
        cp = np.cumsum(p)
        xt = int(np.argmax(cp - rng.random() * cp[-1] > 0))
        out.append(xt)
    return np.array(out)


@pytest.mark.parametrize(("temperature", "top_p"), [(1.0, 1.0), (0.7, 1.0), (1.0, 0.8), (1.3, 0.9)])
def test_synthesize_matches_a_plain_loop(corpus, temperature, top_p):
    vocab, _ = corpus
    params = rnn.init_params(10, vocab.K, np.random.default_rng(4), sig=0.8)
    h0 = np.random.default_rng(5).standard_normal(10) * 0.1
    got = rnn.synthesize(params, h0, 3, 200, np.random.default_rng(6), temperature, top_p)
    want = reference_synthesis(params, h0, 3, 200, np.random.default_rng(6), temperature, top_p)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.intp and len(set(got.tolist())) > 3


def test_low_temperature_is_greedy(corpus):
    vocab, _ = corpus
    params = rnn.init_params(10, vocab.K, np.random.default_rng(4), sig=0.8)
    got = rnn.synthesize(params, np.zeros(10), 3, 50, np.random.default_rng(0), temperature=1e-4)
    h, xt = np.zeros(10), 3
    for t in range(50):
        h = np.tanh(params["W"] @ h + params["U"][:, xt] + params["b"])
        xt = int(np.argmax(params["V"] @ h + params["c"]))
        assert got[t] == xt
