#!/usr/bin/env python
"""How much of a finished pipeline run went to per-job overhead rather than work.

    python benchmarks/overhead.py WORKDIR [--snakemake-log FILE]

Reads the ``[timing]`` lines (``dd2424.clock``) of every job log under WORKDIR/logs/: each job
logs its script, ``ready`` (imports done, log set up) and ``exit``, in seconds since its
process started; a training job also ``training starts`` and ``training ends``.  A job's work
is its training loop (from ``training starts`` to the last ``training ends``: evaluations
included, loading and writing not), or for any other job everything after ``ready``.  Its
overhead is the rest of its life: interpreter and import time, loading, set-up, writing
outputs, hashing, exit.  The pipeline's wall time is that of the Snakemake run whose log is
given (default: the newest under WORKDIR/.snakemake/log/): from the start in its file name to
its last write; job logs last written before that start (earlier runs') are left out.
Prints one row per script and the totals; the share is the summed overhead over the wall
time (on 2 cores, two jobs' overheads can add up in one second of wall time).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import common  # noqa: F401  (the repository's dd2424 on the path, if not installed)

from dd2424 import clock

SCRIPT = re.compile(r"\[timing\] script (?:tmp[^.]*\.)?(\S+)")


def job_times(log: Path) -> dict | None:
    """{script, life, work, overhead, first_update} of one job log; None without timing."""
    text = log.read_text(errors="replace")
    marks = clock.marks(text)  # a mark logged again (a resumed run's): the last one counts
    if "ready" not in marks or "exit" not in marks:
        return None
    script = SCRIPT.search(text)
    life = marks["exit"]
    if "training starts" in marks and "training ends" in marks:
        work = marks["training ends"] - marks["training starts"]
    else:
        work = life - marks["ready"]
    return {
        "script": script.group(1) if script else "?",
        "life": life,
        "work": work,
        "overhead": life - work,
        "first_update": marks.get("first update"),
    }


def run_times(snakemake_log: Path) -> tuple[float, float]:
    """(start, end) of a Snakemake run, as epoch seconds: the start time in its log's name
    (``2026-12-06T031725.160137.snakemake.log``) and the log's last modification."""
    started = datetime.strptime(snakemake_log.name.split(".snakemake")[0], "%Y-%m-%dT%H%M%S.%f")
    return started.timestamp(), snakemake_log.stat().st_mtime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--snakemake-log", type=Path)
    args = parser.parse_args(argv)
    logs = sorted((args.workdir / "logs").rglob("*.log"))
    run_log = args.snakemake_log or max(
        (args.workdir / ".snakemake" / "log").glob("*.snakemake.log"), default=None
    )
    if run_log is None:
        parser.error(f"no Snakemake log under {args.workdir}/.snakemake/log; pass --snakemake-log")
    started, ended = run_times(run_log)
    wall = ended - started
    older = [log for log in logs if log.stat().st_mtime < started]  # jobs of earlier runs
    logs = [log for log in logs if log.stat().st_mtime >= started]
    by_script: dict[str, list[dict]] = defaultdict(list)
    untimed = []
    for log in logs:
        times = job_times(log)
        if times is None:
            untimed.append(log)
        else:
            by_script[times["script"]].append(times)
    print(
        f"pipeline wall time {wall:.1f} s ({run_log.name}); {len(logs)} job logs of this run"
        + (f" ({len(older)} older ones left out)" if older else "")
    )
    print(f"{'script':<24}{'jobs':>5}{'life s':>9}{'work s':>9}{'overhead s':>12}{'per job':>9}")
    total = {"life": 0.0, "work": 0.0, "overhead": 0.0, "jobs": 0}
    for script, jobs in sorted(
        by_script.items(), key=lambda kv: -sum(j["overhead"] for j in kv[1])
    ):
        sums = {k: sum(j[k] for j in jobs) for k in ("life", "work", "overhead")}
        print(
            f"{script:<24}{len(jobs):>5}{sums['life']:>9.1f}{sums['work']:>9.1f}"
            f"{sums['overhead']:>12.1f}{sums['overhead'] / len(jobs):>9.2f}"
        )
        total = {k: total[k] + sums[k] for k in sums} | {"jobs": total["jobs"] + len(jobs)}
    print(
        f"{'total':<24}{total['jobs']:>5}{total['life']:>9.1f}{total['work']:>9.1f}"
        f"{total['overhead']:>12.1f}"
    )
    firsts = sorted(
        j["first_update"] for jobs in by_script.values() for j in jobs if j["first_update"]
    )
    if firsts:
        print(
            f"start to first update: median {firsts[len(firsts) // 2]:.2f} s, "
            f"max {firsts[-1]:.2f} s over {len(firsts)} training jobs"
        )
    print(
        f"overhead {total['overhead']:.1f} s = {100 * total['overhead'] / wall:.1f} % of the "
        f"wall time; {len(untimed)} logs without timing lines"
        + (f" (e.g. {untimed[0].relative_to(args.workdir)})" if untimed else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
