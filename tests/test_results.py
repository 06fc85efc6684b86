"""Results a reader can trust at a glance (issue 13): reruns give the same bytes, every
metrics.json says what produced it, the headline table answers "how did each lab do", and
each lab can be built on its own."""

import base64
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import TEST_CONFIG, snakemake

from dd2424.report import plots, summary
from dd2424.report.summary import numbers

pytestmark = pytest.mark.workflow


def files_under(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted((directory / "results").rglob("*"))
        if p.is_file()
    }


# A representative part of the DAG, rebuilt from scratch: lab 1 (runs, tables, templates,
# curves, its bonus ablation with a seed ensemble and the CE-vs-SVM table), lab 2's lambda
# search (grids, every trial, ranking, final run), its range tests and random search, and
# lab 4's course run (model, records, samples, passages) with its gradient check.
RERUN_TARGETS = [
    "lab1",
    "results/lab2/search/lambda/final/metrics.json",
    "results/lab2/search/lambda/best.md",
    "results/lab2/range_tests.md",
    "results/lab2/search/random/best.md",
    "results/lab4/gradcheck.tsv",
    "results/lab4/runs/course/samples.md",
    "results/lab4/figures/course_smooth_loss.png",
]


@pytest.fixture(scope="module")
def second_run(tmp_path_factory):
    """That part of the offline DAG again, in another fresh directory, with another hash
    seed."""
    workdir = tmp_path_factory.mktemp("rerun")
    result = snakemake(
        *RERUN_TARGETS,
        "--cores",
        "2",
        "--configfile",
        TEST_CONFIG,
        cwd=workdir,
        env={"PYTHONHASHSEED": "1"},
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


def test_a_rerun_gives_byte_identical_results(offline_run, second_run):
    first, second = files_under(offline_run), files_under(second_run)
    assert second and set(second) <= set(first), sorted(set(second) - set(first))
    differ = [name for name in second if first[name] != second[name]]
    assert not differ, f"{len(differ)} of {len(second)} result files differ: {differ}"
    # every kind of result is covered
    suffixes = {Path(name).suffix for name in second}
    assert {".json", ".tsv", ".md", ".png", ".npz", ".txt"} <= suffixes
    print(f"{len(second)} files under results/ are byte-identical:")
    print("\n".join(sorted(second)))


def test_wall_times_stay_out_of_results_and_go_to_timing_tables(offline_run):
    for path in (offline_run / "results").rglob("*.tsv"):
        columns = pd.read_csv(path, sep="\t", nrows=0).columns
        assert not [c for c in columns if "second" in c or c.endswith("_s")], path
    metrics = json.loads((offline_run / "results/lab2/runs/fig3/metrics.json").read_text())
    assert not [k for k in metrics if "second" in k or "per_s" in k]
    timing = pd.read_csv(offline_run / "benchmarks/timing/lab2.tsv", sep="\t")
    assert {"fig3", "fig4", "lambda coarse 0", "lambda final"} <= set(timing["job"])
    # generated runs, range tests and random-search trials are timed too
    assert {"bonus.recipe", "range test m50_lam0.01", "random random 0"} <= set(timing["job"])
    assert (timing["seconds"] > 0).all() and (timing["max_rss_mb"] > 0).all()


def test_metrics_record_what_produced_them(offline_run):
    metrics = json.loads((offline_run / "results/lab3/runs/k3_bn/metrics.json").read_text())
    assert metrics["seed"] == metrics["settings"]["seed"] == 400
    assert metrics["settings"]["batch_norm"] is True
    split = metrics["inputs"]["split"]
    assert split["path"] == "data/synthetic/processed/all45k.npz"
    import hashlib

    digest = hashlib.sha256((offline_run / split["path"]).read_bytes()).hexdigest()
    assert split["sha256"] == digest
    versions = metrics["versions"]
    assert {"python", "numpy", "dd2424", "dd2424_code_sha256"} <= set(versions)
    assert len(versions["dd2424_code_sha256"]) == 64


def test_headline_table_has_a_row_per_lab_and_marks_what_is_not_comparable(offline_run):
    text = (offline_run / "results/summary.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    table = pd.DataFrame(cells[2:], columns=cells[0])  # cells[1] is the |:---| rule
    assert set(table["lab"]) == {"lab1", "lab2", "lab3", "lab4"}
    assert "lambda search: final" in set(table["result"])  # each search's final run
    row = table[table["result"] == "lam0_eta0.001"].iloc[0]
    assert row["data"] == "synthetic" and row["course"] == "(38.83 %)"  # marked, see below
    assert "the reference numbers in parentheses are not comparable" in text
    for lab in ("lab1", "lab2", "lab3", "lab4"):
        assert f"## {lab}:" in text
    assert text.count("Gradient check: pass") == 4
    assert "Best model, the start of its passage" in text
    front = (offline_run / "results/front_page.rst").read_text(encoding="utf-8")
    assert ".. csv-table::" in front and '"lab4", "course"' in front
    # the headline picture comes first, embedded: seen before anything is read
    picture = (offline_run / "results/summary.png").read_bytes()
    assert front.index("data:image/png;base64,") < front.index(".. csv-table::")
    embedded = front.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode("".join(embedded.split())) == picture


def test_the_headline_picture_puts_each_labs_number_next_to_the_references(tmp_path):
    from dd2424.report.summary import Data, Lab

    synthetic = Data("synthetic", "synthetic images", False, "CIFAR-10")
    row = {"result": "fig4", "metric": "test accuracy"}
    lab = Lab("lab2", "two layers", synthetic, [row | {"numbers": numbers(0.5, 0.46, 0.52)}])
    drawn = plots.headline([lab], tmp_path / "h.png")
    assert drawn[0]["bars"] == {"ours": [50.0], "course": [46.0], "best student": [52.0]}
    assert "ours on synthetic" in drawn[0]["title"]
    assert "CIFAR-10 (not comparable)" in drawn[0]["title"]
    assert (tmp_path / "h.png").read_bytes().startswith(b"\x89PNG")


def test_lab_tables_label_the_course_numbers_with_the_data(offline_run):
    md = (offline_run / "results/lab1/test_accuracy.md").read_text()
    assert "| nan" not in md and "nan |" not in md  # missing numbers are empty cells
    assert "Measured on synthetic images" in md and "not comparable" in md
    table = pd.read_csv(offline_run / "results/lab1/test_accuracy.tsv", sep="\t")
    assert (table["data"] == "synthetic").all()
    assert table.set_index("run").loc["lam0_eta0.001", "student_test_acc"] == 0.3975


def test_the_gradient_check_verdict_gives_the_margin_and_names_failures():
    table = pd.DataFrame(
        {
            "check": ["a", "a", "b"],
            "parameter": ["W1", "b1", "W1"],
            "max_abs_diff": [1e-10, 2e-10, 3e-9],
            "max_rel_error": [1e-7, 0.3, 2e-6],  # 0.3: a near-zero entry's rounding noise
            "worst_vs_tolerance": [0.002, 0.004, 0.25],
            "passed": [True, True, True],
        }
    )
    text = summary.gradcheck_verdict(table)
    assert text.startswith("pass (2 checks, 3 parameter rows)")
    assert "25 % of its tolerance" in text and "max relative error 0.3 " in text
    table.loc[2, ["passed", "worst_vs_tolerance"]] = [False, 3.0]
    assert summary.gradcheck_verdict(table).startswith("FAIL (1 of 3 parameter rows)")
