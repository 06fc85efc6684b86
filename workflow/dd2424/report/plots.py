"""Report figures.  Uses matplotlib's non-interactive Agg backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

if TYPE_CHECKING:  # tables come from the callers: a figure of one run need not import pandas
    import pandas as pd

TITLES = {"loss": "cross-entropy loss", "cost": "cost (loss + λ‖W‖²)", "acc": "accuracy"}


def training_curves(history: pd.DataFrame, title: str, path, x: str = "epoch") -> None:
    """Loss, cost and accuracy panels, training and validation, against ``x``."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    for ax, key in zip(axes, ("loss", "cost", "acc"), strict=True):
        ax.plot(history[x], history[f"train_{key}"], label="training")
        ax.plot(history[x], history[f"val_{key}"], label="validation")
        ax.set_xlabel(x.replace("_", " "))
        ax.set_title(TITLES[key])
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def class_templates(W: np.ndarray, names: Sequence[str], title: str, path) -> None:
    """Show row i of W (K x 3072) as a 32x32 RGB image labelled names[i], each class once.

    Each template is min-max scaled to [0, 1] on its own, as in the course.
    """
    if len(W) != len(names):
        raise ValueError(f"{len(W)} templates but {len(names)} class names")
    cols = 5
    rows = -(-len(W) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2 * cols, 2.2 * rows), constrained_layout=True)
    for i, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if i >= len(W):
            continue
        img = W[i].reshape(3, 32, 32).transpose(1, 2, 0).astype(np.float64)
        span = img.max() - img.min()
        ax.imshow((img - img.min()) / span if span > 0 else np.zeros_like(img))
        ax.set_title(names[i])
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def search_scores(table: pd.DataFrame, parameter: str, scale: str, score: str, title: str, path):
    """Validation score of every trial against the searched value, coarse and fine together;
    ``table`` is ranked (best first, see ``search.rank``) and its first trial is circled.
    Diverged trials (column ``diverged``) are red crosses along the bottom of the plot."""
    fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
    diverged = table["diverged"].astype(bool)
    for stage, marker in (("coarse", "o"), ("fine", "^")):
        part = table[(table["stage"] == stage) & ~diverged].sort_values(parameter)
        ax.plot(part[parameter], part[score], marker=marker, linestyle=":", label=stage)
    if diverged.any():
        ax.scatter(
            table.loc[diverged, parameter],
            np.full(int(diverged.sum()), 0.03),
            marker="x",
            color="red",
            transform=ax.get_xaxis_transform(),  # x in data, y in axes coordinates
            label="diverged",
        )
    best = table.iloc[0]
    ax.scatter(
        [best[parameter]],
        [best[score]],
        s=200,
        facecolors="none",
        edgecolors="k",
        label=f"best: {parameter} = {best[parameter]:.4g}",
    )
    if scale == "log10":
        ax.set_xscale("log")
    ax.set_xlabel(parameter)
    ax.set_ylabel(score.replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def compare_curves(histories: dict[str, pd.DataFrame], title: str, path) -> None:
    """Loss (training solid, validation dashed) and validation accuracy of several runs."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4), constrained_layout=True)
    for i, (name, h) in enumerate(histories.items()):
        color = f"C{i}"
        ax_loss.plot(h["update"], h["train_loss"], color=color, label=f"{name} (training)")
        ax_loss.plot(h["update"], h["val_loss"], color=color, linestyle="--", label=f"{name} (val)")
        ax_acc.plot(h["update"], h["val_acc"], color=color, label=name)
    ax_loss.set_title(TITLES["loss"])
    ax_acc.set_title("validation accuracy")
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("update")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def smooth_loss(record: pd.DataFrame, path) -> None:
    """Smooth loss (0.999/0.001 moving average of the per-sequence loss) against the update."""
    fig, ax = plt.subplots(figsize=(8, 4), constrained_layout=True)
    ax.plot(record["update"], record["smooth_loss"])
    ax.set_xlabel("update")
    ax.set_ylabel("smooth loss (sum over a sequence)")
    ax.set_title("char-RNN training")
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def rnn_validation_curves(
    curves: dict[str, pd.DataFrame], x: str, xlabel: str, title: str, path, training=None
):
    """Validation loss per character of several char-RNN runs against ``x`` (a column of each
    frame: characters seen, updates or seconds), one line per run; with ``training`` ({run:
    its smooth_loss.tsv}, against characters), its smoothed training loss per character as a
    dashed line of the same colour."""
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    for name, curve in curves.items():
        (line,) = ax.plot(curve[x], curve["val_loss"], marker=".", label=name)
        if training is not None:
            record = training[name]
            ax.plot(record[x], record["train_loss_per_char"], ls="--", color=line.get_color())
    ax.set_xlabel(xlabel)
    ylabel = "validation loss (nats per character)"
    ax.set_ylabel(ylabel + ("; dashed: training, smoothed" if training is not None else ""))
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sampling_measures(table: pd.DataFrame, path) -> None:
    """The sampling comparison: each measure against the temperature, one line per nucleus
    threshold."""
    panels = [
        ("ce_kept", "cross-entropy of p~ on validation\n(nats/char, positions not cut)"),
        ("cut_rate", "share of validation positions\nwhere p~ gives the truth 0"),
        ("word_hit_rate", "share of generated words\nfound in the training text"),
        ("distinct_2", "distinct word bigrams"),
        ("distinct_3", "distinct word trigrams"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(18, 3.8), constrained_layout=True)
    for ax, (key, label) in zip(axes, panels, strict=True):
        for top_p, part in table.groupby("top_p", sort=True):
            part = part.sort_values("temperature")
            ax.plot(part["temperature"], part[key], marker="o", label=f"θ = {top_p:g}")
        ax.set_xlabel("temperature T")
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ablation_gains(table: pd.DataFrame, title: str, path) -> None:
    """The ablation as a bar chart: each row's gain in test accuracy over the baseline
    (percentage points; ``table`` from ``ablation.bonus_table``), its test accuracy written
    at the bar."""
    rows = table.iloc[::-1]  # the baseline on top
    gains = 100 * rows["gain"].to_numpy(dtype=float)
    colors = [
        "0.6" if r == "baseline" else ("C2" if g >= 0 else "C3")
        for r, g in zip(rows["row"], gains, strict=True)
    ]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.4), constrained_layout=True)
    y = np.arange(len(rows))
    ax.barh(y, gains, color=colors)
    ax.set_yticks(y, rows["row"])
    ax.axvline(0, color="k", linewidth=0.8)
    span = max(np.abs(gains).max(), 0.5)
    for yi, g, acc in zip(y, gains, rows["test_acc"], strict=True):
        ax.text(
            g + (0.02 if g >= 0 else -0.02) * span,
            yi,
            f"{100 * acc:.2f} %",
            va="center",
            ha="left" if g >= 0 else "right",
            fontsize=8,
        )
    ax.set_xlim(-1.35 * span, 1.35 * span)
    ax.set_xlabel("gain in test accuracy over the baseline (percentage points)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def range_test_curves(record: pd.DataFrame, proposal: dict, title: str, path) -> None:
    """A learning-rate range test: loss and accuracy (training and validation) against the
    rising eta (log scale), with the proposed eta_min and eta_max marked."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), constrained_layout=True)
    for ax, key in zip(axes, ("loss", "acc"), strict=True):
        ax.plot(record["eta"], record[f"train_{key}"], marker=".", label="training")
        ax.plot(record["eta"], record[f"val_{key}"], marker=".", label="validation")
        for name, style in (("eta_min", ":"), ("eta_max", "--")):
            ax.axvline(
                proposal[name], color="k", linestyle=style, label=f"{name} = {proposal[name]:.3g}"
            )
        ax.set_xscale("log")
        ax.set_xlabel("learning rate η")
        ax.set_title(TITLES[key] if key == "acc" else "loss")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def architecture_accuracy(table: pd.DataFrame, title: str, path) -> None:
    """Test accuracy against depth (layers), one line per width."""
    fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
    for width, part in table.groupby("width", sort=True):
        part = part.sort_values("depth")
        ax.plot(part["depth"], part["test_acc"], marker="o", label=f"width {width}")
    ax.set_xlabel("depth (layers)")
    ax.set_ylabel("test accuracy")
    ax.set_xticks(sorted(table["depth"].unique()))
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def random_search_scores(table: pd.DataFrame, spec: dict, score: str, title: str, path) -> None:
    """A random search: the score of every trial against each searched parameter (one panel
    each; ``spec`` maps the parameters to their distributions, log-scaled for
    ``log10_uniform``, categories for ``choice``), the best trial circled.  Diverged trials
    are left out."""
    trials = table[~table["diverged"].astype(bool)]
    fig, axes = plt.subplots(
        1, len(spec), figsize=(3.6 * len(spec), 3.6), constrained_layout=True, squeeze=False
    )
    best = table.iloc[0]
    for ax, (parameter, dist) in zip(axes[0], spec.items(), strict=True):
        if dist["distribution"] == "choice":
            labels = [str(v) for v in trials[parameter]]
            categories = sorted(set(labels), key=lambda c: (len(c), c))
            x = [categories.index(c) for c in labels]
            ax.set_xticks(range(len(categories)), categories)
            best_x = (
                categories.index(str(best[parameter]))
                if str(best[parameter]) in categories
                else None
            )
        else:
            x = trials[parameter].astype(float)
            best_x = float(best[parameter])
            if dist["distribution"] == "log10_uniform":
                ax.set_xscale("log")
        ax.scatter(x, trials[score], alpha=0.8)
        if best_x is not None:
            ax.scatter([best_x], [best[score]], s=200, facecolors="none", edgecolors="k")
        ax.set_xlabel(parameter)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(score.replace("_", " "))
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def headline(labs, path) -> list[dict]:
    """The front page's picture: one panel per lab, each headline result's number (ours)
    next to the course's and the best student's, labelled with the data each was measured on
    (the reference numbers are for CIFAR-10 and the course's text: hatched, and marked not
    comparable, when ours were measured on other data).  A lab's panel shows the rows of its
    first row's metric (lab 4: the course's smooth loss).  Returns what each panel shows:
    its title and {bar label: heights}."""
    fig, axes = plt.subplots(1, len(labs), figsize=(4.2 * len(labs), 4.2), squeeze=False)
    drawn = []
    for ax, lab in zip(axes[0], labs, strict=True):
        rows = [r for r in lab.rows if r["metric"] == lab.rows[0]["metric"]] if lab.rows else []
        scale = 100.0 if rows and rows[0]["metric"] == "test accuracy" else 1.0
        x = np.arange(len(rows))
        bars = {}
        for i, (key, label) in enumerate(HEADLINE_BARS.items()):
            bars[label] = [r["numbers"][key] * scale for r in rows]
            hatch = "//" if key != "ours" and not lab.data.comparable else None
            ax.bar(x + (i - 1) * 0.27, bars[label], 0.27, label=label, hatch=hatch)
        ax.set_xticks(x, [r["result"] for r in rows], rotation=30, ha="right", fontsize=7)
        unit = " (%)" if scale == 100.0 else ""
        ax.set_ylabel((rows[0]["metric"] if rows else "") + unit)
        refs = "" if lab.data.comparable else " (not comparable)"
        title = f"{lab.lab}: ours on {lab.data.name};\ncourse, student: {lab.data.reference}{refs}"
        ax.set_title(title, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        drawn.append({"title": title, "bars": bars})
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return drawn


HEADLINE_BARS = {"ours": "ours", "course": "course", "student": "best student"}
