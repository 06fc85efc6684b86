"""Lab 2's searches on a real one-node SLURM cluster, through profiles/slurm.

Needs the SLURM executor plugin (the `slurm` extra) and the test cluster of
.ci/slurm-cluster.sh.  CI starts the cluster before pytest; elsewhere this module starts it
itself when it runs as root with apt-get at hand, and stops it afterwards.  Otherwise the tests
are skipped with the reason, except under CI=true, where they fail: a broken setup must not
pass as a skip.

One SLURM run of the synthetic config's lab-2 random search, grown to 40 trials, through the
profile as shipped with its site settings filled in for the test cluster (partition, no
accounting), shows that:
- every compute job went through sbatch and no local rule did; search trials went N = 10 to a
  cluster job (the profile's groups): the random search's 40 trials in 4 cluster jobs, each
  trial inside one of them, each cluster job asking for 1 CPU, one trial's memory and its
  trials' runtime added up;
- a cluster job killed with scancel while a trial in it trains is retried as a new SLURM job,
  and the workflow still completes;
- the ranked table equals the one of a local run with the same seeds (started at the same
  time, on one core, while the cluster jobs queue and run).
A dry run of both lab-2 searches shows that a coarse-to-fine search groups each stage apart.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import BIN, MACHINE_ENV, ROOT

pytestmark = pytest.mark.slurm

CLUSTER_SCRIPT = ROOT / ".ci" / "slurm-cluster.sh"
PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"
TEST_CONFIG = ROOT / "config" / "test.yaml"
PARTITION = "main"  # the test cluster's only partition
TARGET = "results/lab2/search/random/ranked.tsv"
RANDOM_TRIALS = 40
GROUP_SIZE = 10  # the profile's group-components
CORES = 1  # the profile's `cores`: a cluster job runs its trials one after another
TIMEOUT = 420  # seconds for one Snakemake run (the SLURM run takes about 150)
# a group job runs each of its trials as a Snakemake of its own (the jobstep plugin's srun):
# about 2 s of start-up per trial on the test node, 10 trials in 20-30 s

# What the sbatch line of each compute rule must ask for: the rule's `threads`, `mem_mb` and
# `runtime` (workflow/rules/data.smk, gradcheck.smk; dd2424.plan.mlp.MEMORY_MB)
REQUESTS = {
    "preprocess": {"cpus-per-task": "1", "mem": "4000", "t": "20"},
    "gradcheck": {"cpus-per-task": "1", "mem": "2000", "t": "20"},
}
TRIAL = {"mem_mb": 1500, "runtime": 30}  # rule search_trial, one float32 trial


def stage_trials() -> dict[str, int]:
    """{group (search_stage): number of trials} of the run."""
    return {"random_random": RANDOM_TRIALS}


def group_comment(stage: str) -> str:
    """The SLURM comment of a cluster job of the group of one search stage."""
    return f"rule_trials_lab2_{stage}_search_trial"


def expected_slurm_jobs() -> dict[str, int]:
    """{SLURM comment: cluster jobs} of the targets' compute jobs: everything that must go
    through sbatch."""
    jobs = {"rule_preprocess_wildcards_a1": 1, "rule_gradcheck_wildcards_lab2": 1}
    for stage, n in stage_trials().items():
        jobs[group_comment(stage)] = -(-n // GROUP_SIZE)
    return jobs


# a cluster job of the random search's trials is scancelled once, as soon as this trial's
# script has written to its log: the running trial jobs then hold trials the kill interrupts
# (the 2-CPU node runs two 1-CPU cluster jobs at a time; which of them is killed does not
# matter, each is one group of the same comment)
KILLED = group_comment("random_random")
KILLED_LOG = "logs/lab2/search/random/random/1.log"


def cannot_run(reason: str):
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI must run the SLURM tests, but {reason}", pytrace=False)
    pytest.skip(reason)


def cluster(action: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """.ci/slurm-cluster.sh ACTION with the machine's own environment: `up` may run apt-get,
    which must use the machine's proxy settings, not the suite's closed port."""
    return subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), action],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=MACHINE_ENV,
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
    assert settings["group-components"] == [
        f"{group}={GROUP_SIZE}"
        for group in ("trials_{lab}_{search}_{stage}", "trials_lab4_{search}", "runs_{lab}")
    ]
    assert settings["cores"] == CORES
    directory.mkdir()
    (directory / "config.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return directory


def kill_once_training(workdir: Path, stop: threading.Event, killed: list):
    """scancel a running cluster job of this run with the KILLED comment once the trial of
    KILLED_LOG has started; once."""
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


def many_trials(workdir: Path) -> Path:
    """The config file that grows the random search to RANDOM_TRIALS trials."""
    path = workdir / "random40.yaml"
    path.write_text(f"lab2: {{searches: {{random: {{trials: {RANDOM_TRIALS}}}}}}}\n")
    return path


@pytest.fixture(scope="module")
def local_started(slurm_cluster, tmp_path_factory):
    """The local run, started in the background; (its directory, its future)."""
    workdir = tmp_path_factory.mktemp("local")
    args = [TARGET, "--cores", "1", "--configfile", str(TEST_CONFIG), str(many_trials(workdir))]
    with ThreadPoolExecutor(1) as pool:
        yield workdir, pool.submit(snakemake, args, workdir)


@pytest.fixture(scope="module")
def slurm_run(local_started, tmp_path_factory) -> SlurmRun:
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
                str(many_trials(workdir)),
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
def local_run(local_started) -> Path:
    workdir, future = local_started
    returncode, output = future.result()
    assert returncode == 0, output[-5000:]
    return workdir


def test_the_workflow_completes_on_slurm(slurm_run):
    assert slurm_run.returncode == 0, slurm_run.output[-5000:]
    assert (slurm_run.workdir / TARGET).stat().st_size > 0


def trials_in(log: str) -> set[tuple[str, int]]:
    """(search_stage, trial) of every search trial a cluster job's SLURM log shows running."""
    found = re.findall(r"wildcards: lab=lab2, search=(\w+), stage=(\w+), trial=(\d+)", log)
    return {(f"{search}_{stage}", int(trial)) for search, stage, trial in found}


def test_every_compute_job_ran_on_slurm_and_trials_went_ten_to_a_job(slurm_run):
    jobs = slurm_run.by_comment()
    # every compute job has a SLURM job, and no local rule (data, grids, ranking) has one
    assert set(jobs) == set(expected_slurm_jobs()), slurm_run.output[-3000:]
    submitted = slurm_run.submitted()
    assert set(submitted) == {job.id for job in slurm_run.jobs}
    ran = set()
    for comment, count in expected_slurm_jobs().items():
        attempts = jobs[comment]
        completed = [job for job in attempts if job.state == "COMPLETED"]
        # one cluster job per 10 trials (and one retry of the killed one), all completed
        assert len(completed) == count, (comment, attempts)
        assert len(attempts) == count + (comment == KILLED), (comment, attempts)
        for job in completed:
            assert job.workdir == slurm_run.workdir
            log = submitted[job.id]  # the plugin's log of the job: SLURM writes its output there
            assert log.name == f"{job.id}.log"
            slurm_log = log.read_text()
            assert f"'SLURM_JOB_ID': '{job.id}'" in slurm_log
            if comment.startswith("rule_trials_"):
                assert log.parent.name == f"group_{comment.removeprefix('rule_')}"
                trials = trials_in(slurm_log)
                assert 0 < len(trials) <= GROUP_SIZE, (job, trials)
                ran |= trials
            else:
                rule = comment.removeprefix("rule_").split("_wildcards_")[0]
                assert log.parent.parent.name == f"rule_{rule}"
                assert f"Finished jobid: 0 (Rule: {rule})" in slurm_log
    assert ran == {(stage, t) for stage, n in stage_trials().items() for t in range(n)}
    # the bar: the 40 trials of a search ran in at most 4 cluster jobs (the killed
    # one's retry is the fifth submission)
    trial_jobs = jobs[group_comment("random_random")]
    assert len([job for job in trial_jobs if job.state == "COMPLETED"]) <= 4
    assert len(trial_jobs) == 5


def test_sbatch_asks_for_the_rules_threads_memory_and_runtime(slurm_run):
    calls = slurm_run.sbatch_calls()
    assert len(calls) == len(slurm_run.jobs)
    layers = {}  # a group job of n trials runs them CORES at a time: ceil(n / CORES) in turn
    for stage, n in stage_trials().items():
        sizes = [min(GROUP_SIZE, n - i) for i in range(0, n, GROUP_SIZE)]
        layers[group_comment(stage)] = {-(-size // CORES) for size in sizes}
    for call in calls:
        options = call.split(" --wrap=")[0]  # not the wrapped Snakemake command
        comment = re.search(r"--comment (\S+)", options).group(1)
        asked = dict(re.findall(r" --?(p|t|mem|cpus-per-task)[ =](\S+)", options))
        assert asked.pop("p") == PARTITION, call
        if comment in layers:  # CORES trials at once, their memory; runtime per layer
            assert asked["cpus-per-task"] == str(CORES), call
            assert asked["mem"] == str(CORES * TRIAL["mem_mb"]), call
            assert int(asked["t"]) in {k * TRIAL["runtime"] for k in layers[comment]}, call
        else:
            rule = comment.removeprefix("rule_").split("_wildcards_")[0]
            assert asked == REQUESTS[rule], call


def test_a_job_killed_while_running_is_retried(slurm_run):
    assert slurm_run.killed, f"{KILLED} was never seen training"
    [killed] = slurm_run.killed
    attempts = slurm_run.by_comment()[KILLED]
    states = {job.id: job.state for job in attempts}
    assert states[killed] == "CANCELLED", "the job finished before scancel reached it"
    assert sorted(states.values()).count("CANCELLED") == 1
    submitted = slurm_run.submitted()
    killed_log = submitted[killed].read_text()  # written by SLURM for the job
    assert f"JOB {killed} ON" in killed_log and "CANCELLED AT" in killed_log
    started = trials_in(killed_log)
    assert started, "no trial was seen starting in the killed job"
    # Snakemake's retry: a later cluster job of the same group ran the killed job's trials
    retries = [
        job
        for job in attempts
        if int(job.id) > int(killed) and started <= trials_in(submitted[job.id].read_text())
    ]
    assert [job.state for job in retries] == ["COMPLETED"], attempts
    # Snakemake reports the failed group with the killed job's SLURM log, then retries it
    failed = re.search(r"message: Error in group (\S+)\n\s+log: (\S+)", slurm_run.output)
    assert failed and failed.group(1) == "trials_lab2_random_random", slurm_run.output[-3000:]
    assert Path(failed.group(2)) == submitted[killed]
    assert "Trying to restart job" in slurm_run.output
    assert slurm_run.returncode == 0


def test_the_ranked_table_equals_a_local_run(slurm_run, local_run):
    on_slurm = pd.read_csv(slurm_run.workdir / TARGET, sep="\t")
    local = pd.read_csv(local_run / TARGET, sep="\t")
    assert not [column for column in local.columns if "seconds" in column]  # no wall times
    assert len(local) == RANDOM_TRIALS
    pd.testing.assert_frame_equal(on_slurm, local, check_exact=True)


def test_a_coarse_to_fine_search_is_grouped_stage_by_stage(tmp_path):
    """No cluster needed: the plan of both lab-2 searches under the profile (a dry run)."""
    returncode, output = snakemake(
        [
            "results/lab2/search/lambda/ranked.tsv",
            TARGET,
            "--dry-run",
            "--workflow-profile",
            str(site_profile(tmp_path / "profile")),
            "--configfile",
            str(TEST_CONFIG),
            str(many_trials(tmp_path)),
        ],
        cwd=tmp_path,
    )
    assert returncode == 0, output[-3000:]
    groups = re.findall(r"Group job (\S+) \(jobs", output)
    assert sorted(set(groups)) == [
        "trials_lab2_lambda_coarse",
        "trials_lab2_lambda_fine",
        "trials_lab2_random_random",
    ]
    assert groups.count("trials_lab2_random_random") == RANDOM_TRIALS // GROUP_SIZE
