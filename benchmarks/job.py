"""The `job` cases: what one training job of the pipeline pays before its first update, and the
memory one job and two concurrent jobs on the same split hold.

The job is the real ``workflow/scripts/train.py`` (1 epoch of 3072-50-10 on the full-size
``all45k`` split made by the library's preprocessing), run in a fresh interpreter the way
Snakemake runs a script: a short preamble imports ``snakemake.script`` and hands the script a
``snakemake`` object (here a stand-in with the same fields), so imports, loading the split,
network set-up, training, writing the outputs and the exit are all the job's own.  Its times
come from the ``[timing]`` lines of its log (``dd2424.clock``, counted from the process
start); its memory from ``/proc/PID/smaps_rollup``, sampled every 10 ms: peak RSS (pages of
mapped files included), peak anonymous memory (its own arrays) and, for two jobs at once, the
peak of their PSS added up (a shared page counts 1/n in each of the n processes mapping it).

``--workflow DIR`` runs another checkout's ``workflow/`` (its ``scripts/train.py`` and its
``dd2424`` package) on the same data: the before/after rows of benchmarks/README.md.  That
checkout must log the ``[timing]`` lines (``dd2424.clock``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ONE_EPOCH, ROOT, SEED, row

from dd2424 import clock

#: what Snakemake's script preamble does before the script runs, with a stand-in object
CHILD = """
import json, runpy, sys
from snakemake import script  # imported by Snakemake's preamble of every script job

spec = json.loads(sys.argv[1])


class Names(dict):
    __getattr__ = dict.__getitem__


class Job:
    pass


job = Job()
for key in ("input", "output", "params", "wildcards"):
    setattr(job, key, Names(spec[key]))
job.log, job.rule = [spec["log"]], "train"
runpy.run_path(spec["script"], init_globals={"snakemake": job}, run_name="__main__")
"""


def make_split(size: dict, args) -> dict:
    """Full-size synthetic CIFAR batches and the all45k split, as the pipeline writes them."""
    from dd2424.data import cifar, splits, synthetic
    from dd2424.io import save_arrays, write_digest

    directory = Path(args.dir)
    batches = directory / cifar.BATCH_DIR
    synthetic.write_synthetic_cifar(batches, size["n_per_batch"], size["n_test"], seed=SEED)
    split = splits.Split(train=cifar.TRAIN_BATCHES, val_size=size["n_per_batch"] // 2)
    save_arrays(directory / "all45k.npz", splits.preprocess(batches, split), mappable=True)
    write_digest(directory / "all45k.npz")
    return {"rows": [], "info": {}}


def _spec(directory: Path, name: str, workflow: Path) -> dict:
    out = directory / name
    return {
        "script": str(workflow / "scripts" / "train.py"),
        "input": {"split": str(directory / "all45k.npz")},
        "output": {k: str(out / f) for k, f in PARTS.items()},
        "params": {"settings": ONE_EPOCH},
        "wildcards": {"lab": "lab2", "run": name},
        "log": str(out / "train.log"),
    }


PARTS = {"params": "params.npz", "history": "history.tsv", "metrics": "metrics.json"}


def _memory(pid: int) -> dict[str, int] | None:
    """{Rss, Pss, Anonymous, ...} of ``pid`` in kB, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            fields = {line.split(":")[0]: int(line.split()[1]) for line in f if "kB" in line}
    except (OSError, ValueError, IndexError):
        return None
    return fields


def run_jobs(directory: Path, names: list[str], workflow: Path, env: dict) -> list[dict]:
    """Start one job per name at once: [{"timing": {...}, "peak": {Rss, Pss, Anonymous} in
    MB}], the first with "pss_sum", the peak of the jobs' PSS added up."""
    specs = [_spec(directory, name, workflow) for name in names]
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec)], env=env) for spec in specs
    ]
    peaks = [{"Rss": 0, "Pss": 0, "Anonymous": 0} for _ in procs]
    # the processes are read one after the other: while one of them unmaps the split, the
    # other's read can already count it alone while the first still counts its share.  Such
    # a sample is a spike of one: a peak counts only when the next sample confirms it.
    pss_sum, previous = 0, 0
    while any(p.poll() is None for p in procs):
        total = 0
        for proc, peak in zip(procs, peaks, strict=True):
            now = _memory(proc.pid) if proc.poll() is None else None
            if now:
                total += now["Pss"]
                for key in peak:
                    peak[key] = max(peak[key], now.get(key, 0))
        pss_sum, previous = max(pss_sum, min(total, previous)), total
        time.sleep(0.01)
    results = []
    for proc, spec, peak in zip(procs, specs, peaks, strict=True):
        if proc.returncode != 0:
            raise SystemExit(f"the job failed (exit {proc.returncode}), see {spec['log']}")
        timing = clock.marks(Path(spec["log"]).read_text())
        results.append({"timing": timing, "peak": {k: v / 1000 for k, v in peak.items()}})
    results[0]["pss_sum"] = pss_sum / 1000
    return results


#: (case, unit, what is measured, note) of each row
ROWS = [
    ("start to ready (imports, log)", "s", "ready", "process start to its log set up"),
    (
        "start to training loop (+ load, network set-up)",
        "s",
        "training starts",
        "the split at hand, the network initialised",
    ),
    (
        "start to first update (+ evaluation at update 0)",
        "s",
        "first update",
        "the loop evaluates the train and val sets before its first update",
    ),
    ("start to exit (1 epoch, outputs written)", "s", "exit", "the whole job"),
    ("one job: peak RSS", "MB", "Rss", "pages of the mapped split count in RSS"),
    (
        "one job: peak anonymous memory",
        "MB",
        "Anonymous",
        "its own arrays: RSS without the pages of files",
    ),
    (
        "2 concurrent jobs: peak PSS of both",
        "MB",
        "pss_sum",
        "what the two hold together, shared pages counted once",
    ),
    (
        "2 concurrent jobs: peak anonymous memory per job",
        "MB",
        "pair Anonymous",
        "the private arrays of each",
    ),
]


def worker(size: dict, args) -> dict:
    directory = Path(args.dir)
    workflow = Path(args.workflow or ROOT / "workflow").resolve()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(workflow), env.get("PYTHONPATH", "")]).strip(":")
    alone = [
        run_jobs(directory, [f"alone{i}"], workflow, env)[0]
        for i in range(args.warmup + args.repeats)
    ][args.warmup :]
    pair = run_jobs(directory, ["pair0", "pair1"], workflow, env)
    code = "this checkout" if args.workflow is None else str(workflow)

    def values(what: str) -> list[float]:
        if what == "pss_sum":
            return [pair[0]["pss_sum"]]
        if what == "pair Anonymous":
            return [job["peak"]["Anonymous"] for job in pair]
        if what in ("Rss", "Anonymous"):
            return [job["peak"][what] for job in alone]
        return [job["timing"].get(what, float("nan")) for job in alone]

    return {
        "rows": [
            row("job", case, values(what), unit, "float32", 1, f"train.py of {code}: {note}")
            for case, unit, what, note in ROWS
        ],
        "info": {"workflow": str(workflow)},
    }


WORKERS = {"job:split": make_split, "job": worker}
PER_THREAD = False


def run(run_worker, thread_counts) -> dict:
    """The split once, then the jobs, in one temporary directory."""
    with tempfile.TemporaryDirectory(prefix="dd2424-bench-job-") as tmp:
        run_worker("job:split", 1, ["--dir", tmp])
        return {"job@1": run_worker("job", 1, ["--dir", tmp])}


def goals(med, infos: dict) -> list[tuple]:
    return [
        (
            "training job: process start to first update (s)",
            med("job", "start to first update (+ evaluation at update 0)"),
            "<=",
            0.5,
        ),
        (
            "2 concurrent jobs: peak PSS of both / peak RSS of one",
            med("job", "2 concurrent jobs: peak PSS of both") / med("job", "one job: peak RSS"),
            "<=",
            1.5,
        ),
    ]
