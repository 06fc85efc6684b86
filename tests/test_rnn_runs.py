"""Lab 4 runs: gradient check tables, the validation split and its checks, resuming after a
real kill gives the same model (every optimiser, walk and B), the saved model and the sampling
comparison, and clear errors for corpora and settings that cannot work."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from dd2424.data.text import synthetic_text
from dd2424.io import load_arrays, save_arrays
from dd2424.rnn import model as rnn_model
from dd2424.rnn import network as rnn
from dd2424.rnn import runs as rnn_runs
from dd2424.rnn import settings as rnn_settings
from dd2424.rnn.state import TrainingState

SETTINGS = {
    "m": 24,
    "seq_length": 25,
    "optimizer": "adagrad",
    "eta": None,
    "eps": 1e-8,
    "gamma": 0.9,
    "beta1": 0.9,
    "beta2": 0.999,
    "batch": 1,
    "walk": "sequential",
    "chunks": 10,
    "validation": {"mode": "none", "fraction": 0.05, "chunk": 0},
    "eval_every": 500,
    "sig": 0.01,
    "clip": 5.0,
    "smooth": 0.999,
    "dtype": "float32",
    "seed": 5,
    "epochs": 2,
    "updates": 2500,
    "loss_every": 100,
    "sample_every": 500,
    "sample_length": 30,
    "checkpoint_every": 250,
    "log_every": 1000,
}


@pytest.fixture(scope="module")
def text():
    return synthetic_text(8_000, np.random.default_rng(1))


@pytest.fixture(scope="module")
def uninterrupted(text):
    return rnn_runs.train_resumable(SETTINGS, text)


GRADCHECK = {"m": 5, "seq_length": 25, "sig": 0.01, "h": 1e-4, "seed": 400}
GRADCHECK |= {"abs_threshold": 1e-8, "rel_threshold": 1e-5}


def test_gradient_check_rows_pass_for_every_parameter(text):
    rows = rnn_runs.gradient_check(GRADCHECK, text)
    assert [r["parameter"] for r in rows] == list(rnn.NAMES)
    assert all(r["passed"] for r in rows) and all(r["max_abs_diff"] < 1e-8 for r in rows)


def test_gradient_check_of_the_mini_batch_adds_rows(text):
    rows = rnn_runs.gradient_check(GRADCHECK | {"batch": 4}, text)
    batch = [r for r in rows if r["check"].endswith("B=4")]
    assert [r["parameter"] for r in batch] == list(rnn.NAMES) and len(rows) == 10
    assert all(r["passed"] for r in rows) and all(r["max_abs_diff"] < 1e-8 for r in rows)


def test_too_long_a_gradient_check_names_the_key(text):
    with pytest.raises(rnn_settings.SettingsError, match=r"lab4\.gradcheck\.seq_length = 4000"):
        rnn_runs.gradient_check(GRADCHECK | {"seq_length": 4000, "batch": 2}, text)


def test_records_cover_the_run(uninterrupted, text):
    r = uninterrupted
    assert r.n_updates == 2500 and r.state.update == 2500 and r.resumed_from == 0
    assert [u for u, *_ in r.smooth_loss][:3] == [1, 100, 200] and r.smooth_loss[-1][0] == 2500
    # a sample before the first update, every 500 updates, and one after the last
    assert [s["update"] for s in r.samples] == [0, 500, 1000, 1500, 2000, 2500]
    assert r.samples[0]["smooth_loss"] is None and len(r.samples[1]["text"]) == 30
    K = r.vocab.K
    assert r.smooth_loss[0][1] == pytest.approx(25 * np.log(K), rel=0.02)  # uniform start
    assert r.smooth_loss[-1][1] < 0.8 * 25 * np.log(K)
    model = rnn_model.Model.from_arrays(rnn_model.model_arrays(r))
    assert len(model.generate(1000, seed=1)) == 1000


def test_epochs_set_the_length_when_updates_is_null():
    n = 1_107_542  # the Goblet text
    settings = SETTINGS | {"updates": None, "epochs": 2}
    assert rnn_settings.total_updates(settings, n) == 88_602
    # B = 4: a quarter of the updates (each lane walks a quarter of the book)
    assert rnn_settings.total_updates(settings | {"batch": 4}, n) == 2 * (4 * 11_075 // 4)
    held_out = settings | {"validation": {"mode": "tail", "fraction": 0.05}}
    assert rnn_settings.total_updates(held_out, n) == 2 * ((n - 55_377 - 26) // 25 + 1)


def test_the_validation_text_is_never_part_of_a_piece():
    n = 10_000
    for walk in ("sequential", "random", "chunks"):
        for validation in (
            {"mode": "tail", "fraction": 0.1},
            {"mode": "chunk", "chunk": 3},
        ):
            settings = SETTINGS | {"walk": walk, "batch": 3, "validation": validation}
            segments, (a, b) = rnn_settings.split(n, settings)
            assert b - a == 1000
            for start, stop in rnn_settings.pieces(n, settings):
                assert stop <= a or start >= b, (walk, validation, start, stop)
    assert rnn_settings.split(n, SETTINGS) == ([(0, n)], None)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"seq_length": 9000}, ["lab4.runs.x.seq_length = 9000", "8000"]),
        ({"validation": {"mode": "tail", "fraction": 0.999}}, ["lab4.runs.x.validation.fraction"]),
        ({"walk": "chunks", "chunks": 1000}, ["lab4.runs.x.chunks = 1000", "lower"]),
        ({"batch": 400}, ["lab4.runs.x.batch = 400", "lower"]),
        (
            {"validation": {"mode": "chunk", "chunk": 10}, "chunks": 10},
            ["lab4.runs.x.validation.chunk = 10", "0 .. 9"],
        ),
    ],
)
def test_settings_the_text_is_too_short_for_name_the_key(text, changes, words):
    with pytest.raises(rnn_settings.SettingsError) as err:
        rnn_runs.train_resumable(SETTINGS | changes, text, where="lab4.runs.x")
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("Où est".encode("latin-1"), ["not UTF-8", "iconv", "lab4.corpus.local_copy"]),
        (b"", ["is empty"]),
    ],
)
def test_a_corpus_that_cannot_be_read_names_the_file_and_the_fix(tmp_path, content, words):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(rnn_settings.SettingsError) as err:
        rnn_settings.read_corpus(path)
    assert str(path) in str(err.value)
    for word in words:
        assert word in str(err.value)


def test_checkpoint_of_other_settings_is_ignored(text, tmp_path, caplog):
    ckpt = tmp_path / "ckpt.npz"
    rnn_runs.train_resumable(SETTINGS | {"updates": 300}, text, ckpt)
    with caplog.at_level("WARNING"):
        r = rnn_runs.train_resumable(SETTINGS | {"updates": 300, "eta": 0.05}, text, ckpt)
    assert r.resumed_from == 0 and "other settings" in caplog.text


CHILD = """
import sys, json
from dd2424.rnn import runs as rnn_runs
from dd2424.data.text import read_text
settings = json.loads(sys.argv[1])
rnn_runs.train_resumable(settings, read_text(sys.argv[2]), sys.argv[3])
"""

# every optimiser, every walk, B = 1 and B > 1, with and without a validation text
KILLED = {
    "adagrad-sequential-B1": {},
    "rmsprop-random-B4-tail": {
        "optimizer": "rmsprop",
        "walk": "random",
        "batch": 4,
        "validation": {"mode": "tail", "fraction": 0.1},
        "eval_every": 200,
    },
    "adam-chunks-B3-chunk": {
        "optimizer": "adam",
        "walk": "chunks",
        "batch": 3,
        "validation": {"mode": "chunk", "fraction": 0.05, "chunk": 4},
        "eval_every": 300,
    },
    # a step size that changes every update: warm-up then cosine decay (issue 20)
    "adam-cosine-warmup-B2": {
        "optimizer": "adam",
        "eta": 0.003,
        "batch": 2,
        "schedule": {"kind": "cosine", "eta_min": 0.0003, "warmup": 200},
        "validation": {"mode": "tail", "fraction": 0.1},
        "eval_every": 250,
    },
}


@pytest.mark.parametrize("case", list(KILLED))
def test_a_killed_run_resumes_to_the_same_final_model(uninterrupted, text, tmp_path, case):
    settings = SETTINGS | KILLED[case]
    reference = uninterrupted if not KILLED[case] else rnn_runs.train_resumable(settings, text)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(text, encoding="utf-8")
    ckpt = tmp_path / "checkpoint.npz"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(settings), str(corpus), str(ckpt)],
        env=os.environ | {"OPENBLAS_NUM_THREADS": "1"},
    )
    deadline = time.monotonic() + 60
    while not ckpt.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)  # a real kill, mid-run
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    saved = TrainingState.load(ckpt).update
    assert 0 < saved < 2500

    resumed = rnn_runs.train_resumable(settings, text, ckpt)
    assert resumed.resumed_from == saved
    a, b = resumed.state, reference.state
    np.testing.assert_array_equal(a.theta, b.theta)
    for name, arr in b.opt.state().items():
        np.testing.assert_array_equal(a.opt.state()[name], arr)
    np.testing.assert_array_equal(a.best_theta, b.best_theta)
    np.testing.assert_array_equal(a.hprev, b.hprev)
    assert a.walk.state() == b.walk.state()
    assert a.smooth_loss == b.smooth_loss and a.best_update == b.best_update
    assert a.best_score == b.best_score and a.opt.eta == b.opt.eta
    assert (a.char_loss, a.best_char_update) == (b.char_loss, b.best_char_update)
    assert resumed.smooth_loss == reference.smooth_loss
    assert resumed.validation == reference.validation
    assert resumed.samples == reference.samples
    ma, mb = rnn_model.model_arrays(resumed), rnn_model.model_arrays(reference)
    assert ma.keys() == mb.keys()
    for key in ma:
        np.testing.assert_array_equal(ma[key], mb[key])


def test_the_saved_model_regenerates_the_same_passage(uninterrupted, tmp_path):
    path = tmp_path / "model.npz"
    save_arrays(path, rnn_model.model_arrays(uninterrupted))
    model = rnn_model.Model.from_arrays(load_arrays(path), path)
    state = uninterrupted.state
    from dd2424.rnn import sampling

    expected = sampling.synthesize(
        state.best_params, state.best_h0, state.best_x0, 300, np.random.default_rng(9), 0.8, 0.9
    )
    assert model.generate(300, 9, 0.8, 0.9) == uninterrupted.vocab.decode(expected)
    assert model.val_range is None
    with pytest.raises(ValueError, match="lacks"):
        rnn_model.Model.from_arrays({"U": state.params["U"]}, path)


def test_sampling_comparison_measures_the_grid(text):
    settings = SETTINGS | {
        "optimizer": "adam",
        "eta": 0.005,
        "updates": 600,
        "validation": {"mode": "tail", "fraction": 0.1},
    }
    model = rnn_model.Model.from_arrays(
        rnn_model.model_arrays(rnn_runs.train_resumable(settings, text))
    )
    assert model.val_range == (7200, 8000)
    rows = rnn_model.sampling_comparison(model, text, [0.5, 1.0], [0.5, 1.0], 600, seed=1)
    table = {(r["temperature"], r["top_p"]): r for r in rows}
    assert len(table) == 4
    assert table[(1.0, 1.0)]["cut_rate"] == 0 and table[(0.5, 1.0)]["cut_rate"] == 0
    assert table[(1.0, 0.5)]["cut_rate"] > 0.1  # a tight nucleus often cuts the truth
    # the untruncated, untempered CE is the model's own validation loss
    val = model.vocab.encode(text[7200:8000])
    own = rnn.text_loss(model.params, val) / (len(val) - 1)
    assert table[(1.0, 1.0)]["ce_kept"] == pytest.approx(own, rel=1e-5)
    for r in rows:
        assert 0 <= r["word_hit_rate"] <= 1 and 0 < r["distinct_2"] <= 1 and r["words"] > 20
    # sharper sampling repeats itself more and makes up fewer words
    assert table[(0.5, 0.5)]["distinct_2"] < table[(1.0, 1.0)]["distinct_2"]
    assert table[(0.5, 0.5)]["word_hit_rate"] > table[(1.0, 1.0)]["word_hit_rate"]
    blind = rnn_model.Model(model.params, model.vocab, model.h0, model.x0, None)
    with pytest.raises(rnn_settings.SettingsError, match="lab4.sampling.run"):
        rnn_model.sampling_comparison(blind, text, [1.0], [1.0], 10, seed=1)


def test_a_schedule_moves_the_step_size_and_a_characters_budget_sets_the_length(text):
    settings = SETTINGS | {
        "updates": None,
        "optimizer": "adam",
        "eta": 0.004,
        "batch": 4,
        "characters": 100_000,  # ceil(100,000 / (4 x 25)) = 1,000 updates
        "schedule": {"kind": "cosine", "eta_min": 0.0004, "warmup": 100},
    }
    assert rnn_settings.total_updates(settings, len(text)) == 1000
    result = rnn_runs.train_resumable(settings, text)
    state = result.state
    assert result.n_updates == 1000 and state.base_eta == 0.004
    assert state.opt.eta == pytest.approx(0.0004)  # the last update's: cosine's floor
    metrics = rnn_runs.metrics(result, len(text))
    assert metrics["eta"] == 0.004 and "cosine eta 0.004..0.0004" in metrics["schedule"]
    assert "warm-up 100" in metrics["schedule"]


def test_the_training_loss_per_character_is_on_one_scale_for_every_b(text):
    """The course's smooth loss (factor 0.999 per update) averages ~25,000 characters at
    B = 1 and ~800,000 at B = 32; the loss per character averages ~25,000 characters at any
    B: at B = 1, tau = 25 it is the smooth loss / 25."""
    b1 = rnn_runs.train_resumable(SETTINGS | {"updates": 400}, text).state
    assert b1.char_loss == pytest.approx(b1.smooth_loss / 25, rel=1e-9)
    b8 = rnn_runs.train_resumable(SETTINGS | {"updates": 400, "batch": 8}, text).state
    assert b8.config.char_smooth == pytest.approx(0.999**8)
    assert b8.char_loss < b8.smooth_loss / 25  # the per-update smooth loss lags behind
    metrics = rnn_runs.metrics(rnn_runs.train_resumable(SETTINGS | {"updates": 400}, text), 1)
    assert metrics["best_smooth_update"] <= 400 and metrics["train_loss_per_char"] > 0
    assert set(metrics["train_loss_per_char_at"]) <= {"250000", "750000", "2500000"}
