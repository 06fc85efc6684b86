"""Lab 4 runs: gradient check table, and resuming after a real kill gives the same model."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from dd2424 import rnn, rnn_runs
from dd2424.text import synthetic_text

SETTINGS = {
    "m": 24,
    "seq_length": 25,
    "eta": 0.1,
    "sig": 0.01,
    "eps": 1e-8,
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


def test_gradient_check_rows_pass_for_every_parameter(text):
    spec = {"m": 5, "seq_length": 25, "sig": 0.01, "h": 1e-4, "seed": 400}
    rows = rnn_runs.gradient_check(spec | {"abs_threshold": 1e-8, "rel_threshold": 1e-5}, text)
    assert [r["parameter"] for r in rows] == list(rnn.NAMES)
    assert all(r["passed"] for r in rows) and all(r["max_abs_diff"] < 1e-8 for r in rows)


def test_records_cover_the_run(uninterrupted, text):
    r = uninterrupted
    assert r.n_updates == 2500 and r.state.update == 2500 and r.resumed_from == 0
    assert [u for u, _ in r.smooth_loss][:3] == [1, 100, 200] and r.smooth_loss[-1][0] == 2500
    # a sample before the first update, every 500 updates, and one after the last
    assert [s["update"] for s in r.samples] == [0, 500, 1000, 1500, 2000, 2500]
    assert r.samples[0]["smooth_loss"] is None and len(r.samples[1]["text"]) == 30
    K = r.vocab.K
    assert r.smooth_loss[0][1] == pytest.approx(25 * np.log(K), rel=0.02)  # uniform start
    assert r.smooth_loss[-1][1] < 0.8 * 25 * np.log(K)
    assert len(rnn_runs.passage(r, 1000, seed=1)) == 1000


def test_epochs_set_the_length_when_updates_is_null():
    n = 1_107_542  # the Goblet text
    assert rnn_runs.total_updates({"updates": None, "epochs": 2, "seq_length": 25}, n) == 88_602


def test_checkpoint_of_other_settings_is_ignored(text, tmp_path, caplog):
    ckpt = tmp_path / "ckpt.npz"
    rnn_runs.train_resumable(SETTINGS | {"updates": 300}, text, ckpt)
    with caplog.at_level("WARNING"):
        r = rnn_runs.train_resumable(SETTINGS | {"updates": 300, "eta": 0.05}, text, ckpt)
    assert r.resumed_from == 0 and "other settings" in caplog.text


CHILD = """
import sys, json
from dd2424 import rnn_runs
from dd2424.text import read_text
settings = json.loads(sys.argv[1])
rnn_runs.train_resumable(settings, read_text(sys.argv[2]), sys.argv[3])
"""


def test_a_killed_run_resumes_to_the_same_final_model(uninterrupted, text, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(text, encoding="utf-8")
    ckpt = tmp_path / "checkpoint.npz"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(SETTINGS), str(corpus), str(ckpt)],
        env=os.environ | {"OPENBLAS_NUM_THREADS": "1"},
    )
    deadline = time.monotonic() + 60
    while not ckpt.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)  # a real kill, mid-run
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    saved = rnn.Trainer.load(ckpt).update
    assert 0 < saved < 2500

    resumed = rnn_runs.train_resumable(SETTINGS, text, ckpt)
    assert resumed.resumed_from == saved
    a, b = resumed.state, uninterrupted.state
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.mem_flat, b.mem_flat)
    np.testing.assert_array_equal(a.best_theta, b.best_theta)
    assert a.smooth_loss == b.smooth_loss and a.best_update == b.best_update
    assert resumed.smooth_loss == uninterrupted.smooth_loss
    assert resumed.samples == uninterrupted.samples
    assert rnn_runs.passage(resumed, 200, 3) == rnn_runs.passage(uninterrupted, 200, 3)
