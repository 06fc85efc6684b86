#!/usr/bin/env python
"""Speed and memory of the project's training code next to PyTorch CPU and the BLAS floor.

One command prints the table and writes it as TSV (see benchmarks/README.md):

    python benchmarks/run.py [--size tiny|full] [--repeats N] [--threads 1,2] [--out PATH]

Each comparison runs in ONE fresh subprocess (this script with ``--worker NAME``) whose peers
take turns round by round (peer A, peer B, ..., then again), so all peers of a comparison see
the same machine state; the table gives the median, min and max over the repeats.  The BLAS and
OpenMP thread counts are set in the subprocess's environment before NumPy is imported, and
PyTorch gets the same count with ``torch.set_num_threads``.  The memory cases each run in a
fresh subprocess of their own (``ru_maxrss`` is a per-process high-water mark).

All data is synthetic with the real shapes; the RNN uses ../shared/data/tinyshakespeare.txt when
that file exists, else the project's synthetic corpus.  PyTorch is optional: without it the
PyTorch peers are reported as skipped.  The pipeline never imports this file or torch.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
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


# ========================================================================= MLP / batch norm
class UpdateLoopOnly:
    """``minibatch_gd`` evaluates the full train and validation sets at t = 0 and at the end;
    for a one-epoch timing that is as much work again as the epoch itself.  This wrapper
    answers ``evaluate`` with zeros so that the timed call is the update loop alone (the same
    loop the PyTorch peer and the BLAS floor run)."""

    def __init__(self, net) -> None:
        self.net = net

    def init_stats(self, params, X):
        return self.net.init_stats(params, X)

    def gradients(self, params, X, y, lam, stats=None):
        return self.net.gradients(params, X, y, lam, stats)

    def evaluate(self, params, X, y, lam, stats=None):
        return {"loss": 0.0, "cost": 0.0, "acc": 0.0}


def synthetic_split(n_train: int, n_val: int):
    """Standardised CIFAR-shaped inputs (what preprocessing produces) and random labels."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((n_train + n_val, D), dtype=np.float32)
    y = rng.integers(0, K_CLASSES, n_train + n_val)
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


def project_epoch(net, train, val, dtype, with_eval: bool = False) -> float:
    """One epoch of ``dd2424.train.minibatch_gd`` with a cyclic schedule (n_s = 2 epochs)."""
    import numpy as np

    from dd2424 import schedules
    from dd2424.train import TrainConfig, minibatch_gd

    params = net.init(np.random.default_rng(SEED), dtype=dtype)
    per_epoch = len(train[0]) // N_BATCH
    cfg = TrainConfig(n_batch=N_BATCH, n_updates=per_epoch, lam=LAM, eval_every=per_epoch)
    schedule = schedules.Cyclic(1e-5, 1e-1, 2 * per_epoch)
    model = net if with_eval else UpdateLoopOnly(net)
    rng = np.random.default_rng(SEED + 1)
    started = time.perf_counter()
    minibatch_gd(model, params, train, val, cfg, schedule, rng)
    return time.perf_counter() - started


def torch_epoch(torch, net, Xt, yt) -> float:
    """The same network, data order, cyclic schedule and L2 (weights only, as weight decay
    2 lambda) in PyTorch: autograd, torch.optim.SGD, training mode."""
    import numpy as np

    from dd2424 import schedules

    init = net.init(np.random.default_rng(SEED), dtype=np.float32)
    layers: list = []
    for l, (fan_in, fan_out) in enumerate(zip(net.sizes[:-1], net.sizes[1:], strict=True), 1):
        normalised = net.normalised(l)
        lin = torch.nn.Linear(fan_in, fan_out, bias=not normalised)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(init[f"W{l}"]))
            if not normalised:
                lin.bias.copy_(torch.from_numpy(init[f"b{l}"]))
        layers.append(lin)
        if normalised:
            # momentum 0.1: running = 0.9 running + 0.1 batch, the course's alpha = .9
            layers.append(torch.nn.BatchNorm1d(fan_out, eps=net.bn_eps, momentum=1 - net.bn_alpha))
        if l < net.k:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).train()
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    others = [p for p in model.parameters() if all(p is not w for w in weights)]
    per_epoch = len(Xt) // N_BATCH
    schedule = schedules.Cyclic(1e-5, 1e-1, 2 * per_epoch)
    opt = torch.optim.SGD(
        [{"params": weights, "weight_decay": 2 * LAM}, {"params": others, "weight_decay": 0.0}],
        lr=schedule(0),
    )
    cross_entropy = torch.nn.functional.cross_entropy
    started = time.perf_counter()
    order = torch.from_numpy(np.random.default_rng(SEED + 1).permutation(len(Xt)))
    for t in range(per_epoch):
        idx = order[t * N_BATCH : (t + 1) * N_BATCH]
        # index_select: 1.5x faster than Xt[idx] here, as fast as NumPy's gather
        loss = cross_entropy(model(Xt.index_select(0, idx)), yt.index_select(0, idx))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for group in opt.param_groups:
            group["lr"] = schedule(t)
        opt.step()
    return time.perf_counter() - started


def blas_floor(net, X, dtype) -> tuple[float, float]:
    """The epoch's matrix products alone, into preallocated outputs, on contiguous batches:
    forward H_l = H_(l-1) W_l^T; backward dW_l = G^T H_(l-1) and (l > 1) G W_l.  Returns
    (seconds, GFLOP of the epoch)."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    sizes = net.sizes
    Ws = [rng.standard_normal((o, i)).astype(dtype) for i, o in zip(sizes, sizes[1:], strict=False)]
    Hs = [np.empty((N_BATCH, s), dtype) for s in sizes[1:]]
    Gs = [rng.standard_normal((N_BATCH, s)).astype(dtype) for s in sizes[1:]]
    dWs = [np.empty_like(W) for W in Ws]
    dXs = [np.empty((N_BATCH, s), dtype) for s in sizes[:-1]]
    per_epoch = len(X) // N_BATCH
    k = len(Ws)
    flops = 2 * N_BATCH * sum(i * o for i, o in zip(sizes, sizes[1:], strict=False))
    flops = per_epoch * (3 * flops - 2 * N_BATCH * sizes[0] * sizes[1])  # fwd + dW + dX (l>1)
    started = time.perf_counter()
    for j in range(per_epoch):
        H = X[j * N_BATCH : (j + 1) * N_BATCH]
        for l in range(k):
            np.matmul(H, Ws[l].T, out=Hs[l])
            H = Hs[l]
        for l in range(k - 1, -1, -1):
            np.matmul(
                Gs[l].T, X[j * N_BATCH : (j + 1) * N_BATCH] if l == 0 else Hs[l - 1], out=dWs[l]
            )
            if l > 0:
                np.matmul(Gs[l], Ws[l], out=dXs[l])
    return time.perf_counter() - started, flops / 1e9


def worker_mlp(size: dict, repeats: int, warmup: int, threads: int, batch_norm: bool) -> dict:
    import numpy as np

    from dd2424 import nn

    torch = import_torch(threads)
    comparison = "bn" if batch_norm else "mlp"
    hidden = (50, 50) if batch_norm else (50,)
    net = nn.Network(D, K_CLASSES, hidden, batch_norm=batch_norm)
    train32, val32 = synthetic_split(size["n_train"], size["n_val"])
    gflop = {}

    def floor(X, dtype):
        def run():
            seconds, gflop[np.dtype(dtype).name] = blas_floor(net, X, dtype)
            return seconds

        return run

    peers: dict[str, Callable[[], float]] = {
        "project float32": lambda: project_epoch(net, train32, val32, np.float32),
        "BLAS floor float32": floor(train32[0], np.float32),
    }
    if not batch_norm:
        train64 = (train32[0].astype(np.float64), train32[1])
        val64 = (val32[0].astype(np.float64), val32[1])
        peers |= {
            "project float64": lambda: project_epoch(net, train64, val64, np.float64),
            "BLAS floor float64": floor(train64[0], np.float64),
            "project float32 + its 2 full evaluations": lambda: project_epoch(
                net, train32, val32, np.float32, with_eval=True
            ),
        }
    if torch is not None:
        Xt, yt = torch.from_numpy(train32[0]), torch.from_numpy(train32[1])
        peers["PyTorch float32"] = lambda: torch_epoch(torch, net, Xt, yt)
    times = time_rounds(peers, repeats, warmup)

    arch = "+".join(map(str, net.sizes)) + (" BN" if batch_norm else "")
    rows = []
    for name, values in times.items():
        dtype = "float64" if "float64" in name else "float32"
        note = ""
        if name.startswith("BLAS"):
            rate = gflop[dtype] / statistics.median(values)
            note = f"{gflop[dtype]:.1f} GFLOP/epoch, {rate:.0f} GFLOP/s"
        elif "evaluations" in name:
            note = (
                "info: the loop + its t = 0 and final evaluations of the whole train and val sets"
            )
        elif name.startswith("project"):
            note = "dd2424.train.minibatch_gd, evaluation stubbed out (update loop only)"
        elif name.startswith("PyTorch"):
            note = "nn.Sequential + autograd + optim.SGD, training mode"
            if batch_norm:
                note += "; BatchNorm1d(momentum=0.1); its running var is unbiased (n/(n-1))"
        name = name.replace(" float32", "").replace(" float64", "")
        rows.append(row(comparison, f"{arch}: {name}", values, "s/epoch", dtype, threads, note))
    if torch is None:
        rows.append(
            row(comparison, f"{arch}: PyTorch", None, "s/epoch", "float32", threads, NO_TORCH)
        )
    return {"rows": rows, "info": worker_info(torch)}


# ================================================================================== RNN
def load_corpus(max_chars: int | None):
    """(indices, K, source): Tiny Shakespeare from ../shared/data when present, else the
    project's seeded synthetic corpus."""
    import numpy as np

    from dd2424 import text

    if CORPUS.exists():
        t, source = text.read_text(CORPUS), f"{CORPUS.name}"
    else:
        t, source = text.synthetic_text(300_000, np.random.default_rng(SEED)), "synthetic_text"
    if max_chars:
        t = t[:max_chars]
    vocab = text.Vocabulary.from_text(t)
    return vocab.encode(t), vocab.K, f"{source}, {len(t):,} chars, K={vocab.K}"


class OneHotRNN:
    """The reference: lab 4 written the way the course text reads.  Column vectors, a one-hot
    x_t, per-step matrix products forward and backward (U x_t, dU += da x_t^T, ...), then each
    parameter clipped and updated by AdaGrad on its own."""

    def __init__(self, init: dict, dtype, eta=0.1, eps=1e-8, clip=5.0) -> None:
        import numpy as np

        self.np = np
        self.p = {k: np.array(v, dtype=dtype).reshape(v.shape[0], -1) for k, v in init.items()}
        self.mem = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.eta, self.eps, self.clip = eta, eps, clip

    def step(self, x, y, hprev):
        np = self.np
        U, W, V, b, c = (self.p[k] for k in ("U", "W", "V", "b", "c"))
        m, K = U.shape
        xs, hs, ps = {}, {-1: hprev}, {}
        loss = 0.0
        for t in range(len(x)):
            xs[t] = np.zeros((K, 1), dtype=U.dtype)
            xs[t][x[t]] = 1
            hs[t] = np.tanh(W @ hs[t - 1] + U @ xs[t] + b)
            o = V @ hs[t] + c
            e = np.exp(o - o.max())
            ps[t] = e / e.sum()
            loss -= float(np.log(ps[t][y[t], 0]))
        grads = {k: np.zeros_like(v) for k, v in self.p.items()}
        dh_next = np.zeros((m, 1), dtype=U.dtype)
        for t in reversed(range(len(x))):
            g = ps[t].copy()
            g[y[t]] -= 1
            grads["V"] += g @ hs[t].T
            grads["c"] += g
            da = (1 - hs[t] * hs[t]) * (V.T @ g + dh_next)
            grads["b"] += da
            grads["U"] += da @ xs[t].T
            grads["W"] += da @ hs[t - 1].T
            dh_next = W.T @ da
        for k, grad in grads.items():
            grad = np.clip(grad, -self.clip, self.clip)
            self.mem[k] += grad * grad
            self.p[k] -= self.eta * grad / np.sqrt(self.mem[k] + self.eps)
        return loss, hs[len(x) - 1]


def reference_seconds(init, data, n_updates: int, dtype) -> float:
    """Seconds for ``n_updates`` updates of the one-hot reference, walking the corpus as the
    spec's loop does."""
    import numpy as np

    model = OneHotRNN(init, dtype)
    zeros = np.zeros((init["W"].shape[0], 1), dtype=dtype)
    xs, ys = data.tolist(), data[1:].tolist()  # Python ints, as a course loop indexes

    def step(x, y, h0):
        return model.step(x, y, zeros if h0 is None else h0)[1]

    started = time.perf_counter()
    walk_lists(xs, ys, len(data), n_updates, 25, step)
    return time.perf_counter() - started


def next_position(e: int, n: int, tau: int) -> tuple[int, bool]:
    """Spec 0.5 (0-based): e += tau; back to 0 (an epoch is done) when the next window would
    not fit."""
    e += tau
    return (0, True) if e > n - tau - 1 else (e, False)


def walk_lists(xs, ys, n, n_updates, tau, step) -> None:
    e, hprev = 0, None
    for _ in range(n_updates):
        hprev = step(xs[e : e + tau], ys[e : e + tau], None if e == 0 else hprev)
        e, wrapped = next_position(e, n, tau)
        if wrapped:
            hprev = None


def project_seconds(data, K: int, n_updates: int, dtype: str) -> float:
    """Seconds of ``dd2424.rnn_trainer.train`` for ``n_updates`` updates of the sequential walk
    (no sampling, no logging)."""
    import numpy as np

    from dd2424.rnn_trainer import RNNConfig, Trainer, train
    from dd2424.walks import Walk

    walk = Walk("sequential", [(0, len(data))], 25, 1, np.random.default_rng(SEED))
    state = Trainer(RNNConfig(dtype=dtype), K, np.random.default_rng(SEED), walk=walk)
    history = train(state, data, n_updates, loss_every=10**9, sample_every=None, log_every=0)
    return history.seconds


def torch_rnn_seconds(torch, init, data, n_updates: int, use_module: bool) -> float:
    """Seconds for ``n_updates`` updates in PyTorch at batch 1, float32, autograd;
    clip_grad_value_ then AdaGrad by hand (eps inside the square root as in the spec;
    torch.optim.Adagrad adds it outside).  ``use_module``:
    torch.nn.RNN over one-hot inputs (the loop runs in C++), else an explicit Python loop
    h = tanh(W h + U[:, x_t] + b)."""
    import numpy as np

    F = torch.nn.functional
    m, K = init["U"].shape
    eta, eps, clip = 0.1, 1e-8, 5.0
    if use_module:
        rnn_layer = torch.nn.RNN(K, m, nonlinearity="tanh")
        out_layer = torch.nn.Linear(m, K)
        with torch.no_grad():
            rnn_layer.weight_ih_l0.copy_(torch.from_numpy(init["U"]))
            rnn_layer.weight_hh_l0.copy_(torch.from_numpy(init["W"]))
            rnn_layer.bias_ih_l0.copy_(torch.from_numpy(init["b"]))
            rnn_layer.bias_hh_l0.zero_()
            out_layer.weight.copy_(torch.from_numpy(init["V"]))
            out_layer.bias.copy_(torch.from_numpy(init["c"]))
        params = [*rnn_layer.parameters(), *out_layer.parameters()]
        eye = torch.eye(K)
    else:
        P = {k: torch.tensor(v, requires_grad=True) for k, v in init.items()}
        params = list(P.values())
    mem = [torch.zeros_like(p) for p in params]
    datat = torch.from_numpy(np.ascontiguousarray(data, dtype=np.int64))
    xs = data.tolist()
    zeros = torch.zeros(m)

    def step(e, h0):
        y = datat[e + 1 : e + 26]
        if use_module:
            out, h_last = rnn_layer(eye[datat[e : e + 25]].unsqueeze(1), h0.view(1, 1, m))
            loss = F.cross_entropy(out_layer(out[:, 0]), y, reduction="sum")
            h_last = h_last.view(m)
        else:
            h, hs = h0, []
            for xt in xs[e : e + 25]:
                h = torch.tanh(P["W"] @ h + P["U"][:, xt] + P["b"])
                hs.append(h)
            loss = F.cross_entropy(torch.stack(hs) @ P["V"].T + P["c"], y, reduction="sum")
            h_last = h
        for p in params:
            p.grad = None
        loss.backward()
        torch.nn.utils.clip_grad_value_(params, clip)
        with torch.no_grad():
            for p, mp in zip(params, mem, strict=True):
                mp.addcmul_(p.grad, p.grad)
                p.addcdiv_(p.grad, (mp + eps).sqrt_(), value=-eta)
        return h_last.detach()

    started = time.perf_counter()
    e, hprev = 0, zeros
    for _ in range(n_updates):
        hprev = step(e, zeros if e == 0 else hprev)  # h0 = 0 at the start of each epoch
        e, _ = next_position(e, len(data), 25)
    return time.perf_counter() - started


def check_reference(data, K: int) -> str:
    """One update of the reference and of the project from the same parameters must agree."""
    import numpy as np

    from dd2424.rnn_trainer import RNNConfig, Trainer

    state = Trainer(RNNConfig(), K, np.random.default_rng(SEED))
    ref = OneHotRNN({k: v.copy() for k, v in state.params.items()}, np.float64)
    loss_ref, _ = ref.step(data[:25].tolist(), data[1:26].tolist(), np.zeros((100, 1)))
    loss, _ = state.step(data[:25], data[1:26], np.zeros(100))
    diff = max(float(np.abs(ref.p[k].ravel() - state.params[k].ravel()).max()) for k in ref.p)
    ok = abs(loss - loss_ref) < 1e-9 * abs(loss) and diff < 1e-12
    return f"same loss and parameters as the project after 1 update: {'yes' if ok else 'NO'}"


def worker_rnn(size: dict, repeats: int, warmup: int, threads: int) -> dict:
    import numpy as np

    from dd2424 import rnn

    torch = import_torch(threads)
    data, K, source = load_corpus(size["corpus_chars"])
    n = size["rnn_updates"]
    init = rnn.init_params(100, K, np.random.default_rng(SEED), dtype=np.float32)
    init64 = rnn.init_params(100, K, np.random.default_rng(SEED), dtype=np.float64)
    peers: dict[str, Callable[[], float]] = {
        "project float32": lambda: project_seconds(data, K, n, "float32"),
        "project float64": lambda: project_seconds(data, K, n, "float64"),
        "one-hot reference float32": lambda: reference_seconds(init, data, n, np.float32),
        "one-hot reference float64": lambda: reference_seconds(init64, data, n, np.float64),
    }
    if torch is not None:
        peers["PyTorch loop float32"] = lambda: torch_rnn_seconds(torch, init, data, n, False)
        peers["PyTorch nn.RNN float32"] = lambda: torch_rnn_seconds(torch, init, data, n, True)
    times = time_rounds(peers, repeats, warmup)
    notes = {
        "project": "dd2424.rnn_trainer.Trainer + train (no sampling)",
        "one-hot": check_reference(data, K),
        "PyTorch loop": "batch 1, explicit loop, autograd, clip_grad_value_, AdaGrad by hand",
        "PyTorch nn.RNN": "batch 1, nn.RNN on one-hot input + Linear (+ its 2nd bias b_hh)",
    }
    rows = []
    for name, seconds in times.items():
        dtype = name.rsplit(" ", 1)[1]
        note = next(v for k, v in notes.items() if name.startswith(k))
        rates = [n / s for s in seconds]
        case = f"m=100 tau=25 K={K}: {name.rsplit(' ', 1)[0]}"
        rows.append(row("rnn", case, rates, "updates/s", dtype, threads, note))
    if torch is None:
        for name in ("PyTorch loop", "PyTorch nn.RNN"):
            rows.append(
                row(
                    "rnn",
                    f"m=100 tau=25 K={K}: {name}",
                    None,
                    "updates/s",
                    "float32",
                    threads,
                    NO_TORCH,
                )
            )
    return {"rows": rows, "info": worker_info(torch) | {"corpus": source}}


# =============================================================================== memory
def worker_make_cifar(size: dict, directory: str) -> dict:
    from dd2424 import data

    data.write_synthetic_cifar(
        Path(directory) / data.BATCH_DIR, size["n_per_batch"], size["n_test"], seed=SEED
    )
    return {"rows": [], "info": {}}


def worker_mem_preprocess(size: dict, directory: str) -> dict:
    from dd2424 import data
    from dd2424.io import save_arrays

    base = rss_mb()
    split = data.Split(train=data.TRAIN_BATCHES, val_size=size["n_per_batch"] // 2)
    started = time.perf_counter()
    arrays = data.preprocess(Path(directory) / data.BATCH_DIR, split)
    save_arrays(Path(directory) / "split.npz", arrays)
    seconds = time.perf_counter() - started
    f32 = sum(v.nbytes for k, v in arrays.items() if k.startswith("X_")) / 1e6
    pool = 5 * size["n_per_batch"] * D * 4 / 1e6
    peak = peak_rss_mb()
    note = (
        f"preprocess + save_arrays, {seconds:.1f} s; after imports {base:.0f} MB; float32 "
        f"train+val {pool:.0f} MB, with test {f32:.0f} MB; peak/(train+val) {peak / pool:.2f}x"
    )
    return {
        "rows": [
            row(
                "memory",
                "preprocess 5 batches (45k/5k split + test)",
                [peak],
                "MB peak RSS",
                "float32",
                1,
                note,
            )
        ],
        "info": {"pool_mb": pool},
    }


def worker_mem_train(size: dict, directory: str) -> dict:
    from dd2424 import experiments
    from dd2424.io import load_arrays

    base = rss_mb()
    settings = {
        "hidden": [50],
        "init": {"kind": "xavier"},
        "lam": LAM,
        "schedule": {"kind": "cyclic", "eta_min": 1e-5, "eta_max": 0.1, "n_s_epochs": 2},
        "n_epochs": 1,
        "n_batch": N_BATCH,
        "seed": SEED,
        "dtype": "float32",
    }
    started = time.perf_counter()
    split = load_arrays(Path(directory) / "split.npz")
    loaded = peak_rss_mb()
    experiments.run(settings, split)
    seconds = time.perf_counter() - started
    note = (
        f"load split.npz + experiments.run, {seconds:.1f} s; after imports {base:.0f} MB, "
        f"after loading {loaded:.0f} MB"
    )
    return {
        "rows": [
            row(
                "memory",
                "train 1 epoch 3072+50+10 (load + run)",
                [peak_rss_mb()],
                "MB peak RSS",
                "float32",
                1,
                note,
            )
        ],
        "info": {},
    }


# ========================================================================== orchestration
WORKERS = ("mlp", "bn", "rnn")


def run_worker(name: str, args, threads: int, extra: list[str] | None = None) -> dict:
    """Run ``--worker name`` in a fresh interpreter with the thread variables set."""
    env = dict(os.environ)
    env |= {var: str(threads) for var in THREAD_VARS}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--json", str(out)]
        cmd += ["--size", args.size, "--repeats", str(args.repeats), "--threads", str(threads)]
        cmd += ["--warmup", str(args.warmup), *(extra or [])]
        print(f"[{name}] {threads} thread(s)", file=sys.stderr, flush=True)
        done = subprocess.run(cmd, env=env)
        if done.returncode != 0:
            raise SystemExit(f"benchmark worker {name!r} failed (exit {done.returncode})")
        return json.loads(out.read_text())


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


def targets(rows: list[dict], pool_mb: float) -> list[dict]:
    """The issue's targets from the medians (MLP and BN once per thread count); NaN and 'not
    measured' when a peer was skipped."""

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

    out = []
    for t in sorted({r["threads"] for r in rows if r["comparison"] == "mlp"}):
        mlp = med("mlp", ": project", threads=t)
        out += [
            (
                f"MLP float32, {t} thr: project / PyTorch time",
                mlp / med("mlp", ": PyTorch", threads=t),
                "<=",
                0.8,
            ),
            (
                f"MLP float32, {t} thr: BLAS floor / project time (share of floor throughput)",
                med("mlp", ": BLAS floor", threads=t) / mlp,
                ">=",
                0.5,
            ),
            (
                f"MLP float64, {t} thr: BLAS floor / project time",
                med("mlp", ": BLAS floor", "float64", t) / med("mlp", ": project", "float64", t),
                "info",
                math.nan,
            ),
        ]
    for t in sorted({r["threads"] for r in rows if r["comparison"] == "bn"}):
        out.append(
            (
                f"BN 3-layer float32, {t} thr: project / PyTorch time",
                med("bn", ": project", threads=t) / med("bn", ": PyTorch", threads=t),
                "<=",
                1.0,
            )
        )
    rnn32 = med("rnn", ": project")
    torch_rates = [med("rnn", ": PyTorch loop"), med("rnn", ": PyTorch nn.RNN")]
    torch_best = max((r for r in torch_rates if not math.isnan(r)), default=math.nan)
    prep = med("memory", "(45k/5k split + test)")
    out += [
        (
            "RNN float32: project / one-hot reference float32 (updates/s)",
            rnn32 / med("rnn", ": one-hot reference"),
            ">=",
            3.0,
        ),
        (
            "RNN float64: project / one-hot reference float64 (updates/s)",
            med("rnn", ": project", "float64") / med("rnn", ": one-hot reference", "float64"),
            ">=",
            3.0,
        ),
        (
            "RNN float32: project / the faster PyTorch batch-1 peer (updates/s)",
            rnn32 / torch_best,
            ">=",
            4.0,
        ),
        ("preprocessing peak RSS / float32 50,000x3072 (614 MB)", prep / DATASET_F32_MB, "<=", 2.0),
    ]
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument(
        "--repeats", type=int, help="timed rounds per peer (default: 5 full, 1 tiny)"
    )
    parser.add_argument("--warmup", type=int, help="discarded rounds (default: 1 full, 0 tiny)")
    parser.add_argument(
        "--threads",
        default=",".join(map(str, sorted({1, os.cpu_count() or 1}))),
        help="comma list of BLAS/torch thread counts; the MLP and BN comparisons run once per "
        "count (default: 1 and all cores); the RNN and memory cases use 1, as pipeline jobs do",
    )
    parser.add_argument("--only", default="", help="comma list of mlp,bn,rnn,memory (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "results.tsv")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    args.repeats = args.repeats or size["repeats"]
    args.warmup = size["warmup"] if args.warmup is None else args.warmup

    if args.worker:
        name = args.worker
        if name in ("mlp", "bn"):
            result = worker_mlp(size, args.repeats, args.warmup, int(args.threads), name == "bn")
        elif name == "rnn":
            result = worker_rnn(size, args.repeats, args.warmup, int(args.threads))
        else:
            fn = {
                "make-cifar": worker_make_cifar,
                "mem-preprocess": worker_mem_preprocess,
                "mem-train": worker_mem_train,
            }[name]
            result = fn(size, args.dir)
        args.json.write_text(json.dumps(result))
        return 0

    only = set(filter(None, args.only.split(","))) or {*WORKERS, "memory"}
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    machine = machine_info()
    rows, infos = [], {}
    thread_counts = [int(t) for t in args.threads.split(",")]
    for name in WORKERS:
        for threads in [1] if name == "rnn" else thread_counts:
            if name in only:
                result = run_worker(name, args, threads)
                rows += result["rows"]
                infos[f"{name}@{threads}"] = result["info"]
    pool_mb = math.nan
    if "memory" in only:
        with tempfile.TemporaryDirectory(prefix="dd2424-bench-") as tmp:
            run_worker("make-cifar", args, 1, ["--dir", tmp])
            result = run_worker("mem-preprocess", args, 1, ["--dir", tmp])
            rows += result["rows"]
            pool_mb = result["info"]["pool_mb"]
            rows += run_worker("mem-train", args, 1, ["--dir", tmp])["rows"]
    first = next(iter(infos.values()), {})
    machine |= {k: first.get(k, "") for k in ("blas", "blas_kernel", "blas_source", "torch")}
    machine["torch"] = machine["torch"] or "not installed (PyTorch peers skipped)"
    for name, info in infos.items():
        machine[f"threads_{name}"] = (
            f"BLAS {info.get('blas_threads')}, torch {info.get('torch_threads', '-')}, "
            f"env {info.get('OPENBLAS_NUM_THREADS')}"
        )
    if "rnn@1" in infos:
        machine["rnn_corpus"] = infos["rnn@1"]["corpus"]
    machine["load_avg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    goals = targets(rows, pool_mb)
    print(render(machine, rows, goals, command))
    write_tsv(args.out, machine, rows, goals, command)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
