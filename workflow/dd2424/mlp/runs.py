"""Config-driven runs: turn one experiment's settings into a trained model and its records.

A run's settings are a plain mapping (the lab's ``defaults`` deep-merged with the run's own
entries, see ``nested.merge``); the keys are documented in config/README.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from .. import gradcheck, schedules
from ..data import augment
from ..nested import merge
from . import network, trainer

log = logging.getLogger(__name__)


def build_network(settings: Mapping, d: int, K: int) -> network.Network:
    return network.Network(
        d=d,
        K=K,
        hidden=tuple(settings.get("hidden", ())),
        batch_norm=bool(settings.get("batch_norm", False)),
        bn_eps=float(settings.get("bn_eps", 1e-8)),
        bn_alpha=float(settings.get("bn_alpha", 0.9)),
        loss=settings.get("loss", "cross_entropy"),
        bn_position=settings.get("batch_norm_position", "before"),
        keep_prob=float(settings.get("keep_prob", 1.0)),
    )


def init_params(net: network.Network, settings: Mapping, rng: np.random.Generator, dtype):
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
) -> tuple[schedules.Schedule, trainer.TrainConfig]:
    """The learning-rate schedule and the loop settings of a run.

    Length: ``n_epochs`` epochs, or ``cycles`` whole cycles of a cyclic schedule (so training
    stops where eta is smallest).  Evaluation: every ``eval_every`` updates, else
    ``evals_per_cycle`` times per cycle for a cyclic schedule, else once per epoch.
    ``keep_best``, ``patience`` and ``snapshots`` (a copy at the end of every cycle; needs a
    cyclic schedule) go to the loop.
    """
    per_epoch = steps_per_epoch(settings, n_train)
    cycles = settings.get("cycles")
    if cycles is not None:
        schedule = schedules.make_schedule(settings["schedule"], per_epoch)
        if not isinstance(schedule, schedules.Cyclic):
            raise ValueError("`cycles` needs a cyclic schedule; use `n_epochs` otherwise")
        n_updates = schedule.updates(int(cycles))
    else:
        n_updates = int(settings["n_epochs"]) * per_epoch
        schedule = schedules.make_schedule(settings["schedule"], per_epoch, n_updates)
    if isinstance(schedule, schedules.Cyclic):
        default_every = max(1, round(2 * schedule.n_s / int(settings.get("evals_per_cycle", 10))))
    else:
        default_every = per_epoch
    snapshot_every = None
    if settings.get("snapshots"):
        if not isinstance(schedule, schedules.Cyclic):
            raise ValueError("`snapshots` (one per cycle) needs a cyclic schedule")
        snapshot_every = 2 * schedule.n_s
    cfg = trainer.TrainConfig(
        n_batch=int(settings["n_batch"]),
        n_updates=n_updates,
        lam=float(settings["lam"]),
        eval_every=int(settings.get("eval_every") or default_every),
        shuffle=bool(settings.get("shuffle", True)),
        keep_best=bool(settings.get("keep_best", False)),
        patience=settings.get("patience"),
        snapshot_every=snapshot_every,
    )
    return schedule, cfg


def _parts(split: Mapping[str, np.ndarray], dtype) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train", "val", "test": (X in ``dtype``, y as indices)} of a preprocessed split."""
    return {
        part: (split[f"X_{part}"].astype(dtype, copy=False), split[f"y_{part}"].astype(np.intp))
        for part in ("train", "val", "test")
    }


def _augmentation(settings: Mapping, X: np.ndarray) -> augment.Augmentation | None:
    augmentation = augment.Augmentation.from_settings(settings.get("augment"))
    if augmentation is not None and X.shape[1] != augment.D:
        raise ValueError(
            f"`augment` needs CIFAR images (rows of {augment.D} values); this split has "
            f"{X.shape[1]} features"
        )
    return augmentation


def run_metrics(net, settings, cfg, schedule, history, test, snapshots, augmentation, n_train):
    """What a run's metrics.json says of its training (the test numbers are ``test``'s, the
    kept model's)."""
    diverged = trainer.diverged_at(history)
    # the best validation accuracy reached by training: not the evaluation before the first
    # update, and not the evaluation where the cost was found not finite
    best = trainer.best_evaluation(history)
    kept = best["update"] if cfg.keep_best and best is not None else history[-1]["update"]
    last = history[-1]
    return {
        "test_acc": test["acc"],
        "test_loss": test["loss"],
        "test_cost": test["cost"],
        "final_train_acc": last["train_acc"],
        "final_train_loss": last["train_loss"],
        "final_val_loss": last["val_loss"],
        "final_val_acc": last["val_acc"],
        "best_val_acc": float("nan") if best is None else best["val_acc"],
        # the tie-break of searches scored by best_val_acc (dd2424.ranking)
        "val_loss_at_best": float("nan") if best is None else best["val_loss"],
        "best_update": None if best is None else best["update"],
        "kept_update": kept,
        "loss": net.loss,
        "diverged": diverged is not None,
        "diverged_at": diverged,
        "early_stopped": diverged is None and last["update"] < cfg.n_updates,
        "n_updates": cfg.n_updates,
        "updates_done": last["update"],
        "snapshot_updates": [update for update, _ in snapshots],
        "augment": "none" if augmentation is None else augmentation.describe(),
        "schedule": schedule.describe(),
        "n_train": n_train,
        "settings": dict(settings),
    }


def run(settings: Mapping, split: Mapping[str, np.ndarray]) -> tuple[dict, list[dict], dict]:
    """Train one run on a preprocessed split; return (arrays, history, metrics), where
    arrays are the parameters and any batch-norm moving averages (``mu1``, ``v1``, ...) of
    the model the run keeps (the final one, or with ``keep_best`` the best one), and with
    ``snapshots`` the same arrays at the end of cycle c under ``snap<c>_<name>`` (c = 1, 2,
    ...; see ensembles.members).  The metrics' test numbers are the kept model's."""
    parts = _parts(split, np.dtype(settings.get("dtype", "float32")))
    X_tr, (X_te, y_te) = parts["train"][0], parts["test"]
    K = int(max(y.max() for _, y in parts.values())) + 1
    rng = np.random.default_rng(settings["seed"])
    net = build_network(settings, X_tr.shape[1], K)
    params = init_params(net, settings, rng, X_tr.dtype)
    schedule, cfg = schedule_and_config(settings, len(X_tr))
    log.info(
        "training %s: %d updates of batch %d on %d samples, lambda=%g",
        net.sizes,
        cfg.n_updates,
        cfg.n_batch,
        len(X_tr),
        cfg.lam,
    )
    augmentation = _augmentation(settings, X_tr)
    snapshots = []
    history, stats = trainer.minibatch_gd(
        net, params, parts["train"], parts["val"], cfg, schedule, rng, augmentation, snapshots
    )
    test = net.evaluate(params, X_te, y_te, cfg.lam, stats)
    log.info("test accuracy %.4f, test %s loss %.4f", test["acc"], net.loss, test["loss"])
    metrics = run_metrics(
        net, settings, cfg, schedule, history, test, snapshots, augmentation, len(X_tr)
    )
    arrays = params | stats
    for c, (_, snapshot) in enumerate(snapshots, start=1):
        arrays |= {f"snap{c}_{name}": value for name, value in snapshot.items()}
    return arrays, history, metrics


def gradient_checks(spec: Mapping, split: Mapping[str, np.ndarray]) -> list[dict]:
    """Run the gradient checks of ``spec`` on the first samples/dimensions of the training set.

    Each entry of ``spec["checks"]`` sets ``n`` (samples), ``dims`` (leading input dimensions;
    null for all), ``lam`` and optionally ``max_entries`` (a random sample of entries per
    parameter instead of all) and the network (``hidden``, ``batch_norm``, ``init``, ...),
    which overrides the spec's, also ``loss``, ``keep_prob`` and ``batch_norm_position``.
    Everything runs in float64; the numerical cost of a batch-normalised network is computed
    in training mode (batch statistics), and with dropout with the same fixed masks (drawn
    once per check from the seeded generator) as the analytic gradients.
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
        masks = net.dropout_masks(rng, n, np.float64)  # nothing drawn without dropout
        analytic = net.gradients(params, X, y, lam, masks=masks)
        entries = None
        if check.get("max_entries"):
            entries = gradcheck.sample_entries(params, int(check["max_entries"]), rng)

        def cost(net=net, params=params, X=X, y=y, lam=lam, masks=masks):
            return net.cost(params, X, y, lam, masks)

        h = float(settings["h"])
        numeric = gradcheck.numerical_gradients(cost, params, h, entries)
        thresholds = float(settings["abs_threshold"]), float(settings["rel_threshold"])
        # ReLUs and the hinge have kinks: entries that fail at h are tried with smaller h
        rechecked = gradcheck.recheck_kinks(cost, params, analytic, numeric, h, *thresholds)
        name = f"{'+'.join(map(str, net.sizes))}{check_label(net)} n={n} lambda={lam:g}"
        rows += gradcheck.compare(name, analytic, numeric, *thresholds, rechecked)
    return gradcheck.as_records(rows)


def check_label(net: network.Network) -> str:
    """What sets a gradient check's network apart, for its row name (empty for the course's
    plain network): " BN", " BN-after", " dropout p=0.5", " svm"."""
    label = ""
    if net.batch_norm:
        label += " BN-after" if net.bn_position == "after" else " BN"
    if net.dropout:
        label += f" dropout p={net.keep_prob:g}"
    if net.loss == "svm":
        label += " svm"
    return label
