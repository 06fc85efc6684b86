"""Small file helpers shared by the pipeline scripts (logging, JSON, parameters, tables)."""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import math
import platform
import re
import shutil
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import numpy as np

from . import clock, npz
from .data.fetch import file_digest

if TYPE_CHECKING:  # pandas is imported by the callers that build tables, not here: a
    import pandas as pd  # training job need not pay its import before it starts training

PACKAGE_DIR = Path(__file__).resolve().parent


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
        if isinstance(value, OSError) and value.errno in NO_SPACE:
            # a full disk is not a bug: one line that says where and what to do
            message = (value if isinstance(value, NoSpace) else no_space(value)).strerror
            logging.getLogger("dd2424").error("%s", message)
            print(message, file=sys.stderr)
            return
        logging.getLogger("dd2424").error("%s", value, exc_info=(kind, value, tb))
        sys.__excepthook__(kind, value, tb)

    sys.excepthook = log_uncaught
    clock.mark_job()


#: the errno of a full disk (or quota)
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class NoSpace(OSError):
    """No space left where a result is written; the message names the path, the space
    needed and free, and what to do."""


def no_space(err: OSError, path: str | Path | None = None, needed: int | None = None) -> NoSpace:
    path = Path(path or err.filename or ".")
    try:
        free = f"{shutil.disk_usage(path.parent).free / 1e6:,.0f} MB are free there"
    except OSError:
        free = "the free space could not be read"
    need = f"it needs about {needed / 1e6:,.1f} MB and " if needed is not None else ""
    return NoSpace(
        err.errno,
        f"no space left on the device to write {path}: {need}{free}; nothing was left "
        "half-written. Free some space (or run in another --directory) and run again",
    )


def _written(path: Path, tmp: Path, write, needed: int | None = None) -> None:
    """``write(tmp)``, then rename ``tmp`` to ``path``; on a full disk the temp file is removed
    and NoSpace raised (other errors also leave no temp file)."""
    try:
        write(tmp)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        if err.errno in NO_SPACE:
            raise no_space(err, path, needed) from None
        raise
    tmp.replace(path)


def exit_with(message: str) -> NoReturn:
    """End a pipeline step with ``message``: logged to its log file and printed by Snakemake,
    without a traceback (the message says what is wrong and what to do)."""
    logging.getLogger("dd2424").error("%s", message)
    raise SystemExit(message)


def _strict(obj):
    """``obj`` with NumPy scalars made Python numbers and NaN/inf made None, recursively."""
    if isinstance(obj, Mapping):
        return {str(k): _strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_strict(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _strict(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    return obj


def write_json(path: str | Path, obj) -> None:
    """Strict JSON (a non-finite number is written as ``null``, never as a bare ``NaN`` that
    strict parsers reject), keys sorted, written to a temp name then renamed."""
    path = Path(path)
    text = json.dumps(_strict(obj), indent=2, sort_keys=True, allow_nan=False) + "\n"
    _written(path, path.with_name(path.name + ".part"), lambda tmp: tmp.write_text(text))


def read_json(path: str | Path):
    """The object ``write_json`` wrote; a number written as ``null`` comes back as None, which
    pandas reads as NaN (see ``number``)."""
    return json.loads(Path(path).read_text())


def number(value) -> float:
    """A metric read back from JSON as a float: ``null`` (a non-finite value) is NaN."""
    return float("nan") if value is None else float(value)


def code_digest() -> str:
    """sha256 over the library's source files (path and bytes, in path order, subpackages
    included): identifies the code that produced a result more precisely than the package
    version."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        name = path.relative_to(PACKAGE_DIR).as_posix()
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def provenance(settings: Mapping, inputs: Mapping[str, str | Path]) -> dict:
    """What produced a result, to merge into its metrics.json at the top level: the merged
    run ``settings``, their ``seed``, the sha256 of each named input file (paths as the
    workflow gave them, relative to its working directory) and the versions of Python, NumPy
    and the project (package version and a digest of the library's source).  Nothing in it
    depends on the time or the machine's state, so reruns write the same bytes."""
    return {
        "settings": dict(settings),
        "seed": settings.get("seed"),
        "inputs": {name: {"path": str(p), "sha256": input_digest(p)} for name, p in inputs.items()},
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "dd2424": metadata.version("dd2424"),
            "dd2424_code_sha256": code_digest(),
        },
    }


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray], mappable: bool = False) -> None:
    """Named arrays as an uncompressed .npz, written to a temp name then renamed.  With
    ``mappable`` each array's data is aligned for ``map_arrays`` (``dd2424.npz``); either way
    ``np.load`` and ``load_arrays`` read it."""
    path = Path(path)
    needed = sum(np.asarray(a).nbytes for a in arrays.values())
    tmp = path.with_name(path.name + ".part.npz")
    if mappable:
        _written(path, tmp, lambda tmp: npz.write(tmp, arrays), needed)
    else:
        _written(path, tmp, lambda tmp: np.savez(tmp, **arrays), needed)


def load_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz; object arrays (pickles, which could run code) are refused."""
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def map_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of an uncompressed .npz as read-only memory maps: processes that map the
    same file share one copy of it (``dd2424.npz``).  A damaged file raises ValueError."""
    return npz.map_arrays(path)


def digest_path(path: str | Path) -> Path:
    return Path(f"{path}.sha256.json")


def write_digest(path: str | Path) -> None:
    """Record the sha256 and size of ``path`` next to it, so that ``input_digest`` need not
    read a large input again in every job that cites it."""
    path = Path(path)
    write_json(
        digest_path(path), {"sha256": file_digest(path, "sha256"), "size": path.stat().st_size}
    )


def input_digest(path: str | Path) -> str:
    """The sha256 of ``path``: the recorded one (``write_digest``) while the file has the
    recorded size and is not newer than the record, else computed from the file.  Newer: in
    its modification time, or in its inode change time, which no copy tool can set back
    (``cp -p`` over the file keeps an old mtime, but not an old ctime).  Snakemake touches a
    job's outputs in their order after the job: the record, written and touched after the
    file, stays at least as new in both."""
    path, record_path = Path(path), digest_path(path)
    try:
        record = read_json(record_path)
        file, kept = path.stat(), record_path.stat()
        older = file.st_mtime_ns <= kept.st_mtime_ns and file.st_ctime_ns <= kept.st_ctime_ns
        if record["size"] == file.st_size and older:
            return str(record["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no usable record: compute it
    return file_digest(path, "sha256")


def _plain_column(values: list) -> list[str] | None:
    """The cells pandas writes for a column of Python ints, or of ints and floats (a float
    column: every value as the shortest repr of the float, NaN empty); None for anything
    else (bools, strings, NumPy scalars, missing values), which is left to pandas."""
    kinds = {type(v) for v in values}
    if kinds == {int}:
        return [str(v) for v in values]
    exact = kinds <= {int, float} and all(type(v) is float or abs(v) <= 2**53 for v in values)
    if exact and float in kinds:  # (an int beyond 2**53 would keep pandas' column objects)
        return ["" if math.isnan(v) else repr(float(v)) for v in values]
    return None


def write_records(path: str | Path, rows: list[dict], columns: list[str] | None = None) -> None:
    """Records (dicts with the same keys) as a TSV with a header line, byte for byte what
    ``pd.DataFrame(rows, columns=columns).to_csv(path, sep="\t", index=False)`` writes (the
    ``columns`` name the header of a table without rows).  Rows of plain Python numbers (a
    training history) are written directly; anything else goes through pandas, imported
    only then: a training job need not pay its import."""
    keys = list(rows[0]) if rows else list(columns or [])
    cells = [_plain_column([row.get(k) for row in rows]) for k in keys] if rows else []
    plain = all(list(row) == keys for row in rows) and None not in cells and keys
    if plain and len(keys) == 1 and "" in cells[0]:
        plain = False  # a lone empty cell would be a blank line: pandas writes ""
    if plain and (columns is None or list(columns) == keys) and all(k.isidentifier() for k in keys):
        lines = ["\t".join(keys)] + ["\t".join(row) for row in zip(*cells, strict=True)]
        Path(path).write_text("\n".join(lines) + "\n")
        return
    import pandas as pd

    pd.DataFrame(rows, columns=columns).to_csv(path, sep="\t", index=False)


def read_columns(path: str | Path):
    """A TSV with a header line, by column: a dict of int64 or float64 arrays (an empty cell is
    NaN) when every cell is a number, else the DataFrame pandas reads.  Either way
    ``table[name]`` is the column as pandas types it, and a figure of a training history need
    not import pandas (0.3 s) to read it.  Numbers are read by Python's int() and float(),
    which round correctly, as pandas' parser does (tests/test_npz.py compares the bits; a
    search trial's values, which decide results, are read with a stricter guard:
    ``dd2424.trials``)."""
    with open(path, newline="") as f:
        lines = [line.rstrip("\n").split("\t") for line in f if line.rstrip("\n")]
    header, body = (lines[0], lines[1:]) if lines else ([], [])  # empty: pandas says so
    columns: dict[str, np.ndarray] = {}
    plain = len(set(header)) == len(header) and all(len(row) == len(header) for row in body)
    plain = plain and bool(body) and not any('"' in name for name in header)
    for i, name in enumerate(header if plain else ()):
        cells = [row[i] for row in body]
        try:
            if all(_INT_CELL.fullmatch(c) for c in cells):
                columns[name] = np.array([int(c) for c in cells], dtype=np.int64)
            else:
                columns[name] = np.array([float(c) if c else np.nan for c in cells])
                plain = all(_FLOAT_CELL.fullmatch(c) for c in cells if c)
        except (ValueError, OverflowError):
            plain = False
        if not plain:
            break
    if plain:
        return columns
    import pandas as pd

    return pd.read_csv(path, sep="\t")


#: numbers as pandas and Python both read them (no spaces, infinities or NaN words)
_INT_CELL = re.compile(r"-?[0-9]+")
_FLOAT_CELL = re.compile(r"-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def write_table(
    df: pd.DataFrame, tsv: str | Path, md: str | Path | None = None, note: str | None = None
) -> None:
    """A table as TSV (full precision) and optionally as markdown (4 significant digits,
    missing values as empty cells, not ``nan``), with ``note`` as a paragraph under it."""
    df.to_csv(tsv, sep="\t", index=False)
    if md is not None:
        cells = df.astype(object).where(df.notna(), None)
        text = cells.to_markdown(index=False, floatfmt=".4g", missingval="") + "\n"
        Path(md).write_text(text + (f"\n{note}\n" if note else ""))
