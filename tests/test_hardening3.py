"""Adversarial inputs, round 3 (issue 21): each builds the input, runs the real workflow (a dry
run where the config alone is at fault) and asserts one clear message that names the file or
config key and the fix, no traceback, and nothing left behind that looks valid."""

import hashlib
import pickle
import re

import numpy as np
import pytest
from conftest import ROOT, TEST_CONFIG, snakemake
from inputs import archive_with, output, write_config

from dd2424.data.text import synthetic_text
from dd2424.rnn.model import Model

pytestmark = pytest.mark.workflow


def run(tmp_path, *targets, configs=(), dry=False):
    """Snakemake on the synthetic test config and ``configs`` (files), for ``targets``."""
    args = [*(["-n"] if dry else []), "--cores", "2", "--configfile", TEST_CONFIG, *configs]
    result = snakemake(*args, *(["--", *targets] if targets else []), cwd=tmp_path)
    return result, output(result)


def one_clear_line(text: str, *words: str) -> None:
    """The message is there, whole on one line, with every word, and no traceback."""
    assert "Traceback" not in text, text[-3000:]
    assert any(all(w in line for w in words) for line in text.splitlines()), text[-3000:]


def nothing_under(path) -> bool:
    return not path.exists() or not any(p.is_file() for p in path.rglob("*"))


def corpus_config(tmp_path, text: str) -> str:
    """lab4's corpus: a local copy of ``text`` (checksum-verified like a download)."""
    path = tmp_path / "corpus.txt"
    path.write_bytes(text.encode("utf-8"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    corpus = {"source": "download", "name": "mine", "local_copy": str(path)}
    return write_config(tmp_path, {"lab4": {"corpus": corpus | {"checksum": f"sha256:{digest}"}}})


# ---------------------------------------------------------- 1. a NUL character in the corpus
def test_a_corpus_with_a_nul_character_trains_and_its_model_samples(tmp_path):
    text = synthetic_text(20_000, np.random.default_rng(1))
    text = text[:5000] + "\x00" + text[5000:12000] + "\x00\x00" + text[12000:]
    config = corpus_config(tmp_path, text)
    result, out = run(tmp_path, "results/lab4/runs/adam/samples.md", configs=[config])
    assert result.returncode == 0, out[-3000:]
    model = Model.load(tmp_path / "results/lab4/runs/adam/model.npz")
    assert "\x00" in model.vocab.chars and model.vocab.chars == tuple(sorted(set(text)))


# ------------------------------------------------------ 2. a range test that learns nothing
def test_a_range_test_that_never_learns_or_diverges_at_once_proposes_nothing(tmp_path):
    tests = {
        "flat": {"eta_lo": 1.0e-9, "eta_hi": 1.0e-8, "n_epochs": 2, "evaluations": 10},
        "wild": {"eta_lo": 10.0, "eta_hi": 1000.0, "n_epochs": 2, "evaluations": 10},
    }
    config = write_config(tmp_path, {"lab2": {"range_tests": tests}})
    proposal = "results/lab2/range_tests/{}/proposal.json"
    result, out = run(tmp_path, proposal.format("flat"), configs=[config])
    assert result.returncode != 0
    one_clear_line(out, "lab2.range_tests.flat:", "never rose", "raise eta_hi")
    result, out = run(tmp_path, proposal.format("wild"), configs=[config])
    assert result.returncode != 0
    one_clear_line(out, "lab2.range_tests.wild:", "lower eta_lo and eta_hi")
    assert nothing_under(tmp_path / "results/lab2/range_tests")


# ------------------------------------------------------------------ 3. a tiny temperature
def test_a_temperature_below_the_bound_is_refused_naming_the_key(tmp_path):
    passages = {"variants": [{"temperature": 1.0e-45}]}
    config = write_config(tmp_path, {"lab4": {"passages": passages}})
    result, out = run(tmp_path, configs=[config], dry=True)
    assert result.returncode != 0
    one_clear_line(out, "lab4.passages.variants.0.temperature = 1e-45", "minimum of 0.01")
    assert nothing_under(tmp_path / "results")


# --------------------------------------------------------------------- 4. an empty test batch
def empty_batch(protocol: int) -> bytes:
    batch = {b"data": np.zeros((0, 3072), np.uint8), b"labels": [], b"batch_label": b"t"}
    return pickle.dumps(batch, protocol=protocol)


@pytest.mark.parametrize("protocol", [2, 4])
def test_an_empty_test_batch_is_named_not_taken_for_a_payload(tmp_path, batches, protocol):
    _, overrides = archive_with(tmp_path, batches, {"test_batch": empty_batch(protocol)})
    result, out = run(
        tmp_path, "data/cifar10/processed/a1.npz", configs=[write_config(tmp_path, overrides)]
    )
    assert result.returncode != 0
    one_clear_line(out, "test_batch: the batch holds no images", "data.cifar10.local_copy")
    assert "refused to unpickle" not in out
    assert nothing_under(tmp_path / "data/cifar10/processed")


# ---------------------------------------------------------------- 5. a key given twice
def test_a_key_given_twice_in_a_config_file_names_the_file_the_key_and_both_lines(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("lab1:\n  headline: []\nlab2:\n  headline: []\nlab1:\n  runs: {}\n")
    result, out = run(tmp_path, configs=[str(path)], dry=True)
    assert result.returncode != 0
    one_clear_line(out, f"config file {path}: the key lab1 is given twice (lines 1 and 5)")
    path.write_text("lab1:\n  defaults:\n    lam: 0.1\n    seed: 1\n    lam: 0.2\n")
    result, out = run(tmp_path, configs=[str(path)], dry=True)
    one_clear_line(out, "the key lab1.defaults.lam is given twice (lines 3 and 5)")


# ------------------------------------------------------------------- 6. a run named ".."
@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"lab2": {"runs": {"..": {"lam": 0.1}}}}, ["config lab2.runs: the name '..'", "rename"]),
        ({"lab2": {"range_tests": {"..": {}}}}, ["config lab2.range_tests: the name '..'"]),
        (  # two names of one folder: a table named like the ablation table
            {"lab1": {"tables": {"bonus": ["lam0_eta0.1"]}}},
            ["two jobs would write results/lab1/bonus.tsv", "rename one of them"],
        ),
    ],
)
def test_a_name_that_is_not_one_path_component_or_not_unique_is_refused(tmp_path, overrides, words):
    result, out = run(tmp_path, configs=[write_config(tmp_path, overrides)], dry=True)
    assert result.returncode != 0
    one_clear_line(out, *words)


# ------------------------------------------------------- 7. one distinct character (K = 1)
def test_a_corpus_of_one_distinct_character_is_refused_before_any_job(tmp_path):
    config = corpus_config(tmp_path, "a" * 5000)
    result, out = run(tmp_path, "results/lab4/gradcheck.tsv", configs=[config])
    assert result.returncode != 0
    one_clear_line(out, "holds a single distinct character ('a', K = 1)", "lab4.corpus")
    assert nothing_under(tmp_path / "results")


# --------------------------------------------- 8. a val_size too large for a local archive
def test_a_val_size_larger_than_the_archive_names_the_key(tmp_path, batches):
    _, overrides = archive_with(tmp_path, batches)  # 100 images per batch
    overrides["splits"]["all45k"] = {"val_size": 5000}
    config = write_config(tmp_path, overrides)
    target = "data/cifar10/processed/all45k.npz"
    result, out = run(tmp_path, target, configs=[config])  # sizes unknown before extraction
    assert result.returncode != 0
    one_clear_line(out, "config splits.all45k.val_size = 5000 leaves 0 training samples")
    assert "damaged" not in out and not (tmp_path / target).exists()
    result, out = run(tmp_path, target, configs=[config])  # known now: before any job
    assert result.returncode != 0 and "Job stats" not in out
    one_clear_line(out, "config splits.all45k.val_size: 5000 leaves 0 training samples")


# --------------------------------------------------------------- 9. a bad batches.meta
def test_a_bad_batches_meta_stops_the_pipeline_before_any_training(tmp_path, batches):
    meta = pickle.dumps({b"num_vis": 3072}, protocol=2)
    _, overrides = archive_with(tmp_path, batches, {"batches.meta": meta})
    target = "results/lab1/runs/lam0_eta0.1/metrics.json"
    result, out = run(tmp_path, target, configs=[write_config(tmp_path, overrides)])
    assert result.returncode != 0
    one_clear_line(out, "batches.meta: not a CIFAR-10 batches.meta", "data.cifar10.local_copy")
    assert nothing_under(tmp_path / "results")  # no gradient check, no training


# ------------------------------------------------------------ 11. YAML's 1e-1 is text
def test_a_number_yaml_reads_as_text_gets_the_spelling_that_works(tmp_path):
    path = tmp_path / "lam.yaml"
    path.write_text("lab1:\n  runs:\n    lam0_eta0.1:\n      lam: 1e-1\n")
    result, out = run(tmp_path, configs=[str(path)], dry=True)
    assert result.returncode != 0
    one_clear_line(out, "lam = '1e-1'", "write 1.0e-1")


# -------------------------------------------------------------------------- 12. disk full
def test_a_full_disk_is_one_line_and_leaves_no_partial_file(tmp_path):
    processed = tmp_path / "data/synthetic/processed"
    processed.mkdir(parents=True)
    (processed / "a1.npz.part.npz").symlink_to("/dev/full")  # every write: ENOSPC
    result, out = run(tmp_path, "data/synthetic/processed/a1.npz")
    assert result.returncode != 0
    one_clear_line(out, "no space left on the device to write data/synthetic/processed/a1.npz")
    assert re.search(r"it needs about [\d.,]+ MB", out)
    left = list(processed.iterdir()) if processed.exists() else []
    assert not left, left  # no .part (not even the link), no .npz


# ---------------------------------------------------------- 13. what a hard kill leaves
def test_the_readme_says_what_rerunning_after_a_hard_kill_stops_with():
    readme = (ROOT / "README.md").read_text()
    paragraph = readme.split("**Resuming after a hard kill.**")[1].split("\n\n")[0]
    sentence = " ".join(paragraph.split()).split("rerunning the same command stops with ")[1]
    assert sentence.startswith("`LockException`"), sentence  # the dead run's lock, first
    assert "`IncompleteFilesException`" in sentence  # when a killed job had written outputs
