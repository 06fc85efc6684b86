"""Lab 4: vocabulary, synthetic corpus, RNN forward/BPTT (one sequence and mini-batches),
clipping, the optimisers, the walks, the training loop, sampling (plain, temperature,
nucleus) and its measures, and resumable training."""

import json
import logging
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from dd2424 import gradcheck
from dd2424.data import text
from dd2424.rnn import network as rnn
from dd2424.rnn import optim, sampling, walks
from dd2424.rnn.state import RESTORED, RNNConfig, TrainingState
from dd2424.rnn.trainer import train

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
        "from dd2424.data.text import Vocabulary, read_text\n"
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
    trainer = TrainingState(RNNConfig(m=2, seq_length=20), 3, np.random.default_rng(0))
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
    opt = optim.AdaGrad(4, np.float64, eta=0.1, eps=1e-8)
    opt.mem[...] = [0.0, 1.0, 4.0, 0.0]
    opt.step(theta, grad)
    np.testing.assert_array_equal(opt.mem, [0.25, 10.0, 4.0, 1e-5 * 1e-5])
    expected = [
        1.0 - 0.1 * 0.5 / math.sqrt(0.25 + 1e-8),
        -2.0 + 0.1 * 3.0 / math.sqrt(10.0 + 1e-8),
        0.5,
        -0.1 * 1e-5 / math.sqrt(1e-5 * 1e-5 + 1e-8),  # eps inside the sqrt: ~ -9.95e-3, not -0.0999
    ]
    np.testing.assert_allclose(theta, expected, rtol=1e-15, atol=0)


def test_rmsprop_steps_match_eqs_8_and_9():
    theta = np.array([1.0, -2.0, 0.0])
    opt = optim.make_optimizer("rmsprop", 3, np.float64)
    assert (opt.eta, opt.gamma, opt.eps) == (0.001, 0.9, 1e-8)  # the spec's defaults
    m = np.zeros(3)
    expected = theta.copy()
    for g in (np.array([0.5, -3.0, 0.0]), np.array([-1.0, 2.0, 1e-3])):
        opt.step(theta, g)
        m = 0.9 * m + 0.1 * g * g
        expected = expected - 0.001 * g / np.sqrt(m + 1e-8)
    np.testing.assert_allclose(opt.mem, m, rtol=1e-15)
    np.testing.assert_allclose(theta, expected, rtol=1e-14)


def test_adam_steps_are_bias_corrected():
    theta = np.array([1.0, -2.0, 0.0, 3.0])
    opt = optim.make_optimizer("adam", 4, np.float64, eta=0.01)
    g1 = np.array([0.5, -3.0, 1e-3, 0.0])
    opt.step(theta, g1)
    # the first bias-corrected step is eta * g / (|g| + eps): about eta * sign(g)
    first = np.array([1.0, -2.0, 0.0, 3.0]) - 0.01 * g1 / (np.abs(g1) + 1e-8)
    np.testing.assert_allclose(theta, first, rtol=1e-12)
    np.testing.assert_allclose(theta, [0.99, -1.99, -0.01, 3.0], rtol=1e-5)
    g2 = np.array([-1.0, 2.0, 0.0, 0.5])
    opt.step(theta, g2)
    m = 0.1 * 0.9 * g1 + 0.1 * g2
    v = 0.001 * 0.999 * g1**2 + 0.001 * g2**2
    step = 0.01 * (m / (1 - 0.9**2)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(opt.m, m, rtol=1e-15)
    np.testing.assert_allclose(opt.v, v, rtol=1e-15)
    assert int(opt.t) == 2
    np.testing.assert_allclose(theta, first - step, rtol=1e-12)


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "adam"])
def test_optimizer_state_round_trips(name):
    rng = np.random.default_rng(0)
    a, b = optim.make_optimizer(name, 5, np.float32), optim.make_optimizer(name, 5, np.float32)
    ta = rng.standard_normal(5).astype(np.float32)
    for _ in range(3):
        a.step(ta, rng.standard_normal(5).astype(np.float32))
    b.load_state({k: v.copy() for k, v in a.state().items()})
    tb = ta.copy()
    g = rng.standard_normal(5).astype(np.float32)
    a.step(ta, g)
    b.step(tb, g)
    np.testing.assert_array_equal(ta, tb)
    with pytest.raises(ValueError, match="unknown optimizer"):
        optim.make_optimizer("sgd", 5, np.float32)


# --------------------------------------------------------------------- mini-batches
def test_batch_forward_backward_is_the_mean_of_single_sequences(corpus, rng):
    vocab, data = corpus
    B, m = 4, 7
    p = rnn.init_params(m, vocab.K, rng, sig=0.3)
    idx = np.arange(B)[None, :] * 40 + np.arange(TAU)[:, None]  # (tau, B)
    H0 = rng.standard_normal((B, m))
    loss, cache, h_last = rnn.forward(p, data[idx], data[idx + 1], H0)
    singles = [rnn.forward(p, data[idx[:, j]], data[idx[:, j] + 1], H0[j]) for j in range(B)]
    assert loss == pytest.approx(np.mean([s[0] for s in singles]), rel=1e-12)
    np.testing.assert_allclose(h_last, [s[2] for s in singles], rtol=1e-12)
    grads = rnn.backward(p, cache)
    for name in rnn.NAMES:
        mean = np.mean([rnn.backward(p, s[1])[name] for s in singles], axis=0)
        np.testing.assert_allclose(grads[name], mean, rtol=1e-10, atol=1e-14)


def batch_gradient_check(corpus, backward=rnn.backward) -> list[gradcheck.CheckRow]:
    vocab, data = corpus
    B, m = 3, 5
    params = rnn.init_params(m, vocab.K, np.random.default_rng(7), sig=0.3)
    idx = np.arange(B)[None, :] * TAU + np.arange(TAU)[:, None]
    X, Y = data[idx], data[idx + 1]
    H0 = np.random.default_rng(8).standard_normal((B, m)) * 0.5
    _, cache, _ = rnn.forward(params, X, Y, H0)
    analytic = backward(params, cache)
    numeric = gradcheck.numerical_gradients(lambda: rnn.forward(params, X, Y, H0)[0], params, 1e-4)
    return gradcheck.compare("batch", analytic, numeric, 2e-7, 1e-6)


def test_batch_bptt_matches_numerical_gradients(corpus):
    rows = batch_gradient_check(corpus)
    assert all(r.passed for r in rows), rows


def test_batch_gradient_check_catches_a_sum_instead_of_a_mean(corpus):
    def summed(params, cache):
        B = cache.X.shape[1]
        return {k: g * B for k, g in rnn.backward(params, cache).items()}

    assert not any(r.passed for r in batch_gradient_check(corpus, summed))


def test_text_loss_carries_h_across_the_text(corpus):
    vocab, data = corpus
    d = data[:301]
    p = rnn.init_params(6, vocab.K, np.random.default_rng(2), sig=0.5)
    one_sequence, _, _ = rnn.forward(p, d[:-1], d[1:], np.zeros(6))
    assert rnn.text_loss(p, d, block=64) == pytest.approx(one_sequence, rel=1e-12)
    O, h = rnn.scores(p, d[:-1], block=7)
    assert O.shape == (300, vocab.K)
    np.testing.assert_allclose(h, rnn.forward(p, d[:-1], d[1:], np.zeros(6))[2], rtol=1e-12)


# -------------------------------------------------------------------------- walks
def test_position_rule():
    """The sequential walk with B = 1 is spec 0.5: e += tau; wrap when the next window would
    not fit (e > n - tau - 1)."""
    assert walks.windows_in(60, 25) == 2  # e = 0, 25; 50 > 60 - 25 - 1
    assert walks.windows_in(76, 25) == 3  # 50 = 76 - 26: the window still fits
    assert walks.windows_in(25, 25) == 0
    assert walks.windows_in(1_107_542, 25) == 44_301  # the Goblet of Fire text
    for n in (26, 27, 50, 51, 52, 76, 77, 1000):
        walk = walks.Walk("sequential", [(0, n)], 25, 1, np.random.default_rng(0))
        starts = []
        while walk.epoch == 0:
            s, reset = walk.next()
            assert reset[0] == (s[0] == 0)  # h0 = 0 exactly at the start of the book
            starts.append(int(s[0]))
        assert starts[:-1] == list(range(0, 25 * walks.windows_in(n, 25), 25))
        assert all(e + 25 + 1 <= n for e in starts)
        assert walk.updates_per_epoch() == walks.windows_in(n, 25)


def walk_windows(kind, pieces, batch, updates, seed=0):
    walk = walks.Walk(kind, pieces, 10, batch, np.random.default_rng(seed))
    return walk, [tuple(np.copy(a) for a in walk.next()) for _ in range(updates)]


@pytest.mark.parametrize("kind", walks.WALKS)
@pytest.mark.parametrize("batch", [1, 4])
def test_walks_stay_inside_their_pieces(kind, batch):
    pieces = [(0, 300), (400, 1000)]  # 300..400 is held out (validation)
    _, drawn = walk_windows(kind, pieces, batch, 200)
    for starts, _ in drawn:
        assert len(starts) == batch
        for e in starts:
            assert any(a <= e and e + 11 <= b for a, b in pieces), e


def test_sequential_walk_gives_each_lane_its_part_with_h_carried():
    pieces = walks.cut(0, 1000, 4)
    _, drawn = walk_windows("sequential", pieces, 4, 30)
    starts = np.array([s for s, _ in drawn])
    resets = np.array([r for _, r in drawn])
    np.testing.assert_array_equal(starts[0], [0, 250, 500, 750])
    np.testing.assert_array_equal(np.diff(starts[:24], axis=0), 10)  # 24 windows per part
    assert resets[0].all() and not resets[1:24].any() and resets[24].all()
    np.testing.assert_array_equal(starts[24], starts[0])  # epoch 2 starts over


def test_chunks_walk_visits_every_chunk_once_per_epoch_in_a_new_order():
    pieces = walks.cut(0, 400, 8)  # 8 chunks of 50: 4 windows of tau = 10 each
    walk, drawn = walk_windows("chunks", pieces, 1, 64)
    firsts = [int(s[0]) for s, r in drawn if r[0]]
    assert len(firsts) == 16 and walk.epoch == 1
    epoch1, epoch2 = firsts[:8], firsts[8:]
    assert sorted(epoch1) == sorted(epoch2) == [a for a, _ in pieces]
    assert epoch1 != epoch2  # reshuffled
    for s, r in drawn:  # inside a chunk the windows follow each other, h carried
        assert r[0] == (int(s[0]) in firsts)


def test_random_walk_resets_h_and_covers_the_pieces():
    pieces = [(0, 200), (300, 500)]
    walk, drawn = walk_windows("random", pieces, 8, 300)
    assert all(r.all() for _, r in drawn)
    starts = np.concatenate([s for s, _ in drawn])
    assert starts.min() < 20 and starts.max() > 470
    assert ((starts > 189) & (starts < 300)).sum() == 0
    assert walk.updates_per_epoch() == -(-2 * walks.windows_in(200, 10) // 8)


@pytest.mark.parametrize("kind", walks.WALKS)
def test_walk_state_round_trips(kind):
    pieces = walks.cut(0, 2000, 10)
    walk, _ = walk_windows(kind, pieces, 3, 57, seed=5)
    saved = json.loads(json.dumps(walk.state()))
    twin = walks.Walk(kind, pieces, 10, 3, np.random.default_rng(99))
    twin.load_state(saved)
    for _ in range(200):
        (a, ra), (b, rb) = walk.next(), twin.next()
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ra, rb)


def test_a_piece_too_short_for_a_window_is_refused():
    with pytest.raises(ValueError, match="shorter than seq_length"):
        walks.Walk("chunks", [(0, 100), (100, 105)], 10, 1, np.random.default_rng(0))


# --------------------------------------------------------------- the training loop
def sequential_trainer(cfg, K, rng, n, **kwargs):
    walk = walks.Walk(
        "sequential",
        walks.cut(0, n, cfg.batch),
        cfg.seq_length,
        cfg.batch,
        np.random.default_rng(1),
    )
    return TrainingState(cfg, K, rng, walk=walk, **kwargs)


def test_training_loop_carries_and_resets_hprev(corpus):
    """N = 60, tau = 25: updates at e = 0 (h0 = 0), e = 25 (h0 = last h), wrap, e = 0 (h0 = 0);
    the trainer must match a hand-written loop bit for bit, samples included."""
    vocab, data = corpus
    d = data[:60]
    cfg = RNNConfig(m=6)
    rng = np.random.default_rng(11)
    trainer = sequential_trainer(cfg, vocab.K, copy_rng(rng), 60)
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
            p[k] -= g / np.sqrt(mem[k] + cfg.eps) * 0.1
        return h_last

    samples = [sampling.synthesize(p, zeros, d[0], 30, rng)]
    h1 = manual_step(d[0:25], d[1:26], zeros)
    samples.append(sampling.synthesize(p, h1, d[25], 30, rng))
    manual_step(d[25:50], d[26:51], h1)
    samples.append(sampling.synthesize(p, zeros, d[0], 30, rng))
    manual_step(d[0:25], d[1:26], zeros)

    history = train(trainer, d, 1, sample_every=1, sample_length=30)
    assert trainer.walk.epoch == 0
    assert np.any(trainer.hprev != 0)
    history2 = train(trainer, d, 1, sample_every=1, sample_length=30)
    history3 = train(trainer, d, 1, sample_every=1, sample_length=30)
    assert (trainer.walk.epoch, trainer.update) == (1, 3)
    layout = trainer.layout
    for name in rnn.NAMES:
        np.testing.assert_array_equal(trainer.params[name], p[name])
        a, b, shape = layout[name]
        np.testing.assert_array_equal(trainer.opt.mem[a:b].reshape(shape), mem[name])
        np.testing.assert_array_equal(trainer.best_params[name], best[1][name])
    assert trainer.smooth_loss == smooth and trainer.best_smooth_loss == best[0]
    np.testing.assert_array_equal(trainer.best_h0, best[2])
    got = [s for h in (history, history2, history3) for (_, _, s) in h.samples]
    assert [u for h in (history, history2, history3) for (u, _, _) in h.samples] == [0, 1, 2]
    for a, b in zip(got, samples, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("optimizer", "kind", "batch", "dtype", "validate"),
    [
        ("adagrad", "sequential", 1, "float64", False),
        ("adagrad", "sequential", 1, "float32", True),
        ("rmsprop", "random", 1, "float32", True),
        ("rmsprop", "chunks", 4, "float32", False),
        ("adam", "chunks", 1, "float32", True),
        ("adam", "sequential", 3, "float32", True),
        ("adam", "random", 5, "float64", False),
        ("adagrad", "chunks", 2, "float32", True),
    ],
)
def test_resumed_training_is_bit_identical(
    corpus, tmp_path, optimizer, kind, batch, dtype, validate
):
    vocab, data = corpus
    d = data[:1_200]  # 47 windows per epoch: the run crosses several epoch ends
    val = data[1_200:1_500] if validate else None
    cfg = RNNConfig(m=16, dtype=dtype, optimizer=optimizer, batch=batch)
    kwargs = dict(sample_every=40, sample_length=20, loss_every=10, val=val, eval_every=25, end=300)
    pieces = walks.cut(0, 1_200, 8 if kind == "chunks" else batch)
    select = "validation" if validate else "smooth"

    def fresh():
        walk = walks.Walk(kind, pieces, cfg.seq_length, batch, np.random.default_rng([1, 3]))
        return TrainingState(cfg, vocab.K, np.random.default_rng(3), vocab.to_list(), walk, select)

    one = fresh()
    h_one = train(one, d, 300, **kwargs)
    first = fresh()
    h_a = train(first, d, 137, **kwargs)
    first.save(tmp_path / "state.npz")
    assert sorted(os.listdir(tmp_path)) == ["state.npz"]
    second = TrainingState.load(tmp_path / "state.npz")
    assert second.vocab == vocab.to_list() and second.config == cfg
    h_b = train(second, d, 163, **kwargs)

    assert second.theta.dtype == np.dtype(dtype)
    assert second.update == one.update == 300 and one.walk.epoch >= 2
    for key in ("theta", "hprev", "best_theta", "best_h0"):
        np.testing.assert_array_equal(getattr(second, key), getattr(one, key))
    for name, arr in one.opt.state().items():
        np.testing.assert_array_equal(second.opt.state()[name], arr)
    for key in ("best_x0", *RESTORED):
        assert getattr(second, key) == getattr(one, key)
    assert second.walk.state() == one.walk.state()
    assert second.rng.bit_generator.state == one.rng.bit_generator.state
    assert h_a.smooth_loss + h_b.smooth_loss == h_one.smooth_loss
    strip = [(u, v) for u, v, _ in h_one.validation]
    assert [(u, v) for u, v, _ in h_a.validation + h_b.validation] == strip
    if validate:
        assert [u for u, _ in strip] == [0, *range(25, 301, 25)]
        assert second.best_score == min(v for _, v in strip)
    assert [u for u, _, _ in h_a.samples + h_b.samples] == list(range(0, 300, 40))
    for (_, s1, a), (_, s2, b) in zip(h_a.samples + h_b.samples, h_one.samples, strict=True):
        assert s1 == s2
        np.testing.assert_array_equal(a, b)


def test_validation_rule_keeps_the_parameters_of_the_best_evaluation(corpus):
    vocab, data = corpus
    cfg = RNNConfig(m=12, dtype="float64", optimizer="adam", eta=0.01)
    walk = walks.Walk("sequential", [(0, 2000)], 25, 1, np.random.default_rng(0))
    trainer = TrainingState(cfg, vocab.K, np.random.default_rng(0), walk=walk, select="validation")
    val = data[2000:2600]
    history = train(trainer, data, 200, val=val, eval_every=50, end=200)
    scores = [v for _, v, _ in history.validation]
    best = int(np.argmin(scores))
    assert trainer.best_update == history.validation[best][0]
    from dd2424.rnn.trainer import validation_loss

    assert validation_loss(trainer.best_params, val) == scores[best]
    assert scores[-1] < scores[0] - 0.3  # it learns


def test_short_training_run_learns_the_synthetic_corpus(corpus, caplog):
    vocab, data = corpus
    trainer = sequential_trainer(RNNConfig(m=50), vocab.K, np.random.default_rng(0), len(data))
    with caplog.at_level(logging.INFO, logger="dd2424.rnn.trainer"):
        history = train(trainer, data, 2_000, sample_every=1_000, log_every=1_000)
    assert len([r for r in caplog.records if "updates/s" in r.getMessage()]) == 2
    assert history.updates == 2_000 and history.updates_per_s > 0
    chance = TAU * math.log(vocab.K)
    assert history.smooth_loss[0][0] == 1
    assert history.smooth_loss[0][1] == pytest.approx(chance, rel=0.01)
    assert trainer.smooth_loss < 0.5 * chance
    assert trainer.best_smooth_loss <= trainer.smooth_loss
    assert [u for u, *_ in history.smooth_loss] == [1, *range(100, 2_001, 100)]
    assert [u for u, _, _ in history.samples] == [0, 1_000]


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
@pytest.mark.parametrize("batch", [1, 8])
def test_every_optimizer_and_batch_size_learns(corpus, optimizer, batch):
    vocab, data = corpus
    cfg = RNNConfig(m=32, optimizer=optimizer, batch=batch, eta=0.003 if batch > 1 else None)
    walk = walks.Walk("chunks", walks.cut(0, 18_000, 40), 25, batch, np.random.default_rng(0))
    trainer = TrainingState(cfg, vocab.K, np.random.default_rng(0), walk=walk, select="validation")
    history = train(trainer, data, 600, val=data[18_000:], eval_every=600, end=600)
    (_, before, _), (_, after, _) = history.validation
    assert before == pytest.approx(math.log(vocab.K), rel=0.01)
    assert after < before - 0.8, (before, after)


# ------------------------------------------------------------------------- sampling
class FixedRandom:
    def __init__(self, *values: float) -> None:
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


def test_sample_index_is_the_first_index_with_cumsum_above_a():
    p = np.array([0.25, 0.25, 0.5])
    draws = [sampling.sample_index(p, FixedRandom(a)) for a in (0.0, 0.2499, 0.25, 0.7, 0.9999)]
    assert draws == [0, 0, 1, 2, 2]


def test_empirical_distribution_of_draws_matches_p():
    p = np.array([0.05, 0.1, 0.2, 0.3, 0.35])
    rng = np.random.default_rng(99)
    n = 20_000
    counts = np.bincount([sampling.sample_index(p, rng) for _ in range(n)], minlength=5)
    chi2 = float(((counts - n * p) ** 2 / (n * p)).sum())
    assert chi2 < 18.47  # 99.9% quantile of chi-square with 4 degrees of freedom


def test_temperature_follows_eq_10():
    o = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(sampling.sampling_distribution(o), np.exp(o) / np.exp(o).sum())
    np.testing.assert_allclose(
        sampling.sampling_distribution(o, temperature=0.5), np.exp(2 * o) / np.exp(2 * o).sum()
    )
    np.testing.assert_array_equal(sampling.sampling_distribution(o, temperature=1e-3), [0, 0, 1])


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
    np.testing.assert_allclose(sampling.nucleus(p, top_p), expected, rtol=1e-12)


def test_nucleus_boundary_and_ties():
    # exact dyadic sums: 0.5 + 0.25 reaches theta = .75 exactly, so k = 2
    np.testing.assert_array_equal(
        sampling.nucleus(np.array([0.125, 0.5, 0.125, 0.25]), 0.75), [0, 2 / 3, 0, 1 / 3]
    )
    np.testing.assert_array_equal(sampling.nucleus(np.full(4, 0.25), 0.5), np.full(4, 0.25))


def test_nucleus_draws_never_hit_the_tail():
    p = np.array([0.1, 0.4, 0.05, 0.3, 0.15])
    rng = np.random.default_rng(1)
    q = sampling.nucleus(p, 0.75)
    draws = {sampling.sample_index(q, rng) for _ in range(3_000)}
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
    got = sampling.synthesize(params, h0, 3, 200, np.random.default_rng(6), temperature, top_p)
    want = reference_synthesis(params, h0, 3, 200, np.random.default_rng(6), temperature, top_p)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.intp and len(set(got.tolist())) > 3


def test_low_temperature_is_greedy(corpus):
    vocab, _ = corpus
    params = rnn.init_params(10, vocab.K, np.random.default_rng(4), sig=0.8)
    got = sampling.synthesize(
        params, np.zeros(10), 3, 50, np.random.default_rng(0), temperature=1e-4
    )
    h, xt = np.zeros(10), 3
    for t in range(50):
        h = np.tanh(params["W"] @ h + params["U"][:, xt] + params["b"])
        xt = int(np.argmax(params["V"] @ h + params["c"]))
        assert got[t] == xt


# -------------------------------------------------------------- sampling measures
@pytest.mark.parametrize(("temperature", "top_p"), [(1.0, 1.0), (0.7, 0.9), (1.5, 0.5), (1.0, 0.3)])
def test_row_wise_sampling_probabilities_match_sampling_distribution(temperature, top_p):
    O = np.random.default_rng(3).standard_normal((50, 12)) * 2
    O[0, :4] = 1.0  # ties at the cut
    log_q, kept = sampling.log_sampling_probs(O, temperature, top_p)
    for row, lq, k in zip(O, log_q, kept, strict=True):
        q = sampling.sampling_distribution(row, temperature, top_p)
        np.testing.assert_allclose(np.exp(lq), q, rtol=1e-12, atol=1e-300)
        np.testing.assert_array_equal(k, q > 0)


def test_sampling_cross_entropy_reports_cut_positions_apart():
    O = np.log(np.array([[0.7, 0.2, 0.1], [0.7, 0.2, 0.1], [0.1, 0.2, 0.7]]))
    y = np.array([0, 2, 1])
    plain = sampling.sampling_cross_entropy(O, y)
    expected = -(np.log(0.7) + np.log(0.1) + np.log(0.2)) / 3
    assert plain["cut_rate"] == 0 and plain["ce_kept"] == pytest.approx(expected, rel=1e-12)
    cut = sampling.sampling_cross_entropy(O, y, top_p=0.85)  # keeps {0.7, 0.2}
    assert cut["cut_rate"] == pytest.approx(1 / 3)
    kept = -(np.log(0.7 / 0.9) + np.log(0.2 / 0.9)) / 2
    assert cut["ce_kept"] == pytest.approx(kept, rel=1e-12)
    assert math.isnan(sampling.sampling_cross_entropy(O[:1], y[1:2], top_p=0.5)["ce_kept"])


def test_word_measures():
    assert sampling.words("O'er the hills, 'tis 3 DAYS_away!") == [
        "o'er",
        "the",
        "hills",
        "tis",
        "days",
        "away",
    ]
    assert sampling.word_hit_rate("The king; the quene.", {"the", "king", "queen"}) == 0.75
    assert math.isnan(sampling.word_hit_rate("... 42", {"the"}))
    assert sampling.distinct_n(["a", "b", "a", "b", "a"], 2) == 0.5  # ab ba ab ba
    assert sampling.distinct_n(["a", "b", "c"], 3) == 1.0
    assert math.isnan(sampling.distinct_n(["a"], 2))


def test_any_positive_temperature_samples_a_valid_distribution():
    """o / T overflowed float32 for T = 1e-45 (NaN probabilities, issue 21): the scores are
    shifted by their maximum first, in float64, so the T -> 0 limit is the argmax."""
    o = np.array([1.0, 3.0, 2.5, -4.0], dtype=np.float32)
    for T in (1e-45, 1e-10, 1e-3):
        p = sampling.sampling_distribution(o, T)
        assert np.isfinite(p).all() and p.sum() == pytest.approx(1.0)
        assert int(np.argmax(p)) == 1 and p[1] == pytest.approx(1.0)
    log_q, kept = sampling.log_sampling_probs(o[None, :], 1e-45)
    assert np.isfinite(log_q[kept]).all() and log_q[0, 1] == 0.0
