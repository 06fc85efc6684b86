import functools
import os
import socket
import subprocess
import sys
import tempfile
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
# The environment as the suite found it, for the one command that must reach the machine's
# package mirror: installing the SLURM test cluster (tests/test_slurm.py).  No test's own
# code runs with it.
MACHINE_ENV = dict(os.environ)
os.environ.update(NO_NETWORK)


@pytest.fixture(scope="session")
def cifar_dir(tmp_path_factory) -> Path:
    """A small synthetic dataset in the exact cifar-10-batches-py layout."""
    out = tmp_path_factory.mktemp("cifar") / cifar.BATCH_DIR
    synthetic.write_synthetic_cifar(out, n_per_batch=200, n_test=100, seed=7)
    return out


@pytest.fixture(scope="session")
def batches(tmp_path_factory):
    """A small synthetic cifar-10-batches-py folder (100 images per batch)."""
    out = tmp_path_factory.mktemp("batches") / cifar.BATCH_DIR
    synthetic.write_synthetic_cifar(out, n_per_batch=100, n_test=50, seed=3)
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


# The offline run of config/test.yaml that the workflow, results and report tests share.  It
# starts in the background as soon as the tests are collected, and the tests that need it run
# last, so the rest of the suite runs while Snakemake works (2 cores: the run alone leaves one
# idle much of the time, between its jobs).
OFFLINE: dict = {}


def _start_offline_run(workdir: Path) -> None:
    env = os.environ | {"PYTHONHASHSEED": "0", "PWD": str(workdir)}
    command = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile")]
    command += ["--cores", "2", "--configfile", TEST_CONFIG]
    out = open(workdir / "offline_run.out", "w")  # closed by the fixture, once it ended
    OFFLINE["process"] = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
    )
    OFFLINE["workdir"], OFFLINE["out"] = workdir, out


@pytest.hookimpl(trylast=True)  # after -k/-m deselected what will not run
def pytest_collection_modifyitems(session, config, items):
    needs = [item for item in items if "offline_run" in getattr(item, "fixturenames", ())]
    if needs and not config.option.collectonly:
        others = [item for item in items if "offline_run" not in getattr(item, "fixturenames", ())]
        items[:] = others + needs
        _start_offline_run(config._tmp_path_factory.mktemp("offline"))


def pytest_unconfigure(config):
    process = OFFLINE.get("process")
    if process is not None and process.poll() is None:  # interrupted: stop it
        process.terminate()
        process.wait(timeout=60)


@pytest.fixture(scope="session")
def offline_run():
    """The finished offline run's working directory (the run of the default DAG on the
    synthetic test config, started in the background after collection)."""
    if "process" not in OFFLINE:  # a test selected without collection (never in practice)
        _start_offline_run(Path(tempfile.mkdtemp(prefix="offline-")))
    code = OFFLINE["process"].wait(timeout=1200)
    OFFLINE["out"].close()
    workdir = OFFLINE["workdir"]
    assert code == 0, (workdir / "offline_run.out").read_text()[-5000:]
    return workdir


@functools.cache
def offline_plan():
    """The plan of config/config.yaml with config/test.yaml merged over it (as Snakemake merges
    --configfile files): what the offline run does."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    update_config(config, yaml.safe_load(Path(TEST_CONFIG).read_text()))
    return make_plan(config)
