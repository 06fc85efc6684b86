"""Small file helpers shared by the pipeline scripts (logging, JSON, parameters, tables)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def setup_logging(
    path: str | Path, append: bool = False, copy_to: str | Path | None = None
) -> None:
    """Send log records and uncaught exceptions of a pipeline step to its log file.

    The file is started afresh, or with ``append`` extended.  With ``copy_to`` every record
    also goes (appended) to that second file: Snakemake deletes a job's log before it runs
    the job again, so a job that can be resumed keeps its lines there, next to its
    checkpoint, and the resumed job starts its log from that copy."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers = [logging.FileHandler(path, mode="a" if append else "w")]
    if copy_to is not None:
        Path(copy_to).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(copy_to, mode="a"))
    for handler in handlers:
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(logging.INFO)

    def log_uncaught(kind, value, tb):
        logging.getLogger("dd2424").error("%s", value, exc_info=(kind, value, tb))
        sys.__excepthook__(kind, value, tb)

    sys.excepthook = log_uncaught


def write_json(path: str | Path, obj) -> None:
    Path(path).write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Named arrays as an uncompressed .npz, written to a temp name then renamed."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


def load_arrays(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def write_table(df: pd.DataFrame, tsv: str | Path, md: str | Path | None = None) -> None:
    """A table as TSV (full precision) and optionally as markdown (4 significant digits)."""
    df.to_csv(tsv, sep="\t", index=False)
    if md is not None:
        Path(md).write_text(df.to_markdown(index=False, floatfmt=".4g", missingval="") + "\n")
