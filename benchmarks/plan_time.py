#!/usr/bin/env python
"""How long does it take to plan a large search? For a lab-2 random search of N trials
(``lab2.searches.random.trials: N`` over config/config.yaml): the time ``make_plan`` takes
in-process (dd2424.plan: validating every run and trial, drawing the trials), and the wall time
of ``snakemake lab2 -n`` as a whole process (Python start-up, the plan, Snakemake's DAG).

Not a speed case of run.py: a planning-cost benchmark (issue 17). Each figure is the median of
``--repeats`` runs; the dry runs work in a temporary directory and touch no data.

    python benchmarks/plan_time.py [--trials 100 1000 10000] [--repeats 3]
        [--out benchmarks/out/plan_time.md]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from common import ROOT, write_report
from snakemake.utils import update_config

from dd2424.plan import make_plan
from dd2424.plan.jobs import outputs


def config_with(trials: int) -> dict:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    update_config(config, {"lab2": {"searches": {"random": {"trials": trials}}}})
    return config


def plan_seconds(trials: int, repeats: int) -> tuple[float, int]:
    """(median seconds of make_plan, jobs the plan holds)."""
    times, jobs = [], 0
    for _ in range(repeats):
        config = config_with(trials)
        started = time.perf_counter()
        plan = make_plan(config)
        times.append(time.perf_counter() - started)
        jobs = sum(len(found) for found in outputs(plan).values())
    return statistics.median(times), jobs


def dry_run_seconds(trials: int, repeats: int) -> float:
    """Median wall seconds of ``snakemake lab2 -n`` with an N-trial random search."""
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        override = Path(tmp) / "trials.yaml"
        override.write_text(yaml.safe_dump({"lab2": {"searches": {"random": {"trials": trials}}}}))
        command = [str(Path(sys.executable).parent / "snakemake"), "-s", str(ROOT / "Snakefile")]
        command += ["lab2", "-n", "-q", "--configfile", str(override)]
        for _ in range(repeats):
            started = time.perf_counter()
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"snakemake lab2 -n failed:\n{done.stderr[-3000:]}")
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[6, 100, 1000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "plan_time.md")
    args = parser.parse_args(argv)
    lines = [
        "# Planning time of a lab-2 random search of N trials (config/config.yaml)",
        "",
        f"Median of {args.repeats} runs. Command: `python benchmarks/plan_time.py "
        + " ".join(sys.argv[1:] if argv is None else argv)
        + "`",
        "",
        "| trials | jobs of `all` | make_plan (s) | `snakemake lab2 -n` (s) |",
        "|---|---|---|---|",
    ]
    for trials in args.trials:
        seconds, jobs = plan_seconds(trials, args.repeats)
        dry = dry_run_seconds(trials, args.repeats)
        lines.append(f"| {trials} | {jobs} | {seconds:.2f} | {dry:.2f} |")
        print(lines[-1], flush=True)
    write_report(args.out, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
