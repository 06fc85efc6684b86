"""The HTML report of the offline run, opened in headless Chromium (issue 13): the front
page's headline table is there after the page's scripts ran, each lab's category lists its
figures and tables, and the page logs no JavaScript error.  A screenshot of the front page is
kept under the test's temporary directory (its path is printed)."""

import os
import time

import pytest
from chromium import Page, executable
from conftest import TEST_CONFIG, snakemake

pytestmark = pytest.mark.workflow

if executable() is None:
    reason = "Chromium is not installed (apt-get install chromium; .ci/run installs it)"
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"CI must run the browser test: {reason}")
    pytest.skip(reason, allow_module_level=True)

CLICK = "[...document.querySelectorAll('nav a')].find(a => a.innerText.trim() === {!r}).click()"
# back to the list of categories (the breadcrumb's "Results" link, absent when already there)
CATEGORIES = (
    "([...document.querySelectorAll('nav a')].find(a => a.innerText.trim() === 'Results')"
    " || {click() {}}).click()"
)
# the text of the result panel (everything right of the navigation)
PANEL = "document.querySelector('#app').innerText.split('Results').pop()"


@pytest.fixture(scope="module")
def page(offline_run, tmp_path_factory):
    result = snakemake(
        "--configfile", TEST_CONFIG, "--report", "results/report.html", cwd=offline_run
    )
    assert result.returncode == 0, result.stderr[-3000:]
    browser = Page(tmp_path_factory.mktemp("chromium-profile"))
    try:
        browser.open((offline_run / "results/report.html").as_uri())
        browser.wait_for("document.querySelectorAll('table.headline tbody tr').length")
        yield browser
    finally:
        browser.close()


def test_front_page_has_the_headline_table(page, offline_run, tmp_path_factory, capsys):
    rows = page.evaluate(
        "[...document.querySelectorAll('table.headline tbody tr')]"
        ".map(tr => [...tr.cells].map(td => td.innerText.trim()))"
    )
    header = page.evaluate(
        "[...document.querySelectorAll('table.headline thead th')].map(th => th.innerText.trim())"
    )
    assert header == ["lab", "result", "ours", "course", "best student", "data"]
    assert {row[0] for row in rows} == {"lab1", "lab2", "lab3", "lab4"}
    # the runs of labN.headline, the search finals, each lab's bonus recipe (and its best vote
    # if better): the rows of results/summary.md
    summary = (offline_run / "results/summary.md").read_text(encoding="utf-8").splitlines()
    assert len(rows) == len([line for line in summary if line.startswith("|")]) - 2
    assert {row[0] for row in rows if row[1] == "bonus recipe"} == {"lab1", "lab2", "lab3"}
    assert all(row[2] for row in rows)  # our number in every row
    text = page.evaluate("document.body.innerText")
    assert "How did each lab do?" in text and "not comparable" in text
    assert "Gradient check: pass" in text and "Best model, the start of its passage" in text
    assert "System Message" not in text  # every caption and the front page are valid rst
    # the headline picture, above the table: ours next to the course's and the student's
    picture = page.evaluate(
        "(() => { const img = document.querySelector('img[alt^=\"each lab\"]');"
        " if (!img) return null; const table = document.querySelector('table.headline');"
        " return {width: img.naturalWidth, above: img.getBoundingClientRect().top"
        " < table.getBoundingClientRect().top}; })()"
    )
    assert picture and picture["width"] > 400 and picture["above"], picture
    # the top of the page (the report scrolls smoothly: jump, then wait until it is there)
    page.evaluate(
        "document.querySelectorAll('*').forEach(e => e.scrollTo({top: 0, behavior: 'instant'}))"
    )
    page.wait_for("[...document.querySelectorAll('*')].every(e => e.scrollTop === 0)")
    # scrolled to the top, the page starts inside the window: the report centres its content
    # vertically and would push the top of a long page out of reach (snakemake#2782)
    top = "document.querySelector('table.headline').closest('.document').getBoundingClientRect()"
    assert page.evaluate(f"{top}.top") >= 0
    shot = page.screenshot(tmp_path_factory.mktemp("screenshots") / "front_page.png")
    assert shot.stat().st_size > 20_000
    with capsys.disabled():  # shown in CI's output, not only when the test fails
        print(f"\nscreenshot of the report's front page: {shot}")


@pytest.mark.parametrize(
    "lab,subcategories,items",
    [
        (
            "lab1",
            {"gradient check", "results", "training curves", "class templates"},
            {"lam0_eta0.001", "lam1_eta0.001", "test_accuracy (TSV)", "gradient check"},
        ),
        (
            "lab2",
            {"gradient check", "results", "training curves", "lambda search", "random search"},
            {"fig3", "fig4", "lambda-search-final", "all trials, ranked", "3 best per stage"},
        ),
        (
            "lab2",
            {"bonus", "range tests"},
            {"ablation (TSV)", "ensemble bonus.snapshots", "m50_lam0.01", "proposed bounds"},
        ),
        (
            "lab3",
            {"gradient check", "results", "training curves", "comparisons", "lambda search"},
            {"k3_bn", "k9", "depth3", "sigma1e-4", "sensitivity (TSV)"},
        ),
        (
            "lab3",
            {"bonus"},
            {"ablation (markdown)", "architecture (depth x width)", "test accuracy vs depth"},
        ),
        (
            "lab4",
            {"gradient check", "training curves", "synthesized text", "comparisons", "sampling"},
            {"course", "adam_chunks_b32", "bonus (TSV)", "sampling comparison (TSV)"},
        ),
    ],
)
def test_each_lab_category_lists_its_figures_and_tables(page, lab, subcategories, items):
    page.evaluate(CATEGORIES)
    page.evaluate(CLICK.format(lab))
    listed = page.wait_for("[...document.querySelectorAll('nav a')].map(a => a.innerText.trim())")
    assert subcategories <= set(listed), listed
    seen = ""
    for sub in sorted(subcategories):
        page.evaluate(CLICK.format(sub))
        time.sleep(0.2)
        seen += page.evaluate(PANEL)
        page.evaluate(CLICK.format(lab))  # back to the lab's subcategories
    for item in items:
        assert item in seen, (item, seen[:2000])


def test_the_page_logged_no_javascript_error(page):
    assert page.errors() == []
