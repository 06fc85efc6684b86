"""Report figures.  Uses matplotlib's non-interactive Agg backend."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

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


def rnn_validation_curves(curves: dict[str, pd.DataFrame], x: str, xlabel: str, title: str, path):
    """Validation loss per character of several char-RNN runs against ``x`` (a column of each
    frame: characters seen, updates or seconds), one line per run."""
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    for name, curve in curves.items():
        ax.plot(curve[x], curve["val_loss"], marker=".", label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("validation loss (nats per character)")
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
