"""Lab 4 with inputs that cannot work (issue 12): a corpus that is not UTF-8, empty, or too short
for the settings, and settings the text is too short for.  Each case runs the real entry
point (the workflow, through Snakemake) and asserts that the error names the file or the key
and the fix, and that nothing is left that a later run would trust.

Where the length of the text is known when the workflow is parsed (a synthetic corpus, a
corpus file that exists, a local copy) the plan fails before any job starts (those cases are
checked in-process, tests/test_plan.py); otherwise the job checks first, before any work."""

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
