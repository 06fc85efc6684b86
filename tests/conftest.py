import functools
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from snakemake.utils import update_config

from dd2424.data import cifar, synthetic
from dd2424.plan import make_plan

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TEST_CONFIG = str(ROOT / "config" / "test.yaml")


# Tests never touch the network: every HTTP(S) request outside loopback goes to a proxy on
# a closed port (refused at once), in this process and in every subprocess it starts.
NO_NETWORK = {
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "no_proxy": "127.0.0.1,localhost",
}
os.environ.update(NO_NETWORK)


@pytest.fixture(scope="session")
def cifar_dir(tmp_path_factory) -> Path:
    """A small synthetic dataset in the exact cifar-10-batches-py layout."""
    out = tmp_path_factory.mktemp("cifar") / cifar.BATCH_DIR
    synthetic.write_synthetic_cifar(out, n_per_batch=200, n_test=100, seed=7)
    return out


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def snakemake(
    *args: str,
    cwd: Path,
    timeout: float = 600,
    env: dict | None = None,
    snakefile: Path = ROOT / "Snakefile",
) -> subprocess.CompletedProcess:
    """Run the repository's workflow (or ``snakefile``) with the test environment's snakemake,
    in ``cwd`` (with PWD set to it, as a shell does, and PYTHONHASHSEED=0 unless ``env`` says
    otherwise)."""
    env = os.environ | {"PYTHONHASHSEED": "0", "PWD": str(cwd)} | (env or {})
    return subprocess.run(
        [str(BIN / "snakemake"), "--snakefile", str(snakefile), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def offline_run(tmp_path_factory):
    """One full run of the default DAG on the synthetic test config (shared by the workflow,
    results and report tests)."""
    workdir = tmp_path_factory.mktemp("offline")
    result = snakemake("--cores", "2", "--configfile", TEST_CONFIG, cwd=workdir)
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


@functools.cache
def offline_plan():
    """The plan of config/config.yaml with config/test.yaml merged over it (as Snakemake merges
    --configfile files): what the offline run does."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    update_config(config, yaml.safe_load(Path(TEST_CONFIG).read_text()))
    return make_plan(config)
