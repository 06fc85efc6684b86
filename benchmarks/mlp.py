"""The `mlp` comparison: one epoch of the 3072-50-10 network (45,000 samples, batch 100,
cyclic eta, lambda = .01), the project (float32, float64) next to PyTorch CPU and the BLAS floor
of its matrix products.  ``compare`` also serves the `bn` comparison (bn.py)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from common import (
    K_CLASSES,
    LAM,
    N_BATCH,
    NO_TORCH,
    SEED,
    D,
    import_torch,
    row,
    synthetic_split,
    time_rounds,
    worker_info,
)

PER_THREAD = True  # run once per --threads count


class UpdateLoopOnly:
    """``minibatch_gd`` evaluates the full train and validation sets at t = 0 and at the end;
    for a one-epoch timing that is as much work again as the epoch itself.  This wrapper
    answers ``evaluate`` with zeros so that the timed call is the update loop alone (the same
    loop the PyTorch peer and the BLAS floor run)."""

    def __init__(self, net) -> None:
        self.net = net

    def init_stats(self, params, X):
        return self.net.init_stats(params, X)

    def gradients(self, params, X, y, lam, stats=None, **kwargs):
        return self.net.gradients(params, X, y, lam, stats, **kwargs)

    def evaluate(self, params, X, y, lam, stats=None):
        return {"loss": 0.0, "cost": 0.0, "acc": 0.0}


def project_epoch(
    net, train, val, dtype, with_eval: bool = False, augment: dict | None = None
) -> float:
    """One epoch of ``dd2424.mlp.trainer.minibatch_gd`` with a cyclic schedule (n_s = 2 epochs),
    optionally with on-the-fly augmentation (``augment``: the run setting)."""
    import numpy as np

    from dd2424 import schedules
    from dd2424.data.augment import Augmentation
    from dd2424.mlp.trainer import TrainConfig, minibatch_gd

    params = net.init(np.random.default_rng(SEED), dtype=dtype)
    per_epoch = len(train[0]) // N_BATCH
    cfg = TrainConfig(n_batch=N_BATCH, n_updates=per_epoch, lam=LAM, eval_every=per_epoch)
    schedule = schedules.Cyclic(1e-5, 1e-1, 2 * per_epoch)
    model = net if with_eval else UpdateLoopOnly(net)
    rng = np.random.default_rng(SEED + 1)
    started = time.perf_counter()
    aug = Augmentation(**augment) if augment else None
    minibatch_gd(model, params, train, val, cfg, schedule, rng, augment=aug)
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


def compare(size: dict, repeats: int, warmup: int, threads: int, batch_norm: bool) -> dict:
    """Run the peers of the mlp (or, with batch_norm, the bn) comparison round by round."""
    import numpy as np

    from dd2424.mlp import network

    torch = import_torch(threads)
    comparison = "bn" if batch_norm else "mlp"
    hidden = (50, 50) if batch_norm else (50,)
    net = network.Network(D, K_CLASSES, hidden, batch_norm=batch_norm)
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
            note = "dd2424.mlp.trainer.minibatch_gd, evaluation stubbed out (update loop only)"
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


def worker(size: dict, args) -> dict:
    return compare(size, args.repeats, args.warmup, args.threads, batch_norm=False)


def goals(med, infos: dict) -> list[tuple]:
    """(target, value, op, bound) per thread count: the issue's targets of the MLP epoch."""
    out = []
    for t in sorted({int(key.split("@")[1]) for key in infos if key.startswith("mlp@")}):
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
                float("nan"),
            ),
        ]
    return out
