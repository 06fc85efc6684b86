"""Adversarial inputs, each through the real entry point (the workflow or a rule): the error
names the file or config key and the fix, nothing runs that a data file asks for, and nothing
is left behind that a later run would trust (issue 12)."""

import hashlib
import io as _io
import json
import os
import pickle
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
from conftest import BIN, ROOT, TEST_CONFIG, snakemake
from inputs import Payload, archive_with, batch_bytes, cifar, output, write_config

from dd2424.data import cifar as cifar_format

pytestmark = pytest.mark.workflow

SPLIT = "data/cifar10/processed/a1.npz"


def run_target(tmp_path, overrides, target=SPLIT):
    return snakemake(
        target, "--cores", "1", "--configfile", write_config(tmp_path, overrides), cwd=tmp_path
    )


# ------------------------------------------------------------------------- 1. pickles
def test_malicious_batch_file_is_refused_before_it_runs(tmp_path, batches):
    marker = tmp_path / "PWNED"
    evil = pickle.dumps(Payload(marker), protocol=2)
    _, overrides = archive_with(tmp_path, batches, {"data_batch_1": evil})
    result = run_target(tmp_path, overrides)
    assert result.returncode != 0
    assert not marker.exists(), "the payload ran"
    assert "data_batch_1: refused to unpickle" in output(result)
    assert "posix.system" in output(result) and "data.cifar10.local_copy" in output(result)
    assert not (tmp_path / SPLIT).exists()


def test_payload_nested_in_a_valid_batch_is_refused(tmp_path, batches):
    marker = tmp_path / "PWNED"
    nested = batch_bytes(batches, {b"batch_label": Payload(marker)})
    _, overrides = archive_with(tmp_path, batches, {"data_batch_1": nested})
    result = run_target(tmp_path, overrides)  # used to succeed, exit 0, with the code run
    assert result.returncode != 0
    assert not marker.exists(), "the payload ran"
    assert "data_batch_1: refused to unpickle" in output(result)
    assert not (tmp_path / SPLIT).exists()


def test_payload_in_batches_meta_is_refused_before_it_runs(tmp_path, batches):
    marker = tmp_path / "PWNED"
    meta = pickle.dumps({b"label_names": Payload(marker)}, protocol=2)
    _, overrides = archive_with(tmp_path, batches, {"batches.meta": meta})
    figure = "results/lab1/figures/lam0_eta0.001_templates.png"
    result = run_target(tmp_path, overrides, figure)
    assert result.returncode != 0
    assert not marker.exists(), "the payload ran"
    assert "batches.meta: refused to unpickle" in output(result)
    assert not (tmp_path / figure).exists()


class Python2Pickler(pickle._Pickler):
    """Writes what the real CIFAR-10 files hold, pickled by Python 2's cPickle: bytes as
    Python 2 strings (no _codecs.encode) and NumPy 1's module name."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + len(obj).to_bytes(4, "little") + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def test_a_real_format_batch_still_loads(tmp_path, batches):
    with open(batches / "data_batch_2", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    buffer = _io.BytesIO()
    Python2Pickler(buffer, protocol=2).dump(batch)
    raw = buffer.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert b"_codecs" not in raw and b"cnumpy.core.multiarray\n_reconstruct" in raw
    (tmp_path / "data_batch_2").write_bytes(raw)
    X, y = cifar_format.load_batch(tmp_path / "data_batch_2")
    np.testing.assert_array_equal(X, batch[b"data"])
    assert y.tolist() == batch[b"labels"]


def test_checkpoints_and_splits_never_unpickle(tmp_path):
    np.save(tmp_path / "x.npy", np.array([{"a": 1}], dtype=object))
    np.savez(tmp_path / "split.npz", X=np.array([None], dtype=object))
    from dd2424 import io

    with pytest.raises(ValueError, match="allow_pickle"):
        io.load_arrays(tmp_path / "split.npz")


# ---------------------------------------------------------------- 4. damaged data, named
def test_local_copy_that_is_not_a_gzip_tar_is_named_with_the_fix(tmp_path):
    fake = tmp_path / "cifar.tar.gz"
    fake.write_bytes(b"<html>a login page, not an archive</html>" * 100)
    digest = hashlib.md5(fake.read_bytes()).hexdigest()
    result = run_target(tmp_path, cifar(local_copy=str(fake), checksum=f"md5:{digest}"))
    text = output(result)
    assert result.returncode != 0
    assert f"local copy {fake}" in text and "not a complete gzip-compressed tar" in text
    assert "data.cifar10.local_copy must be the cifar-10-python.tar.gz archive" in text
    assert not list((tmp_path / "data/cifar10").glob("cifar-10-python.tar.gz*"))


def test_truncated_batch_inside_the_archive_names_the_batch(tmp_path, batches):
    truncated = (batches / "data_batch_1").read_bytes()[:5000]
    archive, overrides = archive_with(tmp_path, batches, {"data_batch_1": truncated})
    result = run_target(tmp_path, overrides)
    text = output(result)
    assert result.returncode != 0
    assert "data_batch_1: truncated or corrupt pickle" in text
    assert str(archive) in text and "data.cifar10.checksum" in text
    assert not (tmp_path / SPLIT).exists()


def test_float_labels_are_rejected_not_truncated(tmp_path, batches):
    labels = [float(v) + 0.7 for v in range(100)]
    floats = batch_bytes(batches, {b"labels": labels})
    _, overrides = archive_with(tmp_path, batches, {"data_batch_1": floats})
    result = run_target(tmp_path, overrides)
    assert result.returncode != 0
    assert "data_batch_1: labels must be integers 0..9, got float64" in output(result)
    assert not (tmp_path / SPLIT).exists()


def test_bad_batches_meta_names_the_file(tmp_path, batches):
    meta = pickle.dumps({b"num_vis": 3072}, protocol=2)
    _, overrides = archive_with(tmp_path, batches, {"batches.meta": meta})
    figure = "results/lab1/figures/lam0_eta0.001_templates.png"
    result = run_target(tmp_path, overrides, figure)
    text = output(result)
    assert result.returncode != 0
    assert "batches.meta: not a CIFAR-10 batches.meta (expected b'label_names'" in text
    assert not (tmp_path / figure).exists()


def test_wrong_checksum_of_a_local_copy_says_how_to_accept_another_archive(tmp_path, batches):
    archive, _ = archive_with(tmp_path, batches)
    result = run_target(tmp_path, cifar(local_copy=str(archive), checksum="md5:" + "0" * 32))
    text = output(result)
    assert result.returncode != 0
    assert f"local copy {archive}: wrong md5 checksum" in text
    assert "set data.cifar10.checksum to its checksum" in text
    assert archive.exists()  # the user's file is untouched
    assert not list((tmp_path / "data/cifar10").glob("cifar-10-python.tar.gz*"))


def test_relative_local_copy_is_taken_from_where_snakemake_started(tmp_path, batches):
    start, work = tmp_path / "start", tmp_path / "work"
    (start / "archives").mkdir(parents=True)
    archive, overrides = archive_with(start / "archives", batches)
    overrides["data"]["cifar10"]["local_copy"] = "archives/cifar-10-python.tar.gz"
    config = write_config(start, overrides)
    env_cwd = {"cwd": start}
    ok = snakemake(
        SPLIT, "--cores", "1", "--configfile", config, "--directory", str(work), **env_cwd
    )
    assert ok.returncode == 0, output(ok)[-3000:]
    assert (work / SPLIT).exists()
    assert str(archive) in (work / "logs/data/download_cifar10.log").read_text()

    overrides["data"]["cifar10"]["local_copy"] = "archives/missing.tar.gz"
    config = write_config(start, overrides)
    (work / "data/cifar10/cifar-10-python.tar.gz").unlink()
    bad = snakemake(
        SPLIT, "--cores", "1", "--configfile", config, "--directory", str(work), **env_cwd
    )
    assert bad.returncode != 0
    assert f"local copy {start / 'archives/missing.tar.gz'} does not exist" in output(bad)


# -------------------------------------------------------------------------- 3. settings


# ------------------------------------------------------------------------ 2. divergence
def search_config(tmp_path, low, high):
    """Lab 2's lambda search on the synthetic test data over [10^low, 10^high]."""
    overrides = {"lab2": {"searches": {"lambda": {"coarse": {"low": low, "high": high}}}}}
    return write_config(tmp_path, overrides)


RANKED = "results/lab2/search/lambda/ranked.tsv"
FINAL = "results/lab2/search/lambda/final/metrics.json"


def test_diverged_trials_are_marked_and_ranked_last(tmp_path):
    # lambda = 10^2.5 with eta_max = 0.1: W <- (1 - 2 eta lambda) W blows up
    config = search_config(tmp_path, -4, 2.5)
    result = snakemake(FINAL, "--cores", "2", "--configfile", TEST_CONFIG, config, cwd=tmp_path)
    assert result.returncode == 0, output(result)[-3000:]
    ranked = pd.read_csv(tmp_path / RANKED, sep="\t")
    assert ranked["diverged"].any() and not ranked["diverged"].all()
    n_ok = (~ranked["diverged"]).sum()
    assert not ranked["diverged"].iloc[:n_ok].any()  # every diverged trial after every good one
    bad = ranked[ranked["diverged"]].iloc[0]
    at = int(bad["diverged_at"])
    assert at > 0
    metrics_file = (
        tmp_path / f"results/lab2/search/lambda/{bad['stage']}/{bad['trial']}/metrics.json"
    )

    def strict(token):
        raise ValueError(f"non-strict JSON token {token}")

    metrics = json.loads(metrics_file.read_text(), parse_constant=strict)
    assert metrics["diverged"] and metrics["diverged_at"] == at
    assert metrics["final_train_loss"] is None  # NaN written as null
    log = (tmp_path / f"logs/lab2/search/lambda/{bad['stage']}/{bad['trial']}.log").read_text()
    assert f"the cost is not finite at update {at} (eta_t = " in log
    assert f"lambda = {bad['lam']:g}" in log
    final = json.loads((tmp_path / "results/lab2/search/lambda/final/metrics.json").read_text())
    assert not final["diverged"] and final["settings"]["lam"] == ranked["lam"].iloc[0]


def test_a_search_whose_every_trial_diverges_fails_and_says_what_to_change(tmp_path):
    config = search_config(tmp_path, 2.5, 3)
    result = snakemake(RANKED, "--cores", "2", "--configfile", TEST_CONFIG, config, cwd=tmp_path)
    text = output(result)
    assert result.returncode != 0
    assert "every coarse trial of lab2.searches.lambda diverged" in text
    assert "lab2.searches.lambda.coarse.low/high" in text
    assert not (tmp_path / "results/lab2/search/lambda/fine_grid.tsv").exists()
    assert not (tmp_path / "results/lab2/search/lambda/final").exists()


# --------------------------------------------------------------------- 5. kill -9, recover
def test_recovery_after_a_hard_kill_matches_an_uninterrupted_run(tmp_path, offline_run):
    args = [RANKED, "--cores", "2", "--configfile", TEST_CONFIG]
    base = offline_run  # the uninterrupted run of the same config (conftest)
    work = tmp_path / "killed"
    work.mkdir()
    command = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), *args]
    child = subprocess.Popen(
        command,
        cwd=work,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    trials = work / "results/lab2/search/lambda/coarse"
    deadline = time.monotonic() + 300
    while child.poll() is None and time.monotonic() < deadline:
        if trials.exists() and any(trials.glob("*/metrics.json")):
            break
        time.sleep(0.05)
    assert child.poll() is None, "the search ended before it could be killed"
    os.killpg(child.pid, signal.SIGKILL)  # snakemake and every job it started
    child.wait()

    # what a user sees (README, "Resuming after a hard kill"): the dead snakemake's lock is
    # still there, and (killed after a trial wrote its outputs) the outputs are incomplete
    again = snakemake(*args, cwd=work)
    assert again.returncode != 0
    assert "IncompleteFilesException" in output(again) or "LockException" in output(again)
    without_unlock = snakemake("--rerun-incomplete", *args, cwd=work)
    assert without_unlock.returncode != 0 and "LockException" in output(without_unlock)
    # the documented recovery
    assert snakemake("--unlock", *args, cwd=work).returncode == 0
    resumed = snakemake("--rerun-incomplete", *args, cwd=work)
    assert resumed.returncode == 0, output(resumed)[-3000:]
    search = "results/lab2/search/lambda"
    for name in ("ranked.tsv", "coarse_grid.tsv", "fine_grid.tsv"):
        assert (work / search / name).read_bytes() == (base / search / name).read_bytes(), name
    for metrics in sorted((base / search).glob("*/*/metrics.json")):
        twin = work / metrics.relative_to(base)
        assert twin.read_bytes() == metrics.read_bytes(), metrics
