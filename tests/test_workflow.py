"""The workflow end to end on synthetic data, in temporary directories (never the network)."""

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import BIN, ROOT, TEST_CONFIG, closed_port, snakemake

from dd2424 import io
from dd2424.data import cifar, synthetic
from dd2424.data.archive import pack_archive
from dd2424.rnn.state import TrainingState

pytestmark = pytest.mark.workflow


def test_offline_run_writes_every_result(offline_run):
    results = offline_run / "results" / "lab1"
    runs = ["lam0_eta0.1", "lam0_eta0.001", "lam0.1_eta0.001", "lam1_eta0.001"]
    for run in runs:
        for name in ("params.npz", "history.tsv", "metrics.json"):
            assert (results / "runs" / run / name).stat().st_size > 0
        for fig in ("curves", "templates"):
            png = results / "figures" / f"{run}_{fig}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(results / "test_accuracy.tsv", sep="\t")
    assert table["run"].tolist() == runs
    assert (results / "test_accuracy.md").read_text().startswith("| run")


def test_offline_run_learns_well_above_chance(offline_run):
    table = pd.read_csv(offline_run / "results/lab1/test_accuracy.tsv", sep="\t")
    assert (table["test_acc"] > 0.35).all(), table  # chance is 0.10
    history = pd.read_csv(offline_run / "results/lab1/runs/lam0_eta0.001/history.tsv", sep="\t")
    assert len(history) == 11  # t = 0 and after each of the 10 epochs
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0] - 0.3
    assert (history["train_cost"] >= history["train_loss"]).all()


def test_metrics_record_the_settings_they_ran_with(offline_run):
    metrics = json.loads((offline_run / "results/lab1/runs/lam1_eta0.001/metrics.json").read_text())
    settings = metrics["settings"]
    assert settings["lam"] == 1.0 and settings["schedule"]["eta"] == 0.001
    assert settings["n_epochs"] == 10 and settings["n_batch"] == 100
    assert metrics["n_updates"] == 10 * (1000 // 100)


def test_gradient_check_table_passes(offline_run):
    table = pd.read_csv(offline_run / "results/lab1/gradcheck.tsv", sep="\t")
    assert table["passed"].all()
    assert set(table["parameter"]) == {"W1", "b1"}
    assert (table["max_abs_diff"] < 1e-8).all() and (table["worst_vs_tolerance"] <= 1).all()
    assert "3072+10 n=10 lambda=0.1" in set(table["check"])
    assert "3072+10 svm n=10 lambda=0.1" in set(table["check"])  # bonus: the SVM loss


def test_report_builds(offline_run):
    result = snakemake(
        "--configfile", TEST_CONFIG, "--report", "results/report.html", cwd=offline_run
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (offline_run / "results/report.html").stat().st_size > 10_000


def test_figures_regenerate_without_retraining(offline_run):
    result = snakemake(
        "--cores",
        "1",
        "--configfile",
        TEST_CONFIG,
        "-n",
        "--forcerun",
        "plot_curves",
        "plot_templates",
        cwd=offline_run,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "plot_curves" in result.stdout and "plot_templates" in result.stdout
    assert "\ntrain " not in result.stdout and "preprocess" not in result.stdout


def test_lab2_figure_replicas_sit_next_to_the_course_numbers(offline_run):
    table = pd.read_csv(offline_run / "results/lab2/test_accuracy.tsv", sep="\t").set_index("run")
    assert table.loc["fig3", "course_test_acc"] == 0.4585
    assert table.loc["fig4", "course_test_acc"] == 0.4747
    assert table.loc["lambda search: final", "course_test_acc"] == 0.52
    assert (table["test_acc"] > 0.35).all()
    history = pd.read_csv(offline_run / "results/lab2/runs/fig4/history.tsv", sep="\t")
    # 3 cycles of 2 x 80 steps, evaluated every 16 steps; eta back at eta_min at the end
    assert history["update"].iloc[-1] == 480 and len(history) == 31
    assert history["eta"].max() == pytest.approx(0.1, rel=1e-9)
    assert history["eta"].iloc[-1] == pytest.approx(1e-5)


def test_lab2_gradient_check_covers_both_layers(offline_run):
    table = pd.read_csv(offline_run / "results/lab2/gradcheck.tsv", sep="\t")
    assert table["passed"].all()
    assert set(table["parameter"]) == {"W1", "b1", "W2", "b2"}
    assert {"20+50+10 n=2 lambda=0", "3072+50+10 n=10 lambda=0.01"} <= set(table["check"])


def test_search_narrows_around_the_best_coarse_trial(offline_run):
    base = offline_run / "results/lab2/search/lambda"
    coarse = pd.read_csv(base / "coarse_grid.tsv", sep="\t")
    coarse["score"] = [
        json.loads((base / f"coarse/{t}/metrics.json").read_text())["best_val_acc"]
        for t in coarse["trial"]
    ]
    fine = pd.read_csv(base / "fine_grid.tsv", sep="\t")
    assert len(coarse) == 4 and len(fine) == 3
    lo, hi = fine["range_low"].iloc[0], fine["range_high"].iloc[0]
    assert -5 <= lo < hi <= -1 and hi - lo < 4  # narrower than the coarse range
    best_x = coarse.sort_values("score", ascending=False, kind="stable")["x"].iloc[0]
    assert lo <= best_x <= hi
    assert fine["x"].between(lo, hi).all()
    for _, row in fine.iterrows():  # each fine job trained with its grid value
        metrics = json.loads((base / f"fine/{int(row['trial'])}/metrics.json").read_text())
        assert metrics["settings"]["lam"] == row["lam"]


def test_final_run_uses_the_best_lambda_of_the_ranked_table(offline_run):
    base = offline_run / "results/lab2/search/lambda"
    ranked = pd.read_csv(base / "ranked.tsv", sep="\t")
    assert len(ranked) == 7 and ranked["rank"].tolist() == list(range(1, 8))
    assert ranked["best_val_acc"].is_monotonic_decreasing
    final = json.loads((base / "final/metrics.json").read_text())
    assert final["settings"]["lam"] == ranked["lam"].iloc[0]
    assert final["n_train"] == 4800 and final["settings"]["cycles"] == 2
    best_md = (base / "best.md").read_text()
    assert best_md.index("## coarse") < best_md.index("## fine")
    assert (offline_run / "results/lab2/figures/lambda-search-final_curves.png").exists()


def test_lab3_gradient_checks_cover_depths_with_and_without_bn(offline_run):
    table = pd.read_csv(offline_run / "results/lab3/gradcheck.tsv", sep="\t")
    assert table["passed"].all()
    checks = set(table["check"])
    for sizes in ("10+50+10", "10+50+50+10", "10+50+50+50+10"):
        assert any(c.startswith(f"{sizes} n=") for c in checks), sizes
    for sizes in ("10+50+10 BN", "10+50+50+10 BN"):
        assert any(c.startswith(sizes) for c in checks), sizes
    bn = table[table["check"].str.contains(" BN ")]  # before the ReLU, the course's
    assert {"gamma1", "beta1", "gamma2", "beta2"} <= set(bn["parameter"])
    assert "b1" not in set(bn["parameter"])  # superfluous under BN, left out
    # bonus rows: BN after the ReLU keeps its biases; dropout (fixed mask) and the SVM
    after = table[table["check"].str.contains(" BN-after ")]
    assert {"b1", "gamma1", "beta1", "b2", "gamma2"} <= set(after["parameter"])
    assert any("dropout p=0.8" in c for c in checks) and any(" svm " in c for c in checks)


def test_lab3_tables_and_comparisons(offline_run):
    base = offline_run / "results/lab3"
    table = pd.read_csv(base / "test_accuracy.tsv", sep="\t").set_index("run")
    assert table.loc["k3_bn", "course_test_acc"] == 0.535 and table.loc["k3_bn", "batch_norm"]
    assert table.loc["k9", "hidden"] == "50-30-20-20-10-10-10-10"
    sensitivity = pd.read_csv(base / "sensitivity.tsv", sep="\t")
    assert len(sensitivity) == 6
    assert set(sensitivity["init"]) == {"N(0, 0.1^2)", "N(0, 0.001^2)", "N(0, 0.0001^2)"}
    assert {"final_val_acc", "test_acc", "final_train_loss"} <= set(sensitivity.columns)
    for name in ("depth3", "depth9", "sigma1e-1", "sigma1e-3", "sigma1e-4"):
        assert (base / f"figures/compare_{name}.png").stat().st_size > 10_000
    final = json.loads((base / "search/lambda/final/metrics.json").read_text())
    ranked = pd.read_csv(base / "search/lambda/ranked.tsv", sep="\t")
    assert final["settings"]["batch_norm"] and final["settings"]["lam"] == ranked["lam"].iloc[0]
    params = io.load_arrays(base / "runs/k3_bn/params.npz")
    assert {"gamma1", "beta2", "mu1", "v2"} <= set(params)  # moving averages saved too


def test_lab4_trains_the_rnn_and_writes_its_records(offline_run):
    base = offline_run / "results/lab4"
    table = pd.read_csv(base / "gradcheck.tsv", sep="\t")
    assert table["passed"].all() and list(table["parameter"]) == ["U", "W", "V", "b", "c"] * 2
    assert table["check"].iloc[-1].endswith("B=4")  # the mini-batch forward/backward
    course = base / "runs/course"
    metrics = json.loads((course / "metrics.json").read_text())
    assert metrics["updates"] == 1500 and metrics["best_by"] == "smooth loss"
    assert metrics["best_smooth_loss"] < 0.6 * metrics["initial_loss_expected"]
    assert metrics["val_characters"] == 0 and metrics["best_val_loss"] is None
    assert not any("second" in key or "per_s" in key for key in metrics)  # no wall time
    record = pd.read_csv(course / "smooth_loss.tsv", sep="\t")
    assert record["update"].tolist() == [1, *range(100, 1501, 100)]
    # B = 1, tau = 25: the loss per character is the course's smooth loss / 25
    per_char = record["smooth_loss"] / 25
    assert np.allclose(record["train_loss_per_char"], per_char, rtol=1e-6)
    samples = (course / "training_samples.md").read_text(encoding="utf-8")
    for updates in (0, 500, 1000, 1500):
        assert f"### after {updates} updates" in samples
    passages = (course / "samples.md").read_text(encoding="utf-8")
    assert "temperature = 0.5" in passages and "top_p = 0.9" in passages
    assert len((course / "passage.txt").read_text(encoding="utf-8")) == 500
    model = io.load_arrays(course / "model.npz")
    assert model["U"].shape == (32, metrics["K"]) and len(model["vocab"]) == metrics["K"]
    assert list(model["vocab"]) == sorted(model["vocab"])
    assert {"h0", "x0", "val_range"} <= set(model)
    assert not (course / "checkpoint.npz").exists()  # removed once the run completed
    assert (base / "figures/course_smooth_loss.png").stat().st_size > 10_000


def test_lab4_compares_optimizers_walks_and_batch_sizes(offline_run):
    base = offline_run / "results/lab4"
    table = pd.read_csv(base / "comparison_bonus.tsv", sep="\t").set_index("run")
    assert set(table["optimizer"]) == {"adagrad", "rmsprop", "adam"}
    assert set(table["walk"]) == {"sequential", "random", "chunks"}
    assert table.loc["adam_chunks_b32", "batch"] == 32
    assert (table["characters_seen"] == table["updates"] * table["batch"] * 25).all()
    assert (table["best_val_loss"] < np.log(52)).all()  # all learn something (K = 52)
    assert not any("second" in c or "per_s" in c for c in table.columns)
    # the training loss per character, comparable across B, not the course's smooth loss
    assert "train_loss_per_char" in table and "best_smooth_loss" not in table
    b32 = json.loads((base / "runs/adam_chunks_b32/metrics.json").read_text())
    assert b32["train_loss_per_char"] == table.loc["adam_chunks_b32", "train_loss_per_char"]
    assert b32["best_smooth_update"] <= b32["updates"]
    assert b32["train_loss_per_char_at"] == {}  # 240,000 characters: before the first mark
    for name in ("adam", "adam_chunks_b32"):
        validation = pd.read_csv(base / f"runs/{name}/validation.tsv", sep="\t")
        assert validation["update"].tolist() == [0, 100, 200, 300]
        metrics = json.loads((base / f"runs/{name}/metrics.json").read_text())
        assert metrics["best_by"] == "validation loss"
        assert metrics["best_val_loss"] == validation["val_loss"].min()
    assert (base / "figures/comparison_bonus.png").stat().st_size > 10_000
    timing = pd.read_csv(offline_run / "benchmarks/timing/lab4/comparison_bonus.tsv", sep="\t")
    assert (timing["train_seconds"] > 0).all() and "best_val_loss_within_budget" in timing
    assert (offline_run / "benchmarks/timing/lab4/comparison_bonus_seconds.png").exists()
    sampling = pd.read_csv(base / "sampling.tsv", sep="\t")
    assert len(sampling) == 4 and (sampling.loc[sampling["top_p"] == 1, "cut_rate"] == 0).all()
    assert (base / "figures/sampling.png").stat().st_size > 10_000


def test_lab4_variants_resample_without_retraining(offline_run):
    config = write_config(offline_run, {"lab4": {"passages": {"variants": [{"temperature": 0.3}]}}})
    result = snakemake("--cores", "1", "--configfile", TEST_CONFIG, config, "-n", cwd=offline_run)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rnn_sample" in result.stdout and "rnn_train" not in result.stdout


def descendants(pid: int) -> list[int]:
    """Process ids of all descendants of ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def test_a_killed_rnn_job_resumes_and_its_log_keeps_the_killed_part(tmp_path):
    """kill -9 of the training job (as when a node is lost), then the same command again:
    the run resumes from its checkpoint and its log keeps both parts."""
    config = write_config(
        tmp_path,
        {"lab4": {"runs": {"course": {"updates": 12_000, "checkpoint_every": 500}}}},
    )
    target = "results/lab4/runs/course/metrics.json"
    args = [target, "--cores", "1", "--configfile", TEST_CONFIG, config]
    cmd = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), *args]
    parent = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        env=os.environ | {"PYTHONHASHSEED": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ckpt = tmp_path / "results/lab4/runs/course/checkpoint.npz"
    deadline = time.monotonic() + 120
    while not ckpt.exists() and parent.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    jobs = [
        pid
        for pid in descendants(parent.pid)
        if b"rnn_train" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert jobs, "the training job ended before it could be killed"
    for pid in jobs:
        os.kill(pid, signal.SIGKILL)
    assert parent.wait(timeout=60) != 0
    killed_at = TrainingState.load(ckpt).update
    assert 0 < killed_at < 12_000

    result = snakemake(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    log = (tmp_path / "logs/lab4/train/course.log").read_text()
    assert log.count("job started") == 2
    assert f"resuming from results/lab4/runs/course/checkpoint.npz at update {killed_at}" in log
    assert log.index("checkpoint at update 500") < log.index("resuming from")
    assert json.loads((tmp_path / target).read_text())["updates"] == 12_000
    assert not ckpt.exists()


def write_config(tmp_path, overrides) -> str:
    path = tmp_path / "override.yaml"
    path.write_text(yaml.safe_dump(overrides))
    return str(path)


@pytest.fixture(scope="module")
def synthetic_archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    synthetic.write_synthetic_cifar(root / cifar.BATCH_DIR, n_per_batch=100, n_test=50, seed=3)
    archive = root / "cifar-10-python.tar.gz"
    pack_archive(root / cifar.BATCH_DIR, archive)
    return archive


CIFAR_TARGET = "data/cifar10/processed/a1.npz"


def cifar_overrides(**cifar10):
    return {"data": {"source": "cifar10", "cifar10": {"retries": 0, **cifar10}}}


def test_local_archive_is_verified_and_the_pipeline_continues(tmp_path, synthetic_archive):
    digest = hashlib.md5(synthetic_archive.read_bytes()).hexdigest()
    config = write_config(
        tmp_path, cifar_overrides(local_copy=str(synthetic_archive), checksum=f"md5:{digest}")
    )
    result = snakemake(CIFAR_TARGET, "--cores", "1", "--configfile", config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    log = (tmp_path / "logs/data/download_cifar10.log").read_text()
    assert "verified md5 checksum" in log
    split = io.load_arrays(tmp_path / "data/cifar10/processed/a1.npz")
    assert split["X_train"].shape == (100, 3072) and split["X_test"].shape == (50, 3072)


def test_wrong_checksum_fails_and_leaves_nothing(tmp_path, synthetic_archive):
    config = write_config(
        tmp_path, cifar_overrides(local_copy=str(synthetic_archive), checksum="md5:" + "0" * 32)
    )
    result = snakemake(CIFAR_TARGET, "--cores", "1", "--configfile", config, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "wrong md5 checksum" in output and "deleted" in output
    assert not list((tmp_path / "data/cifar10").glob("cifar-10-python.tar.gz*"))


def test_offline_download_fails_with_one_clear_message(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/cifar.tar.gz"
    config = write_config(tmp_path, cifar_overrides(url=url))
    result = snakemake(CIFAR_TARGET, "--cores", "1", "--configfile", config, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "could not download" in output and "local_copy" in output
    assert not list((tmp_path / "data/cifar10").glob("cifar-10-python.tar.gz*"))


def test_corpus_local_copy_is_verified_and_offline_download_names_the_key(tmp_path):
    text = "To be, or not to be: that is the question.\n" * 400  # long enough for lab 4
    local = tmp_path / "input.txt"
    local.write_text(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    target = "data/text/tinyshakespeare.txt"
    config = write_config(
        tmp_path, {"lab4": {"corpus": {"local_copy": str(local), "checksum": f"sha256:{digest}"}}}
    )
    result = snakemake(target, "--cores", "1", "--configfile", config, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / target).read_text() == text

    (tmp_path / target).unlink()
    url = f"http://127.0.0.1:{closed_port()}/x.txt"
    config = write_config(tmp_path, {"lab4": {"corpus": {"url": url, "retries": 0}}})
    result = snakemake(target, "--cores", "1", "--configfile", config, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "lab4.corpus.local_copy" in output
    assert not (tmp_path / target).exists()


def test_lab4_search_ranks_its_trials_by_validation_loss(offline_run):
    base = offline_run / "results/lab4/search/recipe"
    grid = pd.read_csv(base / "random_grid.tsv", sep="\t")
    ranked = pd.read_csv(base / "ranked.tsv", sep="\t")
    assert len(ranked) == len(grid) == 2 and ranked["best_val_loss"].is_monotonic_increasing
    assert ranked["tied_at_top"].iloc[0] and "train_loss_per_char" in ranked
    for _, row in ranked.iterrows():  # each trial trained with its row's values and budget
        metrics = json.loads((base / f"random/{int(row['trial'])}/metrics.json").read_text())
        values = grid.set_index("trial").loc[int(row["trial"])]
        assert metrics["settings"]["m"] == values["m"] == row["m"]
        assert json.loads(values["schedule"])["kind"] == metrics["settings"]["schedule"]["kind"]
        assert metrics["characters_seen"] >= 20_000 > metrics["characters_seen"] - 25 * row["batch"]
    best = (base / "best.md").read_text()
    assert "Ranked by best_val_loss, lower first" in best and "## random" in best
