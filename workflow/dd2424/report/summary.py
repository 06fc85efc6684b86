"""The headline of the results: how did each lab do?

One row per result worth a headline (the runs of labs 1-3 the config names, every search's
final run, the recipe of each lab's bonus ablation and its ensemble if better, and the RNN of
lab 4), our number next to the course's and the best published student's (for a bonus recipe:
the best published student's with bonus improvements), and the data each was measured on.
The reference numbers are for CIFAR-10 (labs 1-3) and the course's Goblet of Fire text (lab 4):
on other data they are not comparable, so they are marked and the text says why.

Rendered as markdown (``results/summary.md``) and as the reStructuredText front page of the
HTML report, with the gradient-check verdict, the key figures and lab 4's best passage.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..io import read_json
from ..mlp.ablation import bonus_headline


@dataclass(frozen=True)
class Data:
    """What a lab's numbers were measured on; ``comparable`` when it is the data the course's
    numbers are for."""

    name: str
    description: str
    comparable: bool
    reference: str  # the data the course's numbers are for


@dataclass
class Lab:
    """Everything the summary says about one lab."""

    lab: str
    title: str
    data: Data
    rows: list[dict] = field(default_factory=list)  # result, what, metric, ours, course, student
    gradcheck: pd.DataFrame | None = None
    figures: Sequence[str] = ()  # its key figures and tables, paths under results/<lab>/
    passage: str = ""


def percent(value) -> str:
    return "" if value is None or _missing(value) else f"{100 * float(value):.2f} %"


def loss(value) -> str:
    return "" if value is None or _missing(value) else f"{float(value):.2f}"


def _missing(value) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def numbers(ours, course, student) -> dict[str, float]:
    """A row's numbers for the headline figure (NaN where there is none)."""
    values = {"ours": ours, "course": course, "student": student}
    return {k: float("nan") if v is None or _missing(v) else float(v) for k, v in values.items()}


def describe_run(row: Mapping) -> str:
    """A short description of a run from its row of a lab's test-accuracy table."""
    hidden = str(row["hidden"])
    net = "1 layer" if hidden == "none" else f"hidden {hidden}"
    if str(row.get("batch_norm")) == "True":
        net += ", BN"
    return (
        f"{net}, λ = {float(row['lambda']):.4g}, {row['schedule']}, {float(row['epochs']):g} epochs"
    )


def network_rows(table: pd.DataFrame, headline: Sequence[str]) -> list[dict]:
    """Headline rows of a lab of labs 1-3 from its test-accuracy table: the runs named in
    ``headline``, then every search's final run."""
    final = table["run"].astype(str).str.endswith("search: final")
    chosen = table[table["run"].isin(headline) | final]
    rows = []
    for _, r in chosen.iterrows():
        diverged = not _missing(r.get("diverged_at"))
        rows.append(
            {
                "result": r["run"],
                "what": describe_run(r),
                "metric": "test accuracy",
                "ours": percent(r["test_acc"]) + (" (diverged)" if diverged else ""),
                "course": percent(r.get("course_test_acc")),
                "student": percent(r.get("student_test_acc")),
                "numbers": numbers(
                    r["test_acc"], r.get("course_test_acc"), r.get("student_test_acc")
                ),
            }
        )
    return rows


def bonus_rows(table: pd.DataFrame) -> list[dict]:
    """Headline rows of a lab's ablation table (``ablation.bonus_table``): the recipe that
    combines the bonus improvements, and its best ensemble vote if that is better, next to the
    best published student's number with bonus improvements (the course quotes none)."""
    rows = []
    for r in bonus_headline(table):
        diverged = not _missing(r.get("diverged_at"))
        result = "bonus recipe" if r["row"] == "recipe" else f"bonus recipe, {r['row']}"
        rows.append(
            {
                "result": result,
                "what": f"{r['what']} ({r['loss']}, {float(r['epochs']):g} epochs)",
                "metric": "test accuracy",
                "ours": percent(r["test_acc"]) + (" (diverged)" if diverged else ""),
                "course": "",
                "student": percent(r.get("student_bonus_test_acc")),
                "numbers": numbers(r["test_acc"], None, r.get("student_bonus_test_acc")),
            }
        )
    return rows


def rnn_row(run: str, metrics: Mapping, reference: Mapping) -> dict:
    """A headline row of lab 4: the best smooth loss of a run that picks its model by it
    (the course's protocol, next to the course's and the student's smooth loss), else the
    best validation loss per character (no reference number exists for it)."""
    settings = metrics["settings"]
    what = (
        f"{settings['optimizer']}, {settings['walk']} walk, B = {settings['batch']}, "
        f"m = {settings['m']}, {metrics['updates']:,} updates"
    )
    if metrics["best_val_loss"] is None:
        return {
            "result": run,
            "what": what,
            "metric": "best smooth loss",
            "ours": loss(metrics["best_smooth_loss"]),
            "course": loss(reference.get("course_smooth_loss")),
            "student": loss(reference.get("student_smooth_loss")),
            "numbers": numbers(
                metrics["best_smooth_loss"],
                reference.get("course_smooth_loss"),
                reference.get("student_smooth_loss"),
            ),
        }
    return {
        "result": run,
        "what": what,
        "metric": "best validation loss per character",
        "ours": f"{float(metrics['best_val_loss']):.3f}",
        "course": "",
        "student": "",
        "numbers": numbers(metrics["best_val_loss"], None, None),
    }


def gradcheck_verdict(table: pd.DataFrame) -> str:
    """Pass/fail, and the margin: an entry passes if |g_a - g_n| <= abs + rel (|g_a| + |g_n|),
    so the worst entry's share of that tolerance says how close the check came to failing.
    The spec's relative error is given too, but on near-zero entries it is rounding noise."""
    passed = bool(table["passed"].all())
    checks = table["check"].nunique()
    failed = int((~table["passed"].astype(bool)).sum())
    verdict = "pass" if passed else f"FAIL ({failed} of {len(table)} parameter rows)"
    noise = passed and table["max_rel_error"].max() > 1e-3
    return (
        f"{verdict} ({checks} check{'s' if checks > 1 else ''}, {len(table)} parameter rows): "
        f"the worst entry used {100 * table['worst_vs_tolerance'].max():.2g} % of its tolerance "
        "(abs_threshold + rel_threshold times the sum of both gradients' magnitudes); "
        f"max absolute difference {table['max_abs_diff'].max():.2g}, max relative error "
        f"{table['max_rel_error'].max():.2g}"
        # a passing entry with a large relative error has both gradients near zero
        + (" (of a near-zero entry: rounding noise)" if noise else "")
    )


def headline(labs: Sequence[Lab]) -> pd.DataFrame:
    """The headline table: one row per headline result of every lab."""
    out = []
    for lab in labs:
        for row in lab.rows:
            out.append({"lab": lab.lab, **row, "data": lab.data.name})
            if not lab.data.comparable:  # marked, not printed as if comparable (see the note)
                for key in ("course", "student"):
                    if row[key]:
                        out[-1][key] = f"({row[key]})"
    return pd.DataFrame(
        out, columns=["lab", "result", "what", "metric", "ours", "course", "student", "data"]
    )


def comparability_note(labs: Sequence[Lab]) -> str:
    apart: dict[str, list[str]] = {}
    for lab in labs:
        if not lab.data.comparable:
            apart.setdefault(lab.data.description, []).append(lab.lab)
    if not apart:
        return (
            "Every number was measured on the data the course's numbers are for (CIFAR-10, "
            "the course's Goblet of Fire text), so the columns compare like with like."
        )
    which = "; ".join(f"{', '.join(names)} on {what}" for what, names in apart.items())
    return (
        "The course's and the students' numbers are for CIFAR-10 (labs 1-3) and the "
        f"course's Goblet of Fire text (lab 4). These results were measured on other data "
        f"({which}): the reference numbers in parentheses are not comparable with ours."
    )


SHORT_METRIC = {
    "test accuracy": "test acc.",
    "best smooth loss": "smooth loss",
    "best validation loss per character": "val. loss/char",
}

COLUMNS = {
    "lab": "lab",
    "result": "result",
    "what": "setting",
    "metric": "metric",
    "ours": "ours",
    "course": "course",
    "student": "best student",
    "data": "data",
}


def markdown(labs: Sequence[Lab]) -> str:
    """``results/summary.md``: the headline table, then per lab the gradient check, the
    figures and (lab 4) the start of the best model's passage."""
    table = headline(labs).rename(columns=COLUMNS)
    lines = [
        "# How did each lab do?",
        "",
        table.to_markdown(index=False),
        "",
        comparability_note(labs),
        "",
    ]
    for lab in labs:
        lines += [f"## {lab.lab}: {lab.title}", "", f"Data: {lab.data.description}.", ""]
        if lab.gradcheck is not None:
            lines += [f"Gradient check: {gradcheck_verdict(lab.gradcheck)}.", ""]
        if lab.figures:
            lines += ["Figures: " + ", ".join(f"`{f}`" for f in lab.figures) + ".", ""]
        if lab.passage:
            lines += ["Best model, the start of its passage:", "", "```", lab.passage, "```", ""]
    return "\n".join(lines)


def _jinja_safe(text: str) -> str:
    """The report renders the front page as a Jinja template first: break up ``{{``, ``{%``
    and ``{#`` in text that is not ours (a generated passage) so it is shown as is."""
    for opening in ("{{", "{%", "{#"):
        text = text.replace(opening, opening[0] + "\u200b" + opening[1])
    return text


def _rst_table(table: pd.DataFrame) -> list[str]:
    header = ", ".join(f'"{c}"' for c in table.columns)
    lines = [".. csv-table::", f"   :header: {header}", "   :class: headline", ""]
    for _, row in table.iterrows():
        cells = ", ".join('"' + str(v).replace('"', '""') + '"' for v in row)
        lines.append(f"   {cells}")
    return lines


# The report centres its page vertically in a window-high box, so a landing page taller than
# the window loses its top, out of reach of scrolling (snakemake/snakemake#2782, open): the
# intro and the first rows of the headline table.  "safe" centring falls back to the start
# when the content overflows.
SCROLL_FIX = """.. raw:: html

   <style>
   #app .h-screen.overflow-auto { align-items: safe center; justify-content: safe center; }
   </style>
"""


def embedded_png(png: bytes, alt: str) -> list[str]:
    """A raw HTML image with the PNG in it: seen on the front page before anything is read."""
    data = base64.b64encode(png).decode("ascii")
    # in lines of 76 (docutils refuses lines of over 10,000 characters; a data URL's base64
    # may hold line breaks and spaces: browsers drop them)
    lines = [data[i : i + 76] for i in range(0, len(data), 76)]
    return [
        ".. raw:: html",
        "",
        f'   <img alt="{alt}" style="max-width: 100%" src="data:image/png;base64,',
        *(f"   {line}" for line in lines),
        '   ">',
        "",
    ]


def front_page(labs: Sequence[Lab], intro: str, linkable: set[str], figure: bytes = b"") -> str:
    """The report's landing page (reStructuredText): the headline figure (``figure``, a PNG)
    and table, then per lab the gradient-check verdict, its key figures and tables (a link to
    the report's entry for each name in ``linkable``: the report defines one link per result
    file name, usable only when the name is unique), and lab 4's passage."""
    lines = [SCROLL_FIX, intro, "", "How did each lab do?", "---------------------", ""]
    if figure:
        lines += embedded_png(figure, "each lab's result next to the course's and the student's")
    table = headline(labs)
    table["ours"] = table["ours"] + " " + table["metric"].map(SHORT_METRIC)
    lines += _rst_table(table.drop(columns=["what", "metric"]).rename(columns=COLUMNS))
    lines += ["", comparability_note(labs), ""]
    for lab in labs:
        title = f"{lab.lab}: {lab.title}"
        lines += [title, "~" * len(title), "", f"Data: {lab.data.description}.", ""]
        if lab.gradcheck is not None:
            lines += [f"Gradient check: {gradcheck_verdict(lab.gradcheck)}.", ""]
        if lab.figures:
            names = [
                f"`{Path(f).name}`_" if Path(f).name in linkable else f"``{f}``"
                for f in lab.figures
            ]
            lines += ["Key figures and tables: " + ", ".join(names) + ".", ""]
        if lab.passage:
            lines += ["Best model, the start of its passage::", ""]
            lines += ["   " + line for line in _jinja_safe(lab.passage).splitlines()] + [""]
    return "\n".join(lines) + "\n"


def read_labs(files: Mapping[str, str], params) -> list[Lab]:
    """The labs of the summary from the summary rule's inputs (``files``: each lab's
    ``<lab>_table``, ``<lab>_bonus``, ``<lab>_gradcheck``; ``lab4_gradcheck``,
    ``lab4_metrics_<run>`` and ``lab4_passage``) and params (``labs``, ``titles``, ``data``,
    ``headline``, ``figures``, ``reference``)."""
    cifar, corpus = Data(**params.data["cifar"]), Data(**params.data["corpus"])

    def table(name: str):
        return pd.read_csv(files[name], sep="\t") if name in files else None

    labs = []
    for lab in params.labs:
        rows = network_rows(table(f"{lab}_table"), params.headline[lab])
        if f"{lab}_bonus" in files:
            rows += bonus_rows(table(f"{lab}_bonus"))
        gradcheck = table(f"{lab}_gradcheck")
        labs.append(Lab(lab, params.titles[lab], cifar, rows, gradcheck, params.figures[lab]))
    passage = files.get("lab4_passage")
    rnn_rows = [
        rnn_row(run, read_json(files[f"lab4_metrics_{run}"]), params.reference)
        for run in params.headline["lab4"]
    ]
    lab4 = Lab("lab4", params.titles["lab4"], corpus, rnn_rows, table("lab4_gradcheck"))
    lab4.figures = params.figures["lab4"]
    lab4.passage = Path(passage).read_text(encoding="utf-8")[:600] if passage else ""
    return [*labs, lab4]
