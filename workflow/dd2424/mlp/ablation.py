"""The bonus experiments of labs 1-3 (issue 10) as ordinary runs of a lab, and their tables.

Three sections of a lab's config generate runs: each is an ordinary run (trained, recorded and
timed like the runs the config names), its settings merged (``nested.merge``) over others:

- ``bonus`` (the ablation): ``bonus.<improvement>`` is the baseline run's settings merged with
  one improvement's; ``bonus.recipe`` the baseline merged with every improvement of the recipe
  in the order the config lists them, then with the recipe's own settings; with an ensemble
  of ``members`` seeds, ``bonus.recipe.seed<s>`` is the recipe with seed s (the recipe's seed
  + 1, + 2, ...; the recipe itself is the first member).
- ``architecture``: ``arch.d<k>_w<m>`` is the lab's defaults (merged with the section's
  settings) with k - 1 hidden layers of m units: a k-layer network.
- ``svm_vs_ce``: ``loss.<loss>_lam<lambda>_eta<eta>``, one run per loss for every (lambda,
  eta) pair; eta is the schedule's ``eta`` (``eta_max`` for a cyclic schedule).

The tables: the ablation (``bonus_table``: each row's test accuracy and its gain over the
baseline, next to the reference numbers), an ensemble's members and votes
(``ensemble_table``), the depth x width grid (``architecture_table``) and the two losses side
by side (``svm_vs_ce_table``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from ..data.cifar import DIM, LABEL_NAMES
from ..nested import flatten, merge
from .network import hidden_label
from .runs import steps_per_epoch

PREFIX = {"bonus": "bonus", "architecture": "arch", "svm_vs_ce": "loss"}
RECIPE = "recipe"
BASELINE = "baseline"
LOSS_NAMES = ("cross_entropy", "svm")
#: an ensemble's votes: row-name suffix -> the label of its row in the ensemble's table
VOTES = {"majority": "majority vote", "soft": "soft vote"}


# ---------------------------------------------------------------- what a setting changes


def describe(settings: Mapping) -> str:
    """A one-line description of a settings override: ``keep_prob=0.5, augment.flip=true``."""

    def show(value) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, float):
            return f"{value:g}"
        if value is None:
            return "null"
        return str(value).replace(" ", "")

    return ", ".join(f"{k}={show(v)}" for k, v in flatten(settings).items()) or "no change"


# ---------------------------------------------------------------- runs the sections generate


def improvement_what(improvement: Mapping) -> str:
    return improvement.get("what") or describe(improvement.get("settings", {}))


def recipe_parts(spec: Mapping) -> list[str]:
    """The improvements the recipe combines, in the order the config lists them."""
    include = spec.get(RECIPE, {}).get("include")
    return list(spec["improvements"]) if include is None else list(include)


def recipe_what(spec: Mapping) -> str:
    recipe = spec.get(RECIPE, {})
    if recipe.get("what"):
        return recipe["what"]
    text = " + ".join(recipe_parts(spec))
    extra = recipe.get("settings") or {}
    return text + (f"; {describe(extra)}" if extra else "")


def recipe_settings(spec: Mapping, baseline: Mapping) -> dict:
    """The baseline merged with each improvement of the recipe in order, then with the
    recipe's own settings (and ``snapshots: true`` when the ensemble asks for them)."""
    settings = baseline  # merge copies
    for name in recipe_parts(spec):
        settings = merge(settings, spec["improvements"][name].get("settings", {}))
    settings = merge(settings, spec.get(RECIPE, {}).get("settings", {}))
    if spec.get("ensemble", {}).get("snapshots"):
        settings["snapshots"] = True
    return settings


def member_seeds(spec: Mapping, recipe: Mapping) -> list[int]:
    """Seeds of the recipe's seed ensemble: the recipe's own, then the next ones."""
    n = int(spec.get("ensemble", {}).get("members", 1))
    return [int(recipe["seed"]) + i for i in range(n)] if n > 1 else []


def bonus_runs(spec: Mapping, baseline: Mapping) -> dict[str, dict]:
    """{run name: settings} of an ablation: one run per improvement, the recipe and the
    recipe's seed-ensemble members (``baseline`` is the baseline run's merged settings; the
    baseline run itself is not generated)."""
    prefix = PREFIX["bonus"]
    runs = {
        f"{prefix}.{name}": merge(baseline, improvement.get("settings", {}))
        for name, improvement in spec["improvements"].items()
    }
    recipe = recipe_settings(spec, baseline)
    runs[f"{prefix}.{RECIPE}"] = recipe
    for seed in member_seeds(spec, recipe)[1:]:
        runs[f"{prefix}.{RECIPE}.seed{seed}"] = recipe | {"seed": seed}
    return runs


def bonus_ensembles(spec: Mapping, recipe: Mapping) -> dict[str, dict]:
    """{ensemble name: {"kind", "runs", "what"}} of an ablation: the recipe over seeds
    (``seeds``: majority and soft vote over the runs) and over its cycle snapshots
    (``snapshots``: one run)."""
    prefix = PREFIX["bonus"]
    out = {}
    seeds = member_seeds(spec, recipe)
    if seeds:
        runs = [f"{prefix}.{RECIPE}"] + [f"{prefix}.{RECIPE}.seed{s}" for s in seeds[1:]]
        what = f"{len(runs)} runs of the recipe that differ only in seed ({seeds[0]}..{seeds[-1]})"
        out[f"{prefix}.seeds"] = {"kind": "seeds", "runs": runs, "what": what}
    if spec.get("ensemble", {}).get("snapshots"):
        what = "the recipe's parameters at the end of every cycle (one run)"
        out[f"{prefix}.snapshots"] = {
            "kind": "snapshots",
            "runs": [f"{prefix}.{RECIPE}"],
            "what": what,
        }
    return out


def architecture_name(depth: int, width: int) -> str:
    return f"{PREFIX['architecture']}.d{depth}_w{width}"


def architecture_runs(spec: Mapping, defaults: Mapping) -> dict[str, dict]:
    """{run name: settings}: every depth k (layers) x width m of the grid, k - 1 hidden layers
    of m units, over the defaults merged with the section's settings."""
    base = merge(defaults, spec.get("settings", {}))
    return {
        architecture_name(depth, width): base | {"hidden": [int(width)] * (int(depth) - 1)}
        for depth in spec["depths"]
        for width in spec["widths"]
    }


def eta_key(schedule: Mapping) -> str:
    """Which key of a schedule is its step size: ``eta_max`` if it is cyclic, else ``eta``."""
    return "eta_max" if schedule.get("kind") == "cyclic" else "eta"


def set_eta(settings: Mapping, eta: float) -> dict:
    """The settings with step size ``eta`` (see ``eta_key``)."""
    return merge(settings, {"schedule": {eta_key(settings["schedule"]): float(eta)}})


def loss_name(loss: str, lam: float, eta: float) -> str:
    return f"{PREFIX['svm_vs_ce']}.{loss}_lam{lam:g}_eta{eta:g}"


def loss_runs(spec: Mapping, defaults: Mapping) -> dict[str, dict]:
    """{run name: settings}: both losses for every (lam, eta) pair, over the defaults merged
    with the section's settings."""
    base = merge(defaults, spec.get("settings", {}))
    runs = {}
    for pair in spec["pairs"]:
        lam, eta = float(pair["lam"]), float(pair["eta"])
        for loss in LOSS_NAMES:
            runs[loss_name(loss, lam, eta)] = set_eta(base, eta) | {"lam": lam, "loss": loss}
    return runs


# ---------------------------------------------------------------- tables


def run_record(metrics: Mapping) -> dict:
    """What the bonus tables show of one run, from its metrics.json."""
    settings = metrics["settings"]
    per_epoch = steps_per_epoch(settings, metrics["n_train"])
    return {
        "loss": metrics["loss"],
        "test_acc": metrics["test_acc"],
        "updates": metrics["updates_done"],
        "epochs": round(metrics["updates_done"] / per_epoch, 2),
        "n_train": metrics["n_train"],
        "diverged_at": metrics["diverged_at"],
    }


def ensemble_table(
    names: Sequence[str], result: Mapping, updates: Sequence[int], kind: str
) -> pd.DataFrame:
    """An ensemble's test accuracy next to its members': one row per member (``names``, in
    the order of ``result["member_acc"]``, see ``ensembles.evaluate``) with its training
    updates, then the majority and the soft vote with the updates the whole ensemble cost:
    the sum over runs of ``kind`` ``seeds``, the last snapshot's for ``snapshots`` (one
    run)."""
    if not len(names) == len(updates) == len(result["member_acc"]):
        raise ValueError(
            f"{len(names)} names and {len(updates)} update counts for "
            f"{len(result['member_acc'])} members"
        )
    total = sum(updates) if kind == "seeds" else max(updates)
    rows = [
        {"member": name, "kind": "member", "updates": int(n), "test_acc": acc}
        for name, n, acc in zip(names, updates, result["member_acc"], strict=True)
    ]
    for vote, label in VOTES.items():
        rows.append(
            {
                "member": label,
                "kind": "ensemble",
                "updates": total,
                "test_acc": result[f"{vote}_acc"],
            }
        )
    return pd.DataFrame(rows)


def ensemble_rows(name: str, ensemble: Mapping, table: pd.DataFrame, recipe: Mapping) -> list:
    """The ablation's rows of one ensemble (majority and soft vote) from its table; loss and
    data size are the recipe's (``recipe``: its ``run_record``), the updates and epochs those
    of the whole ensemble's training."""
    members = int((table["kind"] == "member").sum())
    rows = []
    for vote, label in VOTES.items():
        line = table[table["member"] == label].iloc[0]
        updates = int(line["updates"])
        rows.append(
            {
                "row": f"{ensemble['kind']}_{vote}",
                "run": name,
                "what": f"{label} of {members}: {ensemble['what']}",
                **recipe,
                "test_acc": float(line["test_acc"]),
                "updates": updates,
                "epochs": round(recipe["epochs"] * updates / recipe["updates"], 2),
            }
        )
    return rows


def bonus_table(rows: list[dict], reference: Mapping, data: str) -> pd.DataFrame:
    """The ablation table: the rows (``row``, ``run``, ``what`` and a ``run_record``; the
    first is the baseline), each with its gain in test accuracy over the baseline, and the
    reference numbers (the course's, the best published student's and the best published
    student's with bonus improvements; all for CIFAR-10) and the data it was measured on."""
    if not rows or rows[0]["row"] != BASELINE:
        raise ValueError("the first row of an ablation table must be the baseline")
    table = pd.DataFrame(rows)
    table.insert(table.columns.get_loc("test_acc") + 1, "gain", 0.0)
    table["gain"] = table["test_acc"] - float(table["test_acc"].iloc[0])
    for key in ("course_test_acc", "student_test_acc", "student_bonus_test_acc"):
        table[key] = reference.get(key)
    table["data"] = data
    return table.astype({"diverged_at": "Int64"})


def bonus_headline(table: pd.DataFrame) -> list[dict]:
    """The rows of an ablation worth a headline: the recipe, and the best ensemble vote if it
    beats the recipe."""
    recipe = table[table["row"] == RECIPE]
    if recipe.empty:
        return []
    best = [recipe.iloc[0]]
    votes = table[table["row"].str.endswith(tuple(f"_{v}" for v in VOTES))]
    if not votes.empty:
        top = votes.loc[votes["test_acc"].idxmax()]
        if top["test_acc"] > best[0]["test_acc"]:
            best.append(top)
    return [row.to_dict() for row in best]


def n_weights(sizes: Iterable[int]) -> int:
    """Weights of a fully connected network of layer sizes (d, m_1, ..., K), biases left out
    (as the course counts them)."""
    sizes = list(sizes)
    return sum(a * b for a, b in zip(sizes, sizes[1:], strict=False))


def architecture_table(entries: Mapping[str, Mapping], data: str) -> pd.DataFrame:
    """One row per architecture run ({run name: metrics}): depth k, width m, hidden layers,
    weights of a CIFAR-shaped network (3072 inputs, 10 classes), test and best validation
    accuracy, updates, divergence."""
    rows = []
    for run, metrics in entries.items():
        hidden = list(metrics["settings"]["hidden"])
        rows.append(
            {
                "run": run,
                "depth": len(hidden) + 1,
                "width": hidden[0] if hidden else 0,
                "hidden": hidden_label(hidden),
                "batch_norm": bool(metrics["settings"].get("batch_norm", False)),
                "weights": n_weights([DIM, *hidden, len(LABEL_NAMES)]),
                "best_val_acc": metrics["best_val_acc"],
                **run_record(metrics),
                "data": data,
            }
        )
    table = pd.DataFrame(rows).astype({"diverged_at": "Int64"})
    return table.sort_values(["width", "depth"], kind="stable").reset_index(drop=True)


def svm_vs_ce_table(entries: Mapping[str, Mapping], data: str) -> pd.DataFrame:
    """One row per (lambda, eta): each loss's test accuracy and test loss (named after the
    loss), the SVM's accuracy minus the cross-entropy's, and where a run diverged."""
    pairs: dict[tuple[float, float], dict] = {}
    for metrics in entries.values():
        s = metrics["settings"]
        eta = s["schedule"][eta_key(s["schedule"])]
        row = pairs.setdefault((s["lam"], eta), {"lam": s["lam"], "eta": eta})
        loss = metrics["loss"]
        row[f"test_acc_{loss}"] = metrics["test_acc"]
        row[f"test_loss_{loss}"] = metrics["test_loss"]
        row[f"diverged_at_{loss}"] = metrics["diverged_at"]
    table = pd.DataFrame(list(pairs.values()))
    missing = [f"test_acc_{loss}" for loss in LOSS_NAMES if f"test_acc_{loss}" not in table]
    if missing:
        raise ValueError(f"the comparison needs runs of both losses; no {missing}")
    table["svm_minus_cross_entropy"] = table["test_acc_svm"] - table["test_acc_cross_entropy"]
    order = ["lam", "eta", "test_acc_cross_entropy", "test_acc_svm", "svm_minus_cross_entropy"]
    order += ["test_loss_cross_entropy", "test_loss_svm"]
    order += ["diverged_at_cross_entropy", "diverged_at_svm"]
    table = table[order].astype({c: "Int64" for c in order if c.startswith("diverged")})
    return table.assign(data=data)
