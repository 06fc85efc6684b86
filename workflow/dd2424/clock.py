"""Where a pipeline job's time goes: ``[timing]`` lines in its log, in seconds since the
process started (imports included), which benchmarks/overhead.py adds up over a whole run.

A job logs ``ready`` once its script has imported what it needs and set up its log, and
``exit`` when the process ends; a training job also logs ``training starts`` (network built,
data at hand), ``first update`` and ``training ends`` (the char-RNN trains in chunks between
checkpoints and logs the end of each: the last one counts).  Wall times go to logs and benchmark
files, never to results.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import time

log = logging.getLogger("dd2424.timing")

_IMPORTED = time.monotonic()


def _started_ago() -> float | None:
    """Seconds since this process started, from the kernel's record of its start (Linux,
    10 ms resolution); None where /proc is not available."""
    try:
        with open("/proc/self/stat", "rb") as f:
            # the command name (field 2) may hold spaces: count fields after its ')'
            start_ticks = int(f.read().rsplit(b")", 1)[1].split()[19])
        with open("/proc/uptime", "rb") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


_AGO = _started_ago()
#: time.monotonic() at the process start (at this module's import where /proc is missing)
START = _IMPORTED - (_AGO if _AGO is not None and _AGO >= 0 else 0.0)
_marked: set[str] = set()


def since_start() -> float:
    return time.monotonic() - START


def mark(what: str, once: bool = True) -> None:
    """Log ``[timing] <what> <s> s after the process started`` (by default once per process:
    a job that trains twice reports its first training)."""
    if once and what in _marked:
        return
    _marked.add(what)
    log.info("[timing] %s %.3f s after the process started", what, since_start())


_LINE = re.compile(r"\[timing\] (.+?) ([0-9.]+) s after the process started")


def marks(log_text: str) -> dict[str, float]:
    """{what: seconds after the process started} of the ``mark`` lines of a log; a mark logged
    more than once (a resumed run's, ``once=False``) counts with its last value."""
    return {what: float(seconds) for what, seconds in _LINE.findall(log_text)}


def mark_job() -> None:
    """``[timing] script <name>`` (the script Snakemake runs: a temporary copy named
    ``tmp<random>.<script>.py``), ``ready`` now and ``exit`` when the process ends (logging's
    own exit hook runs after this one, so the line is written)."""
    if "ready" not in _marked:
        log.info("[timing] script %s", os.path.basename(sys.argv[0]) if sys.argv else "")
    mark("ready")
    atexit.register(mark, "exit")
