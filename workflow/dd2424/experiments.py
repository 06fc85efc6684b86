"""Config-driven runs: turn one experiment's settings into a trained model and its records.

A run's settings are a plain mapping (the lab's ``defaults`` deep-merged with the run's own
entries, see ``merge``); the keys are documented in config/README.md.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping

import numpy as np

from . import gradcheck, nn, schedules, train

log = logging.getLogger(__name__)


def merge(defaults: Mapping, override: Mapping) -> dict:
    """Deep-merge two config mappings: ``override`` wins, nested mappings merge, and a
    ``None`` (YAML ``null``) in ``override`` removes the key (e.g. ``n_s: null`` to switch
    a cyclic schedule inherited with ``n_s`` to ``n_s_epochs``)."""
    out = copy.deepcopy(dict(defaults))
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def build_network(settings: Mapping, d: int, K: int) -> nn.Network:
    return nn.Network(
        d=d,
        K=K,
        hidden=tuple(settings.get("hidden", ())),
        batch_norm=bool(settings.get("batch_norm", False)),
        bn_eps=float(settings.get("bn_eps", 1e-8)),
        bn_alpha=float(settings.get("bn_alpha", 0.9)),
    )


def init_params(net: nn.Network, settings: Mapping, rng: np.random.Generator, dtype):
    init = settings.get("init", {})
    return net.init(
        rng,
        kind=init.get("kind", "xavier"),
        sigma=init.get("sigma", 0.01),
        bias_sigma=init.get("bias_sigma", 0.0),
        dtype=dtype,
    )


def steps_per_epoch(settings: Mapping, n_train: int) -> int:
    n_batch = int(settings["n_batch"])
    if n_train // n_batch == 0:
        raise ValueError(f"n_batch {n_batch} is larger than the training set ({n_train})")
    return n_train // n_batch


def schedule_and_config(
    settings: Mapping, n_train: int
) -> tuple[schedules.Constant | schedules.Cyclic, train.TrainConfig]:
    """The learning-rate schedule and the loop settings of a run.

    Length: ``n_epochs`` epochs, or ``cycles`` whole cycles of a cyclic schedule (so training
    stops where eta is smallest).  Evaluation: every ``eval_every`` updates, else
    ``evals_per_cycle`` times per cycle for a cyclic schedule, else once per epoch.
    """
    per_epoch = steps_per_epoch(settings, n_train)
    schedule = schedules.make_schedule(settings["schedule"], per_epoch)
    cycles = settings.get("cycles")
    if cycles is not None:
        if not isinstance(schedule, schedules.Cyclic):
            raise ValueError("`cycles` needs a cyclic schedule; use `n_epochs` otherwise")
        n_updates = schedule.updates(int(cycles))
        default_every = max(1, round(2 * schedule.n_s / int(settings.get("evals_per_cycle", 10))))
    else:
        n_updates = int(settings["n_epochs"]) * per_epoch
        default_every = per_epoch
    cfg = train.TrainConfig(
        n_batch=int(settings["n_batch"]),
        n_updates=n_updates,
        lam=float(settings["lam"]),
        eval_every=int(settings.get("eval_every") or default_every),
        shuffle=bool(settings.get("shuffle", True)),
    )
    return schedule, cfg


def run(settings: Mapping, split: Mapping[str, np.ndarray]) -> tuple[dict, list[dict], dict]:
    """Train one run on a preprocessed split; return (arrays, history, metrics), where
    arrays are the parameters and any batch-norm moving averages (``mu1``, ``v1``, ...)."""
    dtype = np.dtype(settings.get("dtype", "float32"))
    X_tr, y_tr = split["X_train"].astype(dtype, copy=False), split["y_train"].astype(np.intp)
    X_va, y_va = split["X_val"].astype(dtype, copy=False), split["y_val"].astype(np.intp)
    X_te, y_te = split["X_test"].astype(dtype, copy=False), split["y_test"].astype(np.intp)
    K = int(max(y_tr.max(), y_va.max(), y_te.max())) + 1
    rng = np.random.default_rng(settings["seed"])
    net = build_network(settings, X_tr.shape[1], K)
    params = init_params(net, settings, rng, dtype)
    schedule, cfg = schedule_and_config(settings, len(X_tr))
    log.info(
        "training %s: %d updates of batch %d on %d samples, lambda=%g",
        net.sizes,
        cfg.n_updates,
        cfg.n_batch,
        len(X_tr),
        cfg.lam,
    )
    history, stats = train.minibatch_gd(net, params, (X_tr, y_tr), (X_va, y_va), cfg, schedule, rng)
    test = net.evaluate(params, X_te, y_te, cfg.lam, stats)
    diverged = train.diverged_at(history)
    # the best validation accuracy reached by training: not the evaluation before the first
    # update, and not the evaluation where the cost was found not finite
    trained = [row for row in history[1:] if diverged is None or row["update"] < diverged]
    metrics = {
        "test_acc": test["acc"],
        "test_loss": test["loss"],
        "test_cost": test["cost"],
        "final_train_acc": history[-1]["train_acc"],
        "final_train_loss": history[-1]["train_loss"],
        "final_val_loss": history[-1]["val_loss"],
        "final_val_acc": history[-1]["val_acc"],
        "best_val_acc": max((row["val_acc"] for row in trained), default=float("nan")),
        "diverged": diverged is not None,
        "diverged_at": diverged,
        "n_updates": cfg.n_updates,
        "updates_done": history[-1]["update"],
        "schedule": schedule.describe(),
        "n_train": len(X_tr),
        "settings": dict(settings),
    }
    log.info("test accuracy %.4f, test loss %.4f", test["acc"], test["loss"])
    return params | stats, history, metrics


def gradient_checks(spec: Mapping, split: Mapping[str, np.ndarray]) -> list[dict]:
    """Run the gradient checks of ``spec`` on the first samples/dimensions of the training set.

    Each entry of ``spec["checks"]`` sets ``n`` (samples), ``dims`` (leading input dimensions;
    null for all), ``lam`` and optionally ``max_entries`` (a random sample of entries per
    parameter instead of all) and the network (``hidden``, ``batch_norm``, ``init``, ...),
    which overrides the spec's.  Everything runs in float64; the numerical cost of a
    batch-normalised network is computed in training mode (batch statistics).
    """
    rng = np.random.default_rng(spec["seed"])
    X_all = split["X_train"]
    y_all = split["y_train"].astype(np.intp)
    K = int(y_all.max()) + 1
    rows = []
    for check in spec["checks"]:
        settings = merge({k: v for k, v in spec.items() if k != "checks"}, check)
        n, dims, lam = int(check["n"]), check.get("dims"), float(check["lam"])
        X = X_all[:n, :dims].astype(np.float64)
        y = y_all[:n]
        net = build_network(settings, X.shape[1], K)
        params = init_params(net, settings, rng, np.float64)
        analytic = net.gradients(params, X, y, lam)
        entries = None
        if check.get("max_entries"):
            entries = gradcheck.sample_entries(params, int(check["max_entries"]), rng)
        numeric = gradcheck.numerical_gradients(
            lambda net=net, params=params, X=X, y=y, lam=lam: net.cost(params, X, y, lam),
            params,
            float(settings["h"]),
            entries,
        )
        bn = " BN" if net.batch_norm else ""
        name = f"{'+'.join(map(str, net.sizes))}{bn} n={n} lambda={lam:g}"
        thresholds = float(settings["abs_threshold"]), float(settings["rel_threshold"])
        rows += gradcheck.compare(name, analytic, numeric, *thresholds)
    return gradcheck.as_records(rows)
