"""The inputs and params of the rules, from the plan: one function per rule (or family of
rules), each taking the plan and the job's wildcards as plain strings."""

from __future__ import annotations

from . import layout
from .mlp import range_test_of
from .plan import Plan


def proposal(plan: Plan, lab: str, settings: dict) -> dict[str, str]:
    """{"proposal": file} when the settings take their cyclic bounds from a range test."""
    name = range_test_of(settings)
    if name is None:
        return {}
    return {"proposal": layout.path(layout.RANGE_TEST_PROPOSAL, lab=lab, name=name)}


def training(plan: Plan, lab: str, split: str, settings: dict, **grid) -> dict:
    """Inputs of a job that trains: the split's data, the search's grid if any, the gradient
    check it waits for, and the range test's proposal if the settings use one."""
    return (
        {"split": plan.split_file(split)}
        | grid
        | {"gradcheck": plan.gradcheck_gate(lab)}
        | proposal(plan, lab, settings)
    )


def train(plan: Plan, lab: str, run: str) -> dict:
    run = plan.run(lab, run)
    return training(plan, lab, run.split, run.settings)


def search_trial(plan: Plan, lab: str, search: str, stage: str) -> dict:
    s = plan.search(lab, search)
    grid = s.file(layout.SEARCH_GRID, stage=stage)
    return training(plan, lab, s.split, s.trial_settings, grid=grid)


def search_final(plan: Plan, lab: str, search: str) -> dict:
    s = plan.search(lab, search)
    ranked = s.file(layout.SEARCH_RANKED)
    return training(plan, lab, s.final_split, s.final_settings, grid=ranked)


def stage_metrics(plan: Plan, lab: str, search: str, stage: str) -> list[str]:
    s = plan.search(lab, search)
    return [s.trial_files(stage, trial)["metrics"] for trial in s.trials(stage)]


def search_rank(plan: Plan, lab: str, search: str) -> dict[str, list[str]]:
    """{stage: the metrics of its trials}."""
    stages = plan.search(lab, search).stages
    return {stage: stage_metrics(plan, lab, search, stage) for stage in stages}


def range_test(plan: Plan, lab: str, name: str) -> dict:
    test = plan.lab(lab).range_tests[name]
    return {"split": plan.split_file(test.split), "gradcheck": plan.gradcheck_gate(lab)}


def ensemble(plan: Plan, lab: str, name: str) -> dict:
    ens = plan.lab(lab).ensembles[name]
    runs = [plan.run(lab, run) for run in ens.runs]
    return {
        "params": [run.files["params"] for run in runs],
        "metrics": [run.files["metrics"] for run in runs],
        "split": plan.split_file(runs[0].split),
    }


def bonus_metrics(plan: Plan, lab: str) -> list[str]:
    return [plan.run(lab, run).files["metrics"] for _, run, _ in plan.lab(lab).bonus_rows()]


def ensemble_tables(plan: Plan, lab: str) -> list[str]:
    return [layout.path(layout.ENSEMBLE, lab=lab, ensemble=e) for e in plan.lab(lab).ensembles]


def bonus_timing_rows(plan: Plan, lab: str) -> dict[str, list[str]]:
    """{row of the ablation table: the benchmark files of its jobs} (an ensemble's rows: its
    members' training and the ensemble's evaluation)."""
    mlp = plan.lab(lab)

    def train_job(run):
        return layout.path(layout.JOB_TRAIN, lab=lab, run=run)

    rows = {row: [train_job(run)] for row, run, _ in mlp.bonus_rows()}
    for name, ens in mlp.ensembles.items():
        files = [train_job(run) for run in ens.runs]
        files.append(layout.path(layout.JOB_ENSEMBLE, lab=lab, ensemble=name))
        for vote in ("majority", "soft"):
            rows[f"{ens.spec['kind']}_{vote}"] = files
    return rows


def bonus_timing(plan: Plan, lab: str) -> list[str]:
    return sorted({f for files in bonus_timing_rows(plan, lab).values() for f in files})


def range_test_proposals(plan: Plan, lab: str) -> list[str]:
    names = plan.lab(lab).range_tests
    return [layout.path(layout.RANGE_TEST_PROPOSAL, lab=lab, name=name) for name in names]


def section_metrics(plan: Plan, lab: str, section: str) -> dict[str, str]:
    """{run: metrics file} of the runs a section (architecture, svm_vs_ce) generates."""
    return {run: plan.run(lab, run).files["metrics"] for run in plan.lab(lab).section_runs(section)}


def final_figure_name(search: str) -> str:
    return f"{search}-search-final"


def table_entries(plan: Plan, lab: str, table: str) -> dict[str, str]:
    """{row name: metrics file} of a lab's table: every configured run and every search's
    final run for ``test_accuracy``, else the runs the table lists in config."""
    mlp = plan.lab(lab)
    runs = mlp.configured if table == "test_accuracy" else mlp.tables[table]
    entries = {run: plan.run(lab, run).files["metrics"] for run in runs}
    if table == "test_accuracy":
        for search in plan.searches[lab].values():
            entries[f"{search.name} search: final"] = search.file(layout.FINAL_METRICS)
    return entries


def timed_jobs(plan: Plan, lab: str) -> dict[str, str]:
    """{job name: Snakemake benchmark file} of every training job of a lab (runs, generated
    runs, range tests, search trials, search finals), for its timing table."""
    mlp = plan.lab(lab)
    jobs = {run: layout.path(layout.JOB_TRAIN, lab=lab, run=run) for run in mlp.runs}
    for name in mlp.range_tests:
        jobs[f"range test {name}"] = layout.path(layout.JOB_RANGE_TEST, lab=lab, name=name)
    for search in plan.searches[lab].values():
        for stage in search.stages:
            for trial in search.trials(stage):
                jobs[f"{search.name} {stage} {trial}"] = search.file(
                    layout.JOB_TRIAL, stage=stage, trial=trial
                )
        jobs[f"{search.name} final"] = search.file(layout.JOB_FINAL)
    return jobs


def comparison_histories(plan: Plan, lab: str, comparison: str) -> list[str]:
    runs = plan.lab(lab).comparisons[comparison]
    return [plan.run(lab, run).files["history"] for run in runs]


def history_of(plan: Plan, lab: str, name: str) -> str:
    """The history behind a curves figure: a run's, or a search's final run's."""
    if name in plan.lab(lab).runs:
        return plan.run(lab, name).files["history"]
    for search in plan.searches[lab].values():
        if name == final_figure_name(search.name):
            return search.file(layout.FINAL_HISTORY)
    raise ValueError(f"no run or search of {lab} is called {name!r}")


# ---- lab 4


def rnn_comparison(plan: Plan, comparison: str, kind: str) -> list[str]:
    """Per-run inputs of a lab-4 comparison: ``metrics``, ``curves`` (validation records),
    ``training`` (smoothed training losses), ``timing`` (the wall-clock records) or
    ``benchmarks`` (the jobs' benchmark files)."""
    pattern = {
        "metrics": layout.RNN_METRICS,
        "curves": layout.RNN_VALIDATION,
        "training": layout.RNN_SMOOTH_LOSS,
        "timing": layout.RNN_TIMING,
        "benchmarks": layout.JOB_RNN_TRAIN,
    }[kind]
    return [layout.path(pattern, run=run) for run in plan.lab4.comparisons[comparison]]


def rnn_sampling_model(plan: Plan) -> str:
    return layout.path(layout.RNN_MODEL, run=plan.lab4.sampling["run"])


def rnn_search_metrics(plan: Plan, search: str) -> list[str]:
    s = plan.lab4.searches[search]
    return [s.trial_file(layout.RNN_TRIAL_METRICS, i) for i in range(len(s.drawn))]
