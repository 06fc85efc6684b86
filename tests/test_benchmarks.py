"""benchmarks/run.py runs end to end on the tiny size and reports every case (no timing is
asserted: the numbers of a smoke run on a shared machine mean nothing)."""

import math
import subprocess
import sys

import pandas as pd
from conftest import ROOT

# (comparison, end of the case name, dtype) of every row the table must have
EXPECTED = [
    ("mlp", ": project", "float32"),
    ("mlp", ": project", "float64"),
    ("mlp", ": BLAS floor", "float32"),
    ("mlp", ": BLAS floor", "float64"),
    ("mlp", ": project + its 2 full evaluations", "float32"),
    ("mlp", ": PyTorch", "float32"),
    ("bn", ": project", "float32"),
    ("bn", ": BLAS floor", "float32"),
    ("bn", ": PyTorch", "float32"),
    ("wide", ": project", "float32"),
    ("wide", ": BLAS floor", "float32"),
    ("wide", ": PyTorch", "float32"),
    ("augment", "update step", "float32"),
    ("augment", "update step + augmentation (flip, translate 2)", "float32"),
    ("augment", "update step + augmentation (flip, translate 2, jitter)", "float32"),
    ("augment", "batch: plain gather (np.take, what the loop does)", "float32"),
    ("augment", "batch: augmented gather (flip, translate 2)", "float32"),
    ("augment", "batch: copy of a batch (floor)", "float32"),
    ("augment", "batch: per-element gather via index maps (other design)", "float32"),
    ("augment", "batch: Python loop of per-image slices (other design)", "float32"),
    ("rnn", ": project", "float32"),
    ("rnn", ": project", "float64"),
    ("rnn", ": one-hot reference", "float32"),
    ("rnn", ": one-hot reference", "float64"),
    ("rnn", ": PyTorch loop", "float32"),
    ("rnn", ": PyTorch nn.RNN", "float32"),
    ("rnn", ": project B=1", "float32"),
    ("rnn", ": project B=32", "float32"),
    ("rnn", ": BLAS floor B=32", "float32"),
    ("rnn", ": project m=256 B=1", "float32"),
    ("rnn", ": project m=256 B=32", "float32"),
    ("rnn", ": BLAS floor m=256 B=32", "float32"),
    ("rnn", ": PyTorch nn.RNN m=256 B=1", "float32"),
    ("rnn", ": PyTorch nn.RNN m=256 B=32", "float32"),
    ("memory", "preprocess 5 batches (45k/5k split + test)", "float32"),
    ("memory", "train 1 epoch 3072+50+10 (load + run)", "float32"),
    ("job", "start to ready (imports, log)", "float32"),
    ("job", "start to training loop (+ load, network set-up)", "float32"),
    ("job", "start to first update (+ evaluation at update 0)", "float32"),
    ("job", "start to exit (1 epoch, outputs written)", "float32"),
    ("job", "one job: peak RSS", "float32"),
    ("job", "one job: peak anonymous memory", "float32"),
    ("job", "2 concurrent jobs: peak PSS of both", "float32"),
    ("job", "2 concurrent jobs: peak anonymous memory per job", "float32"),
]


def test_benchmark_runs_on_tiny_size(tmp_path):
    out = tmp_path / "results.tsv"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--size", "tiny"]
    cmd += ["--threads", "1", "--out", str(out)]
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for heading in ("# machine", "# results", "# targets"):
        assert heading in result.stdout
    for key in ("cpu:", "numpy:", "blas:", "threads_mlp@1:"):
        assert key in result.stdout

    table = pd.read_csv(out, sep="\t", comment="#")
    cases = table[table.comparison != "target"]
    for comparison, case, dtype in EXPECTED:
        match = cases[
            (cases.comparison == comparison)
            & cases.case.str.endswith(case)
            & (cases.dtype == dtype)
        ]
        assert len(match) == 1, (comparison, case, dtype)
        value, note = match["median"].iloc[0], str(match["note"].iloc[0])
        # measured, or a PyTorch peer skipped with its reason when torch is not installed
        assert math.isfinite(value) and value > 0 or note.startswith("skipped: torch"), note
    goals = table[table.comparison == "target"]
    assert goals.case.str.startswith("MLP float32").sum() == 2
    assert goals.case.str.startswith("BN").sum() == 1
    assert goals.case.str.startswith("Wide").sum() == 2
    assert goals.case.str.startswith("Augmentation (flip, translate 2)").sum() == 1
    assert goals.case.str.startswith("RNN").sum() == 6
    assert goals.case.str.startswith("training job: process start to first update").sum() == 1
    assert goals.case.str.startswith("2 concurrent jobs: peak PSS").sum() == 1
    assert goals.case.str.startswith("preprocessing").sum() == 1
