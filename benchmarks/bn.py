"""The `bn` comparison: one epoch of the 3072-50-50-10 network with batch normalisation
(training mode, moving averages updated every step), the project next to PyTorch CPU
(BatchNorm1d) and the BLAS floor of its matrix products.  The machinery is mlp.py's."""

from __future__ import annotations

from mlp import compare

PER_THREAD = True  # run once per --threads count


def worker(size: dict, args) -> dict:
    return compare(size, args.repeats, args.warmup, args.threads, batch_norm=True)


def goals(med, infos: dict) -> list[tuple]:
    return [
        (
            f"BN 3-layer float32, {t} thr: project / PyTorch time",
            med("bn", ": project", threads=t) / med("bn", ": PyTorch", threads=t),
            "<=",
            1.0,
        )
        for t in sorted({int(key.split("@")[1]) for key in infos if key.startswith("bn@")})
    ]
