"""The lab-2 lambda grid on a real one-node SLURM cluster, through profiles/slurm.

Needs the SLURM executor plugin (the `slurm` extra) and the test cluster of
.ci/slurm-cluster.sh.  CI starts the cluster before pytest; elsewhere this module starts it
itself when it runs as root with apt-get at hand, and stops it afterwards.  Otherwise the tests
are skipped with the reason, except under CI=true, where they fail: a broken setup must not
pass as a skip.

One SLURM run of the synthetic config's search (results/lab2/search/lambda/ranked.tsv and its
prerequisites) shows that:
- every compute job went through sbatch: each has a SLURM job id under the run's job name in
  squeue, a log written by SLURM, and an sbatch line asking for the rule's threads, memory and
  runtime; no local rule was submitted;
- a training job killed with scancel while it runs is retried as a new SLURM job, and the
  workflow still completes;
- the ranked table equals the one of a local `--cores 2` run with the same seeds.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import BIN, ROOT

pytestmark = pytest.mark.slurm

CLUSTER_SCRIPT = ROOT / ".ci" / "slurm-cluster.sh"
PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"
TEST_CONFIG = ROOT / "config" / "test.yaml"
PARTITION = "main"  # the test cluster's only partition
TARGET = "results/lab2/search/lambda/ranked.tsv"
TIMEOUT = 420  # seconds for one Snakemake run (the SLURM run takes about 100)

# What the sbatch line of each compute rule must ask for: the rule's `threads`, `mem_mb` and
# `runtime` (workflow/rules/data.smk, gradcheck.smk, search.smk).
REQUESTS = {
    "preprocess": {"cpus-per-task": "1", "mem": "4000", "t": "20"},
    "gradcheck": {"cpus-per-task": "1", "mem": "2000", "t": "20"},
    "search_trial": {"cpus-per-task": "1", "mem": "3000", "t": "120"},
}


def trial_jobs() -> list[str]:
    """SLURM job comments (rule_<rule>_wildcards_<values>) of the search's trials."""
    search = yaml.safe_load(TEST_CONFIG.read_text())["lab2"]["searches"]["lambda"]
    return [
        f"rule_search_trial_wildcards_lab2_lambda_{stage}_{trial}"
        for stage in ("coarse", "fine")
        for trial in range(search[stage]["n"])
    ]


def expected_slurm_jobs() -> set[str]:
    """The comments of TARGET's compute jobs: every job that must go through sbatch."""
    preprocess = [f"rule_preprocess_wildcards_{split}" for split in ("a1", "all45k")]
    return {*preprocess, "rule_gradcheck_wildcards_lab2", *trial_jobs()}


# scancelled once, as soon as its training script has written its first log line
KILLED = "rule_search_trial_wildcards_lab2_lambda_coarse_1"
KILLED_LOG = "logs/lab2/search/lambda/coarse/1.log"


def cannot_run(reason: str):
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI must run the SLURM tests, but {reason}", pytrace=False)
    pytest.skip(reason)


def cluster(action: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), action], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def slurm_cluster():
    """The one-node test cluster: the running one, else started here (and stopped after)."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        cannot_run(
            "the SLURM executor plugin is not installed "
            '(pip install -c requirements/lock.txt -e ".[slurm]")'
        )
    if cluster("status", timeout=60).returncode == 0:
        yield
        return
    if os.geteuid() != 0:
        cannot_run("no test cluster is up, and starting one needs root: .ci/slurm-cluster.sh up")
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        cannot_run("no test cluster is up, and SLURM cannot be installed here (no apt-get)")
    up = cluster("up")
    if up.returncode != 0:
        cannot_run(f"the test cluster did not start:\n{up.stdout}{up.stderr}")
    yield
    cluster("down", timeout=120)


def snakemake(args: list[str], cwd: Path, limit: int = TIMEOUT) -> tuple[int, str]:
    """The workflow in ``cwd``; returns the exit code and Snakemake's output.

    `timeout -k`: Snakemake answers SIGTERM by waiting for its running jobs, so SIGKILL
    follows 15 s later; the outer subprocess timeout is a last resort.
    """
    command = ["timeout", "-k", "15", str(limit), str(BIN / "snakemake")]
    command += ["--snakefile", str(ROOT / "Snakefile"), *args]
    log = cwd / "snakemake.out"
    with log.open("w") as out:
        proc = subprocess.run(
            command,
            cwd=cwd,
            env=os.environ | {"PYTHONHASHSEED": "0"},
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=limit + 30,
            check=False,
        )
    return proc.returncode, log.read_text()


def squeue(*options: str) -> list[list[str]]:
    """squeue rows of `|`-separated --format fields."""
    out = subprocess.run(
        ["squeue", "--noheader", *options], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return [line.split("|") for line in out.splitlines() if line]


def site_profile(directory: Path) -> Path:
    """profiles/slurm with its site settings filled in for the test cluster, as a user would."""
    settings = yaml.safe_load(PROFILE.read_text())
    assert settings["executor"] == "slurm"
    site = settings["default-resources"]
    assert {"slurm_partition", "slurm_account"} <= set(site), "site settings moved?"
    site["slurm_partition"] = PARTITION
    # no slurm_account: without slurmdbd there are no accounts (the plugin then omits -A)
    settings["slurm-status-command"] = "squeue"  # no sacct without slurmdbd
    directory.mkdir()
    (directory / "config.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return directory


def kill_once_training(workdir: Path, stop: threading.Event, killed: list):
    """scancel the KILLED job of this run once its training script has started; once."""
    while not stop.wait(0.1):
        if not (workdir / KILLED_LOG).is_file() or not (workdir / KILLED_LOG).stat().st_size:
            continue
        for jobid, comment, job_dir in squeue("--states=RUNNING", "--format=%i|%k|%Z"):
            if comment == KILLED and Path(job_dir) == workdir:
                subprocess.run(["scancel", jobid], timeout=30, check=False)
                killed.append(jobid)
                return


@dataclass
class SlurmJob:
    id: str
    comment: str
    state: str
    workdir: Path


@dataclass
class SlurmRun:
    workdir: Path
    returncode: int
    output: str
    seconds: float
    killed: list[str]
    jobs: list[SlurmJob] = field(default_factory=list)

    def by_comment(self) -> dict[str, list[SlurmJob]]:
        jobs = {}
        for job in sorted(self.jobs, key=lambda job: int(job.id)):
            jobs.setdefault(job.comment, []).append(job)
        return jobs

    def submitted(self) -> dict[str, Path]:
        """SLURM job id -> its log, as Snakemake reported each submission."""
        found = re.findall(r"submitted with SLURM jobid (\d+) \(log: (\S+)\)\.", self.output)
        return {jobid: Path(log) for jobid, log in found}

    def sbatch_calls(self) -> list[str]:
        return re.findall(r"sbatch call: (sbatch .*)", self.output)


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory) -> SlurmRun:
    workdir = tmp_path_factory.mktemp("slurm")
    profile = site_profile(workdir / "profile")
    stop, killed = threading.Event(), []
    watcher = threading.Thread(target=kill_once_training, args=(workdir, stop, killed))
    watcher.start()
    start = time.monotonic()
    try:
        returncode, output = snakemake(
            [
                TARGET,
                "--workflow-profile",
                str(profile),
                # test speed: first status check after 2 s (default 40 s), keep every job's
                # SLURM log, and log the sbatch calls
                "--slurm-init-seconds-before-status-checks",
                "2",
                "--slurm-keep-successful-logs",
                "--verbose",
                "--configfile",
                str(TEST_CONFIG),
            ],
            cwd=workdir,
        )
    finally:
        stop.set()
        watcher.join(timeout=30)
    run = SlurmRun(workdir, returncode, output, time.monotonic() - start, killed)
    match = re.search(r"SLURM run ID: (\S+)", output)
    run_id = match.group(1) if match else None
    if run_id:  # every job of the run has the run ID as its SLURM job name
        rows = squeue("--states=all", f"--name={run_id}", "--format=%i|%k|%T|%Z")
        run.jobs = [SlurmJob(i, comment, state, Path(d)) for i, comment, state, d in rows]
        subprocess.run(["scancel", f"--name={run_id}"], timeout=30, check=False)  # leftovers
    print(f"SLURM run {run_id}: exit {returncode} after {run.seconds:.0f} s; killed {killed}")
    for job in sorted(run.jobs, key=lambda job: int(job.id)):
        print(f"  SLURM job {job.id:>3} {job.state:<10} {job.comment}")
    return run


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("local")
    returncode, output = snakemake(
        [TARGET, "--cores", "2", "--configfile", str(TEST_CONFIG)], cwd=workdir
    )
    assert returncode == 0, output[-5000:]
    return workdir


def test_the_workflow_completes_on_slurm(slurm_run):
    assert slurm_run.returncode == 0, slurm_run.output[-5000:]
    assert (slurm_run.workdir / TARGET).stat().st_size > 0


def test_every_compute_job_ran_as_a_slurm_job(slurm_run):
    jobs = slurm_run.by_comment()
    # every compute job has a SLURM job, and no local rule (data, grids, ranking) has one
    assert set(jobs) == expected_slurm_jobs(), slurm_run.output[-3000:]
    submitted = slurm_run.submitted()
    assert set(submitted) == {job.id for job in slurm_run.jobs}
    for comment, attempts in jobs.items():
        last = attempts[-1]
        assert last.state == "COMPLETED", (comment, attempts)
        assert last.workdir == slurm_run.workdir
        # the plugin's log of the job: SLURM writes the job's output there
        rule = comment.removeprefix("rule_").split("_wildcards_")[0]
        log = submitted[last.id]
        assert log.parent.parent == slurm_run.workdir / ".snakemake/slurm_logs" / f"rule_{rule}"
        assert log.name == f"{last.id}.log"
        slurm_log = log.read_text()
        assert f"'SLURM_JOB_ID': '{last.id}'" in slurm_log
        assert f"Finished jobid: 0 (Rule: {rule})" in slurm_log


def test_sbatch_asks_for_the_rules_threads_memory_and_runtime(slurm_run):
    calls = slurm_run.sbatch_calls()
    assert len(calls) == len(slurm_run.jobs)
    for call in calls:
        options = call.split(" --wrap=")[0]  # not the wrapped Snakemake command
        comment = re.search(r"--comment (\S+)", options).group(1)
        rule = comment.removeprefix("rule_").split("_wildcards_")[0]
        asked = dict(re.findall(r" --?(p|t|mem|cpus-per-task)[ =](\S+)", options))
        assert asked == {"p": PARTITION, **REQUESTS[rule]}, call


def test_a_job_killed_while_running_is_retried(slurm_run):
    assert slurm_run.killed, f"{KILLED} was never seen training"
    [killed] = slurm_run.killed
    attempts = [(job.id, job.state) for job in slurm_run.by_comment()[KILLED]]
    # two SLURM jobs: the one scancel killed, then Snakemake's retry
    assert len(attempts) == 2, attempts
    assert attempts[0] == (killed, "CANCELLED"), "the job finished before scancel reached it"
    assert attempts[1][1] == "COMPLETED"
    killed_log = slurm_run.submitted()[killed].read_text()  # written by SLURM for the job
    assert "rule search_trial:" in killed_log and f"JOB {killed} ON" in killed_log
    assert "CANCELLED AT" in killed_log
    assert f"SLURM-job '{killed}' failed, SLURM status is: 'CANCELLED'" in slurm_run.output
    assert "Trying to restart job" in slurm_run.output
    assert slurm_run.returncode == 0


def test_ranked_table_equals_a_local_run(slurm_run, local_run):
    on_slurm = pd.read_csv(slurm_run.workdir / TARGET, sep="\t")
    local = pd.read_csv(local_run / TARGET, sep="\t")
    assert not [column for column in local.columns if "seconds" in column]  # no wall times
    assert len(local) == len(trial_jobs())
    pd.testing.assert_frame_equal(on_slurm, local, check_exact=True)
