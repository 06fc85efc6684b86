"""The `wide` comparison: update steps of a wide 2-layer network, 3072-1000-10 with dropout
(keep probability 0.5) and lambda = .01, at 1 thread: the project next to PyTorch CPU and the
BLAS floor of the same matrix products.

At this width the two products with W1 (3072 x 1000: the forward X W1^T and the gradient
G^T X) are ~98 % of the flops, so both libraries are bound by their BLAS (OpenBLAS here, MKL
in PyTorch) and the floor is the honest yardstick.  Target (issue 10): >= 80 % of the floor's
throughput (floor time / project time >= 0.8); the ratio to PyTorch is reported."""

from __future__ import annotations

import statistics
import time

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
from mlp import UpdateLoopOnly, blas_floor

PER_THREAD = False  # 1 thread, as the pipeline's jobs
HIDDEN, KEEP = 1000, 0.5


def n_updates(size: dict) -> int:
    return 150 if size["n_train"] >= 15_000 else 5


def project(net, train, val, updates: int) -> float:
    import numpy as np

    from dd2424 import schedules
    from dd2424.mlp.trainer import TrainConfig, minibatch_gd

    params = net.init(np.random.default_rng(SEED), dtype=np.float32)
    cfg = TrainConfig(n_batch=N_BATCH, n_updates=updates, lam=LAM, eval_every=updates)
    schedule = schedules.Cyclic(1e-5, 1e-2, updates)
    rng = np.random.default_rng(SEED + 1)
    started = time.perf_counter()
    minibatch_gd(UpdateLoopOnly(net), params, train, val, cfg, schedule, rng)
    return time.perf_counter() - started


def pytorch(torch, net, Xt, yt, updates: int) -> float:
    """The same network, initial weights, schedule and L2 (weights only, as weight decay
    2 lambda), Dropout(p = 1 - keep) after the ReLU, torch.optim.SGD, training mode."""
    import numpy as np

    from dd2424 import schedules

    init = net.init(np.random.default_rng(SEED), dtype=np.float32)
    lin1, lin2 = torch.nn.Linear(D, HIDDEN), torch.nn.Linear(HIDDEN, K_CLASSES)
    with torch.no_grad():
        for lin, l in ((lin1, 1), (lin2, 2)):
            lin.weight.copy_(torch.from_numpy(init[f"W{l}"]))
            lin.bias.copy_(torch.from_numpy(init[f"b{l}"]))
    model = torch.nn.Sequential(lin1, torch.nn.ReLU(), torch.nn.Dropout(1 - KEEP), lin2).train()
    schedule = schedules.Cyclic(1e-5, 1e-2, updates)
    opt = torch.optim.SGD(
        [
            {"params": [lin1.weight, lin2.weight], "weight_decay": 2 * LAM},
            {"params": [lin1.bias, lin2.bias], "weight_decay": 0.0},
        ],
        lr=schedule(0),
    )
    torch.manual_seed(SEED)
    cross_entropy = torch.nn.functional.cross_entropy
    order = torch.from_numpy(np.random.default_rng(SEED + 1).permutation(len(Xt)))
    started = time.perf_counter()
    for t in range(updates):
        idx = order[t * N_BATCH : (t + 1) * N_BATCH]
        loss = cross_entropy(model(Xt.index_select(0, idx)), yt.index_select(0, idx))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for group in opt.param_groups:
            group["lr"] = schedule(t)
        opt.step()
    return time.perf_counter() - started


def worker(size: dict, args) -> dict:
    import numpy as np

    from dd2424.mlp import network

    updates = n_updates(size)
    net = network.Network(D, K_CLASSES, (HIDDEN,), keep_prob=KEEP)
    train, val = synthetic_split(updates * N_BATCH, size["n_val"])
    torch = import_torch(1)
    gflop = {}

    def floor():
        seconds, gflop["floor"] = blas_floor(net, train[0], np.float32)
        return seconds

    peers = {
        "project": lambda: project(net, train, val, updates),
        "BLAS floor": floor,
    }
    if torch is not None:
        Xt, yt = torch.from_numpy(train[0]), torch.from_numpy(train[1])
        peers["PyTorch"] = lambda: pytorch(torch, net, Xt, yt, updates)
    times = time_rounds(peers, args.repeats, args.warmup)
    arch = f"3072+{HIDDEN}+10 dropout p={KEEP:g}"
    notes = {
        "project": "dd2424.mlp.trainer.minibatch_gd, evaluation stubbed out (update loop only)",
        "PyTorch": "nn.Sequential(Linear, ReLU, Dropout, Linear) + autograd + optim.SGD",
    }
    rows = []
    for name, values in times.items():
        ms = [1e3 * v / updates for v in values]
        note = notes.get(name, "")
        if name == "BLAS floor":
            rate = gflop["floor"] / statistics.median(values)
            note = f"the run's matrix products alone, {rate:.0f} GFLOP/s"
        rows.append(row("wide", f"{arch}: {name}", ms, "ms/update", "float32", 1, note))
    if torch is None:
        rows.append(row("wide", f"{arch}: PyTorch", None, "ms/update", "float32", 1, NO_TORCH))
    return {"rows": rows, "info": worker_info(torch)}


def goals(med, infos: dict) -> list[tuple]:
    project_ms = med("wide", ": project")
    return [
        (
            "Wide 3072-1000-10 dropout, 1 thr: BLAS floor / project time",
            med("wide", ": BLAS floor") / project_ms,
            ">=",
            0.8,
        ),
        (
            "Wide 3072-1000-10 dropout, 1 thr: project / PyTorch time",
            project_ms / med("wide", ": PyTorch"),
            "info",
            float("nan"),
        ),
    ]
