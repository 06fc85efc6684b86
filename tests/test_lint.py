"""The quality gates of conventions §5 as tests, so the README's one test command runs them."""

import subprocess

import pytest
from conftest import BIN, ROOT, snakemake


def test_snakemake_lint(tmp_path):
    result = snakemake("--lint", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["snakefmt", "--check", "Snakefile", "workflow/"],
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
    ],
)
def test_style(command):
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
