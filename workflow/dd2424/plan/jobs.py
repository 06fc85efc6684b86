"""Every job the pipeline runs for ``all``, as {rule: [each job's output files]}: what a dry
run of the whole DAG must show (tests/test_plan.py compares the two, so the plan and the
rules cannot drift apart)."""

from __future__ import annotations

from collections import defaultdict

from dd2424.data.cifar import CIFAR_FILES

from . import layout
from .inputs import final_figure_name
from .plan import Plan


class Jobs(defaultdict):
    """{rule name: [the output files of one job, ...]}."""

    def __init__(self):
        super().__init__(list)

    def add(self, rule: str, *files: str) -> None:
        self[rule].append(tuple(files))


def outputs(plan: Plan) -> dict[str, list[tuple[str, ...]]]:
    """{rule name: [the output files of each of its jobs]} of the DAG of ``all``."""
    out = Jobs()
    _data(plan, out)
    for lab in plan.lab_names:
        _lab(plan, lab, out)
    _lab4(plan, out)
    out.add("summary", layout.SUMMARY, layout.SUMMARY_FIGURE, layout.FRONT_PAGE)
    return dict(out)


def _splits_used(plan: Plan) -> set[str]:
    splits = set()
    for lab in plan.labs.values():
        if lab.gradcheck:
            splits.add(lab.split)
        splits |= {run.split for run in lab.runs.values()}
        splits |= {test.split for test in lab.range_tests.values()}
    for searches in plan.searches.values():
        for search in searches.values():
            splits |= {search.split, search.final_split}
    return splits


def _data(plan: Plan, out: Jobs) -> None:
    cifar = plan.cifar
    batches = [cifar.batch_file(name) for name in CIFAR_FILES]
    if cifar.source == "synthetic":
        out.add("synthetic_cifar10", *batches)
    else:
        out.add("download_cifar10", layout.CIFAR_ARCHIVE)
        out.add("extract_cifar10", *batches, layout.BATCH_SIZES)
    for split in sorted(_splits_used(plan)):
        out.add("preprocess", cifar.split_file(split), cifar.split_digest(split))
    rule = "synthetic_corpus" if plan.corpus.source == "synthetic" else "download_corpus"
    out.add(rule, plan.corpus.file)


def _lab(plan: Plan, name: str, out: Jobs) -> None:
    lab = plan.lab(name)

    def p(pattern, **wildcards):
        return layout.path(pattern, lab=name, **wildcards)

    if lab.gradcheck:
        out.add("gradcheck", p(layout.GRADCHECK))
    for run in lab.runs.values():
        out.add("train", *run.files.values())
    for table in ["test_accuracy", *lab.tables]:
        out.add("results_table", p(layout.TABLE, table=table), p(layout.TABLE_MD, table=table))
    out.add("timing_table", p(layout.TIMING))
    for comparison in lab.comparisons:
        out.add("plot_comparison", p(layout.COMPARISON_FIGURE, comparison=comparison))
    for curves in [*lab.configured, *(final_figure_name(s) for s in plan.searches[name])]:
        out.add("plot_curves", p(layout.CURVES, name=curves))
    for run in lab.configured:
        if not plan.run(name, run).settings["hidden"]:
            out.add("plot_templates", p(layout.TEMPLATES, run=run))
    for search in plan.searches[name].values():
        _search(search, out)
    for e in lab.ensembles:
        out.add("ensemble", p(layout.ENSEMBLE, ensemble=e), p(layout.ENSEMBLE_MD, ensemble=e))
    if lab.bonus:
        out.add("bonus_table", p(layout.BONUS), p(layout.BONUS_MD), p(layout.BONUS_FIGURE))
        out.add("bonus_timing", p(layout.TIMING_BONUS))
    for test in lab.range_tests:
        out.add(
            "range_test",
            p(layout.RANGE_TEST_HISTORY, name=test),
            p(layout.RANGE_TEST_PROPOSAL, name=test),
        )
        out.add("plot_range_test", p(layout.RANGE_TEST_FIGURE, name=test))
    if lab.range_tests:
        out.add("range_test_table", p(layout.RANGE_TESTS), p(layout.RANGE_TESTS_MD))
    if lab.section("architecture"):
        files = (layout.ARCHITECTURE, layout.ARCHITECTURE_MD, layout.ARCHITECTURE_FIGURE)
        out.add("architecture_table", *map(p, files))
    if lab.section("svm_vs_ce"):
        out.add("svm_vs_ce_table", p(layout.SVM_VS_CE), p(layout.SVM_VS_CE_MD))


def _search(search, out: Jobs) -> None:
    for stage in search.stages:
        out.add(f"search_{stage}_grid", search.file(layout.SEARCH_GRID, stage=stage))
        for trial in search.trials(stage):
            out.add("search_trial", *search.trial_files(stage, trial).values())
    ranked = (layout.SEARCH_RANKED, layout.SEARCH_RANKED_MD, layout.SEARCH_BEST)
    out.add("search_rank", *map(search.file, (*ranked, layout.SEARCH_FIGURE)))
    final = (layout.FINAL_PARAMS, layout.FINAL_HISTORY, layout.FINAL_METRICS)
    out.add("search_final", *map(search.file, final))


RNN_TRAIN = (
    layout.RNN_MODEL,
    layout.RNN_SMOOTH_LOSS,
    layout.RNN_VALIDATION,
    layout.RNN_TRAINING_SAMPLES,
    layout.RNN_METRICS,
    layout.RNN_TIMING,
)
RNN_COMPARISON_RULES = {
    "rnn_compare": (
        layout.RNN_COMPARISON,
        layout.RNN_COMPARISON_MD,
        layout.RNN_COMPARISON_FIGURE,
    ),
    "rnn_compare_timing": (
        layout.RNN_COMPARISON_TIMING,
        layout.RNN_COMPARISON_TIMING_MD,
        layout.RNN_COMPARISON_TIMING_FIGURE,
    ),
}


def _lab4(plan: Plan, out: Jobs) -> None:
    lab4 = plan.lab4
    out.add("rnn_gradcheck", layout.RNN_GRADCHECK)
    for run in lab4.runs.values():
        out.add("rnn_train", *map(run.file, RNN_TRAIN))
        out.add("rnn_sample", run.file(layout.RNN_PASSAGE), run.file(layout.RNN_SAMPLES))
        out.add("plot_smooth_loss", run.file(layout.RNN_SMOOTH_LOSS_FIGURE))
    for name in lab4.comparisons:
        for rule, files in RNN_COMPARISON_RULES.items():
            out.add(rule, *(layout.path(f, comparison=name) for f in files))
    if lab4.sampling:
        sampling = (layout.RNN_SAMPLING, layout.RNN_SAMPLING_MD, layout.RNN_SAMPLING_FIGURE)
        out.add("rnn_sampling", *sampling)
    trial = (layout.RNN_TRIAL_METRICS, layout.RNN_TRIAL_VALIDATION, layout.RNN_TRIAL_SMOOTH_LOSS)
    ranked = (layout.RNN_SEARCH_RANKED, layout.RNN_SEARCH_RANKED_MD, layout.RNN_SEARCH_BEST)
    for search in lab4.searches.values():
        out.add("rnn_search_grid", search.file(layout.RNN_SEARCH_GRID))
        for i in range(len(search.drawn)):
            out.add("rnn_search_trial", *(search.trial_file(f, i) for f in trial))
        out.add("rnn_search_rank", *map(search.file, ranked))
