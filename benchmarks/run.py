#!/usr/bin/env python
"""Speed and memory of the project's training code next to PyTorch CPU and the BLAS floor.

One command prints the table and writes it as TSV (see benchmarks/README.md):

    python benchmarks/run.py [--size tiny|full] [--repeats N] [--threads 1,2] [--only ...]

Each comparison is a module of its own in this folder (mlp.py, bn.py, wide.py, augment.py,
rnn.py, memory.py, job.py; the shared pieces are in common.py) with a ``worker`` that times
its peers and ``goals`` that turns the medians into the targets.  This file only runs them: each
comparison in ONE fresh subprocess (this script with ``--worker NAME``) whose peers take turns
round by round, so all peers of a comparison see the same machine state; the BLAS and OpenMP
thread counts are set in the subprocess's environment before NumPy is imported.  PyTorch is
optional: without it the PyTorch peers are reported as skipped.  The pipeline never imports
this folder or torch.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import augment
import bn
import job
import memory
import mlp
import rnn
import wide
from common import ROOT, SIZES, THREAD_VARS

#: the comparisons, in the order they run and are printed (``--only`` takes these names)
CASES = {
    "mlp": mlp,
    "bn": bn,
    "wide": wide,
    "augment": augment,
    "rnn": rnn,
    "memory": memory,
    "job": job,
}


def run_worker(name: str, threads: int, extra: list[str] | None = None) -> dict:
    """Run ``--worker name`` in a fresh interpreter with the thread variables set."""
    args = ARGS
    env = dict(os.environ)
    env |= {var: str(threads) for var in THREAD_VARS}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--json", str(out)]
        cmd += ["--size", args.size, "--repeats", str(args.repeats), "--threads", str(threads)]
        cmd += ["--warmup", str(args.warmup), *(extra or [])]
        if args.workflow:
            cmd += ["--workflow", str(args.workflow)]
        print(f"[{name}] {threads} thread(s)", file=sys.stderr, flush=True)
        done = subprocess.run(cmd, env=env)
        if done.returncode != 0:
            raise SystemExit(f"benchmark worker {name!r} failed (exit {done.returncode})")
        return json.loads(out.read_text())


def run_case(name: str, thread_counts: list[int]) -> dict:
    """{"<worker>@<threads>": result} of one comparison."""
    case = CASES[name]
    if hasattr(case, "run"):
        return case.run(run_worker, thread_counts)
    counts = thread_counts if case.PER_THREAD else [1]
    return {f"{name}@{t}": run_worker(name, t) for t in counts}


def worker_function(name: str):
    case = CASES[name.split(":")[0]]
    return getattr(case, "WORKERS", {}).get(name) or case.worker


def machine_info() -> dict:
    import numpy as np

    import dd2424

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown"
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
        mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        pass
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "dd2424": str(Path(dd2424.__file__).parent),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
        "git": commit,
        "load_avg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def targets(rows: list[dict], infos: dict) -> list[dict]:
    """Every comparison's goals from the medians; NaN and 'not measured' when a peer was
    skipped."""

    def med(comparison: str, suffix: str, dtype: str = "float32", threads=None) -> float:
        for r in rows:
            if (
                r["comparison"] == comparison
                and r["case"].endswith(suffix)
                and r["dtype"] == dtype
                and (threads is None or r["threads"] == threads)
            ):
                return r["median"]
        return math.nan

    ran = {key.split("@")[0].split(":")[0] for key in infos}  # the comparisons that ran
    out = [goal for name, case in CASES.items() if name in ran for goal in case.goals(med, infos)]
    result = []
    for name, value, op, bound in out:
        if op == "info":
            met = "info"
        elif math.isnan(value):
            met = "not measured"
        else:
            met = "yes" if (value <= bound if op == "<=" else value >= bound) else "NO"
        goal = f"{op} {bound:g}" if op != "info" else ""
        result.append({"target": name, "value": value, "goal": goal, "met": met})
    return result


def fmt(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def render(machine: dict, rows: list[dict], goals: list[dict], command: str) -> str:
    lines = ["# machine"]
    lines += [f"{k:>22}: {v}" for k, v in machine.items()]
    lines += [f"{'command':>22}: {command}", "", "# results (median over the repeats)"]
    cols = ["comparison", "case", "dtype", "threads", "unit", "median", "min", "max", "n"]
    table = [cols] + [[fmt(r[c]) for c in cols] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(cols))]
    for line in table:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
    lines += ["", "# notes"]
    notes = [
        f"- {r['case']} ({r['dtype']}"
        + (f", {r['threads']} thr" if "GFLOP/s" in r["note"] else "")
        + f"): {r['note']}"
        for r in rows
        if r["note"]
    ]
    lines += list(dict.fromkeys(notes))  # once per case, not per thread count
    lines += ["", "# targets"]
    if "--size tiny" in command or "--size=tiny" in command:
        lines.append("(tiny size: a smoke test; the targets are for --size full)")
    width = max(len(g["target"]) for g in goals)
    for g in goals:
        lines.append(f"{g['target']:<{width}}  {fmt(g['value']):>8}  {g['goal']:>7}  {g['met']}")
    return "\n".join(lines)


def write_tsv(path: Path, machine: dict, rows: list[dict], goals: list[dict], command: str):
    """Machine info as '# key: value' lines, then one table: the cases, then the targets
    (comparison 'target'); read it with pandas.read_csv(path, sep='\\t', comment='#')."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = ["comparison", "case", "dtype", "threads", "unit", "median", "min", "max", "n", "note"]
    with open(path, "w") as f:
        for k, v in {**machine, "command": command}.items():
            f.write(f"# {k}: {v}\n")
        f.write("\t".join(cols) + "\n")
        for r in rows:
            f.write("\t".join(str(r[c]) for c in cols) + "\n")
        for g in goals:
            cells = {
                "comparison": "target",
                "case": g["target"],
                "unit": "ratio",
                "median": g["value"],
                "note": f"goal {g['goal']}: {g['met']}",
            }
            f.write("\t".join(str(cells.get(c, "")) for c in cols) + "\n")


def main(argv: list[str] | None = None) -> int:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument(
        "--repeats", type=int, help="timed rounds per peer (default: 5 full, 1 tiny)"
    )
    parser.add_argument("--warmup", type=int, help="discarded rounds (default: 1 full, 0 tiny)")
    parser.add_argument(
        "--threads",
        default=",".join(map(str, sorted({1, os.cpu_count() or 1}))),
        help="comma list of BLAS/torch thread counts; the comparisons marked PER_THREAD (mlp, "
        "bn) run once per count (default: 1 and all cores); the others use 1, as pipeline jobs "
        "do",
    )
    parser.add_argument(
        "--only", default="", help=f"comma list of {','.join(CASES)} (default: all)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "results.tsv")
    parser.add_argument(
        "--workflow",
        type=Path,
        help="the workflow/ folder whose scripts/train.py and dd2424 package the job case runs "
        "(default: this checkout's): another checkout's, for before/after rows",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = ARGS = parser.parse_args(argv)
    size = SIZES[args.size]
    args.repeats = args.repeats or size["repeats"]
    args.warmup = size["warmup"] if args.warmup is None else args.warmup

    if args.worker:
        args.threads = int(args.threads)
        result = worker_function(args.worker)(size, args)
        args.json.write_text(json.dumps(result))
        return 0

    only = [name for name in args.only.split(",") if name] or list(CASES)
    unknown = sorted(set(only) - set(CASES))
    if unknown:
        parser.error(f"--only: unknown comparison(s) {unknown}; choose from {list(CASES)}")
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    machine = machine_info()
    thread_counts = [int(t) for t in args.threads.split(",")]
    infos, rows = {}, []
    for name in CASES:
        if name in only:
            for key, result in run_case(name, thread_counts).items():
                rows += result["rows"]
                infos[key] = result["info"]
    timed = {k: v for k, v in infos.items() if not k.startswith("memory")}
    first = next(iter(timed.values()), {})
    machine |= {k: first.get(k, "") for k in ("blas", "blas_kernel", "blas_source", "torch")}
    machine["torch"] = machine["torch"] or "not installed (PyTorch peers skipped)"
    for key, info in timed.items():
        machine[f"threads_{key}"] = (
            f"BLAS {info.get('blas_threads')}, torch {info.get('torch_threads', '-')}, "
            f"env {info.get('OPENBLAS_NUM_THREADS')}"
        )
    if "rnn@1" in infos:
        machine["rnn_corpus"] = infos["rnn@1"]["corpus"]
    machine["load_avg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    goals = targets(rows, infos)
    print(render(machine, rows, goals, command))
    write_tsv(args.out, machine, rows, goals, command)
    print(f"\nwrote {args.out}")
    return 0


ARGS: argparse.Namespace


if __name__ == "__main__":
    sys.exit(main())
