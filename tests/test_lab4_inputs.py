"""Lab 4 with inputs that cannot work (issue 12): a corpus that is not UTF-8, empty, or too short
for the settings, and settings the text is too short for.  Each case runs the real entry
point (the workflow, through Snakemake) and asserts that the error names the file or the key
and the fix, and that nothing is left that a later run would trust.

Where the length of the text is known when the workflow is parsed (a synthetic corpus, a
corpus file that exists, a local copy) the check fails before any job starts; otherwise the
job checks first, before any work."""

import hashlib

import pytest
import yaml
from conftest import ROOT, snakemake

pytestmark = pytest.mark.workflow

TEST_CONFIG = str(ROOT / "config" / "test.yaml")
GRADCHECK = "results/lab4/gradcheck.tsv"


def run(tmp_path, overrides, *targets, dry=True):
    config = tmp_path / "override.yaml"
    config.write_text(yaml.safe_dump(overrides))
    args = ["--configfile", TEST_CONFIG, str(config), "--cores", "1", *targets]
    result = snakemake(*(["-n"] if dry else []), *args, cwd=tmp_path)
    return result, result.stdout + result.stderr


def nothing_trusted(tmp_path):
    """No result, and no corpus file that a later run would take as verified."""
    results = tmp_path / "results"
    return not (results.exists() and any(p.is_file() for p in results.rglob("*")))


# ----------------------------------------------------------- parse time: length known
@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (  # today an IndexError deep inside the gradient check
            {"lab4": {"gradcheck": {"seq_length": 30_000}}},
            ["lab4.gradcheck.seq_length = 30000", "20000", "lower lab4.gradcheck.seq_length"],
        ),
        (
            {"lab4": {"gradcheck": {"batch": 1000}}},
            ["lab4.gradcheck.batch = 1000", "25001", "lower"],
        ),
        (
            {"lab4": {"train": {"seq_length": 25_000}}},
            ["lab4.runs.course.seq_length = 25000", "lower lab4.runs.course.seq_length"],
        ),
        (
            {"lab4": {"runs": {"adam": {"validation": {"fraction": 0.9995}}}}},
            ["lab4.runs.adam.validation.fraction = 0.9995", "leaving 10 to train on"],
        ),
        (
            {"lab4": {"train": {"chunks": 5000}}},
            ["lab4.runs.adam_chunks", ".chunks = 5000 cuts the text into pieces of 3 characters"],
        ),
        (
            {"lab4": {"runs": {"adam_chunks_b8": {"walk": "sequential", "batch": 2000}}}},
            ["lab4.runs.adam_chunks_b8.batch = 2000", "lower"],
        ),
        (
            {"lab4": {"runs": {"adam_chunks_b32": {"chunks": 30}}}},
            ["lab4.runs.adam_chunks_b32.batch = 32 lanes but only 30 training chunks", "raise"],
        ),
        (
            {"lab4": {"runs": {"adam": {"validation": {"mode": "chunk", "chunk": 40}}}}},
            ["lab4.runs.adam.validation.chunk = 40", "0 .. 39"],
        ),
        (
            {"lab4": {"comparisons": {"bonus": ["course", "adam"]}}},
            ["lab4.comparisons.bonus", "['course']", "no validation text"],
        ),
        (
            {"lab4": {"sampling": {"run": "course"}}},
            ["lab4.sampling.run", "'course' has no validation text"],
        ),
        ({"lab4": {"sampling": {"run": "nope"}}}, ["lab4.sampling.run", "'nope' is not a run"]),
        ({"lab4": {"runs": {"adam": {"optimizer": "sgd"}}}}, ["lab4.runs.adam", "sgd"]),
        ({"lab4": {"train": {"walk": "backwards"}}}, ["lab4.train", "backwards"]),
    ],
)
def test_settings_the_text_cannot_satisfy_fail_before_any_job(tmp_path, overrides, words):
    result, output = run(tmp_path, overrides)
    assert result.returncode != 0
    for word in words:
        assert word in output, output[-3000:]
    assert "Job stats" not in output and nothing_trusted(tmp_path)


def local_copy(tmp_path, content: bytes):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    corpus = {"source": "download", "local_copy": str(path), "checksum": f"sha256:{digest}"}
    return path, {"lab4": {"corpus": corpus}}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("Où est la plume?\n".encode("latin-1") * 100, ["is not UTF-8 text", "iconv"]),
        (b"", ["is empty", "lab4.corpus"]),
        (b"To be.\n", ["lab4.gradcheck.seq_length = 25", "the corpus has 7", "lower"]),
    ],
)
def test_a_bad_local_copy_fails_before_any_job_naming_the_file(tmp_path, content, words):
    path, overrides = local_copy(tmp_path, content)
    result, output = run(tmp_path, overrides)
    assert result.returncode != 0
    for word in words:
        assert word in output, output[-3000:]
    assert f"corpus {path}" in output
    assert "Job stats" not in output and nothing_trusted(tmp_path)


# ------------------------------------------------------ job time: length not yet known
def downloaded(tmp_path, content: bytes):
    """A corpus 'downloaded' from a file:// URL: nothing is known about it at parse time."""
    source = tmp_path / "served" / "corpus.txt"
    source.parent.mkdir()
    source.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    corpus = {
        "source": "download",
        "name": "mine",
        "url": source.as_uri(),
        "checksum": f"sha256:{digest}",
        "retries": 0,
    }
    return {"lab4": {"corpus": corpus}}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        # today: a bare UnicodeDecodeError
        ("Où est la plume?\n".encode("latin-1") * 100, ["is not UTF-8 text", "iconv"]),
        (b"", ["is empty"]),
        # today: IndexError: shape mismatch
        (b"To be, or not to be.\n", ["lab4.gradcheck.seq_length = 25", "the corpus has 21"]),
    ],
)
def test_a_bad_downloaded_corpus_fails_first_thing_in_the_job(tmp_path, content, words):
    overrides = downloaded(tmp_path, content)
    result, output = run(tmp_path, overrides, GRADCHECK, dry=False)
    assert result.returncode != 0
    log = (tmp_path / "logs/lab4/gradcheck.log").read_text()
    for word in words:
        assert word in output and word in log, output[-3000:]
    assert "data/text/mine.txt" in log
    assert "Traceback" not in log  # one clear message, not a stack trace
    assert not (tmp_path / GRADCHECK).exists() and nothing_trusted(tmp_path)
    # now that the file is there, the next run says the same before any job starts
    result, output = run(tmp_path, overrides, GRADCHECK)
    assert result.returncode != 0 and "Job stats" not in output
    assert words[0] in output, output[-3000:]
