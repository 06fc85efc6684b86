"""Shared pieces of the benchmark cases: sizes, constants, machine and BLAS information, the
round-robin timer and the row format.  Each comparison lives in its own module (mlp, bn, rnn,
memory); run.py is the entry point that runs them and prints the table."""

from __future__ import annotations

import ctypes
import gc
import math
import os
import resource
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
try:  # the installed package (pip install -e .), else the repository's own copy
    import dd2424  # noqa: F401
except ImportError:
    sys.path.insert(0, str(ROOT / "workflow"))

CORPUS = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
NO_TORCH = "skipped: torch is not installed (pip install -c requirements/lock.txt -e '.[bench]')"
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

SIZES = {
    # tiny: seconds, for the test; the shapes of a sample stay real (3072 inputs, m = 100, ...)
    "tiny": {
        "n_train": 600,
        "n_val": 100,
        "rnn_updates": 30,
        "corpus_chars": 20_000,
        "n_per_batch": 120,
        "n_test": 100,
        "repeats": 1,
        "warmup": 0,
    },
    # full: the real sizes (45k/5k CIFAR split, 10k test batch, whole corpus)
    "full": {
        "n_train": 45_000,
        "n_val": 5_000,
        "rnn_updates": 1_000,
        "corpus_chars": None,
        "n_per_batch": 10_000,
        "n_test": 10_000,
        "repeats": 5,
        "warmup": 1,
    },
}
D, K_CLASSES, N_BATCH, LAM = 3072, 10, 100, 0.01
SEED = 2424
#: the run the `memory` and `job` cases train: one epoch of the 3072-50-10 float32 network
ONE_EPOCH = {
    "hidden": [50],
    "init": {"kind": "xavier"},
    "lam": LAM,
    "schedule": {"kind": "cyclic", "eta_min": 1e-5, "eta_max": 0.1, "n_s_epochs": 2},
    "n_epochs": 1,
    "n_batch": N_BATCH,
    "seed": SEED,
    "dtype": "float32",
}
# the reference size: the full CIFAR training pool, 50,000 x 3072, in float32
DATASET_F32_MB = 50_000 * D * 4 / 1e6


# =============================================================================== helpers
def rss_mb() -> float:
    """Current resident set size of this process (Linux /proc), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def peak_rss_mb() -> float:
    """High-water mark of this process's resident set (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def _openblas_lib():
    """The OpenBLAS library loaded into this process (after ``import numpy``), or None."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        if path.startswith("/") and ".so" in path:
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    return None


def _call(lib, names: tuple[str, ...], restype):
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            return fn()
    return None


def blas_info() -> dict:
    """Which BLAS NumPy uses, its kernel (core type) and thread count: from threadpoolctl when
    installed, else by asking NumPy's bundled OpenBLAS through ctypes, else from show_config."""
    import numpy as np

    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                return {
                    "blas": f"{pool.get('internal_api')} {pool.get('version')}",
                    "blas_kernel": str(pool.get("architecture")),
                    "blas_threads": pool.get("num_threads"),
                    "blas_source": "threadpoolctl",
                }
    except ImportError:
        pass
    lib = _openblas_lib()
    if lib is not None:
        config = _call(
            lib,
            ("scipy_openblas_get_config64_", "scipy_openblas_get_config", "openblas_get_config"),
            ctypes.c_char_p,
        )
        core = _call(
            lib,
            (
                "scipy_openblas_get_corename64_",
                "scipy_openblas_get_corename",
                "openblas_get_corename",
            ),
            ctypes.c_char_p,
        )
        threads = _call(
            lib,
            (
                "scipy_openblas_get_num_threads64_",
                "scipy_openblas_get_num_threads",
                "openblas_get_num_threads",
            ),
            ctypes.c_int,
        )
        if config or core:
            return {
                "blas": (config or b"OpenBLAS").decode().split("  ")[0],
                "blas_kernel": (core or b"?").decode(),
                "blas_threads": threads,
                "blas_source": "ctypes (OpenBLAS bundled with numpy)",
            }
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {
            "blas": f"{blas.get('name')} {blas.get('version')}",
            "blas_kernel": "unknown",
            "blas_threads": None,
            "blas_source": "numpy.show_config",
        }
    except Exception:  # noqa: BLE001 - information only
        return {"blas": "unknown", "blas_kernel": "unknown", "blas_threads": None}


def import_torch(threads: int):
    """torch with ``threads`` intra-op threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def worker_info(torch) -> dict:
    import numpy as np

    info = {"numpy": np.__version__, **blas_info()}
    info |= {var: os.environ.get(var, "") for var in THREAD_VARS}
    if torch is not None:
        info |= {
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "torch_blas": "MKL" if torch.backends.mkl.is_available() else "other",
        }
    return info


def time_rounds(
    peers: dict[str, Callable[[], float]], repeats: int, warmup: int
) -> dict[str, list[float]]:
    """Run the peers in turn, round after round; each returns its own measured seconds (so a
    peer can leave its set-up out).  The warm-up rounds are discarded."""
    times: dict[str, list[float]] = {name: [] for name in peers}
    for r in range(warmup + repeats):
        for name, peer in peers.items():
            gc.collect()
            seconds = peer()
            if r >= warmup:
                times[name].append(seconds)
            print(f"  {name}: {seconds:.3f} s", file=sys.stderr, flush=True)
    return times


def row(
    comparison: str,
    case: str,
    values: list[float] | None,
    unit: str,
    dtype: str = "",
    threads: int | str = "",
    note: str = "",
) -> dict:
    values = [v for v in (values or []) if v == v]
    return {
        "comparison": comparison,
        "case": case,
        "dtype": dtype,
        "threads": threads,
        "unit": unit,
        "median": statistics.median(values) if values else math.nan,
        "min": min(values) if values else math.nan,
        "max": max(values) if values else math.nan,
        "n": len(values),
        "note": note,
    }


def synthetic_split(n_train: int, n_val: int):
    """Standardised CIFAR-shaped inputs (what preprocessing produces) and random labels."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((n_train + n_val, D), dtype=np.float32)
    y = rng.integers(0, K_CLASSES, n_train + n_val)
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


def write_report(path: Path, lines: list[str]) -> None:
    """A markdown report of a standalone script (recipe_time, bonus_evidence): written to
    ``path`` and printed whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
