"""What each target builds (``snakemake lab2``, ``lab4``, ``report``, ``all``), what the
headline reads, and which figures and tables the report's front page lists."""

from __future__ import annotations

from pathlib import Path

from . import layout
from .inputs import final_figure_name
from .plan import Plan

#: the per-lab target rules and ``report`` (everything the HTML report shows)
NAMES = ("lab1", "lab2", "lab3", "lab4", "report")


def lab(plan: Plan, name: str) -> list[str]:
    """The targets of lab 1, 2 or 3."""
    mlp = plan.lab(name)

    def p(pattern, **wildcards):
        return layout.path(pattern, lab=name, **wildcards)

    targets = []
    for table in ["test_accuracy", *mlp.tables]:
        targets += [p(layout.TABLE, table=table), p(layout.TABLE_MD, table=table)]
    targets += [p(layout.COMPARISON_FIGURE, comparison=c) for c in mlp.comparisons]
    if mlp.gradcheck:
        targets.append(p(layout.GRADCHECK))
    targets.append(p(layout.TIMING))
    for run in mlp.configured:  # generated runs: only in their tables (curves on demand)
        targets.append(p(layout.CURVES, name=run))
        if not plan.run(name, run).settings["hidden"]:  # templates: 1-layer networks only
            targets.append(p(layout.TEMPLATES, run=run))
    for search in plan.searches[name].values():
        targets += [
            search.file(layout.SEARCH_RANKED),
            search.file(layout.SEARCH_BEST),
            search.file(layout.SEARCH_FIGURE),
        ]
        targets.append(p(layout.CURVES, name=final_figure_name(search.name)))
    if mlp.bonus:
        targets += [p(layout.BONUS), p(layout.BONUS_MD), p(layout.BONUS_FIGURE)]
        targets.append(p(layout.TIMING_BONUS))
        targets += [p(layout.ENSEMBLE_MD, ensemble=e) for e in mlp.ensembles]
    if mlp.section("architecture"):
        targets += [p(layout.ARCHITECTURE), p(layout.ARCHITECTURE_MD)]
    if mlp.section("svm_vs_ce"):
        targets += [p(layout.SVM_VS_CE), p(layout.SVM_VS_CE_MD)]
    if mlp.section("architecture"):
        targets.append(p(layout.ARCHITECTURE_FIGURE))
    if mlp.range_tests:
        targets += [p(layout.RANGE_TESTS), p(layout.RANGE_TESTS_MD)]
        targets += [p(layout.RANGE_TEST_FIGURE, name=test) for test in mlp.range_tests]
    return targets


def lab4(plan: Plan) -> list[str]:
    """The targets of lab 4."""
    targets = [layout.RNN_GRADCHECK]
    for run in plan.lab4.runs.values():
        targets += [
            run.file(layout.RNN_METRICS),
            run.file(layout.RNN_TRAINING_SAMPLES),
            run.file(layout.RNN_SAMPLES),
        ]
        targets.append(run.file(layout.RNN_SMOOTH_LOSS_FIGURE))
    for name in plan.lab4.comparisons:
        for pattern in (
            layout.RNN_COMPARISON,
            layout.RNN_COMPARISON_MD,
            layout.RNN_COMPARISON_FIGURE,
            layout.RNN_COMPARISON_TIMING,
            layout.RNN_COMPARISON_TIMING_MD,
            layout.RNN_COMPARISON_TIMING_FIGURE,
        ):
            targets.append(layout.path(pattern, comparison=name))
    if plan.lab4.sampling:
        targets += [layout.RNN_SAMPLING, layout.RNN_SAMPLING_MD, layout.RNN_SAMPLING_FIGURE]
    for search in plan.lab4.searches.values():
        ranked = (layout.RNN_SEARCH_RANKED, layout.RNN_SEARCH_RANKED_MD, layout.RNN_SEARCH_BEST)
        targets += [search.file(pattern) for pattern in ranked]
    return targets


def everything(plan: Plan, summary: bool = True) -> list[str]:
    """The targets of ``all``: every lab's and, with ``summary``, the headline."""
    targets = [t for name in plan.lab_names for t in lab(plan, name)] + lab4(plan)
    return targets + ([layout.SUMMARY, layout.FRONT_PAGE] if summary else [])


def of(plan: Plan, name: str) -> list[str]:
    """What a per-lab target rule (``snakemake lab2``, ..., ``snakemake report``) builds."""
    if name == "lab4":
        return lab4(plan)
    if name == "report":
        return everything(plan)
    return lab(plan, name)


def summary_inputs(plan: Plan) -> dict[str, str]:
    """Named inputs of the summary rule: each lab's test-accuracy table, ablation table and
    gradient check; lab 4's gradient check, the metrics of its headline runs
    (lab4_metrics_<run>) and the passage of the first."""
    files = {}
    for name, mlp in plan.labs.items():
        files[f"{name}_table"] = layout.path(layout.TABLE, lab=name, table="test_accuracy")
        if mlp.bonus:
            files[f"{name}_bonus"] = layout.path(layout.BONUS, lab=name)
        if mlp.gradcheck:
            files[f"{name}_gradcheck"] = layout.path(layout.GRADCHECK, lab=name)
    files["lab4_gradcheck"] = layout.RNN_GRADCHECK
    for run in plan.lab4.headline:
        files[f"lab4_metrics_{run}"] = layout.path(layout.RNN_METRICS, run=run)
    if plan.lab4.headline:
        files["lab4_passage"] = layout.path(layout.RNN_PASSAGE, run=plan.lab4.headline[0])
    return files


def key_figures(plan: Plan, name: str) -> list[str]:
    """The figures and tables the front page lists for a lab: paths under results/<lab>/
    (two searches each have a best.md and a search.png)."""
    if name == "lab4":
        lab4_ = plan.lab4
        names = [f"figures/{run}_smooth_loss.png" for run in lab4_.headline]
        names += [f"figures/comparison_{c}.png" for c in lab4_.comparisons]
        names += [f"comparison_{c}.md" for c in lab4_.comparisons]
        names += ["figures/sampling.png", "sampling.md"] if lab4_.sampling else []
        names += [f"search/{search}/best.md" for search in lab4_.searches]
        return names
    mlp = plan.lab(name)
    names = [f"figures/{run}_curves.png" for run in mlp.headline]
    names += [f"figures/{final_figure_name(s)}_curves.png" for s in plan.searches[name]]
    names += [f"figures/compare_{c}.png" for c in mlp.comparisons]
    names += [
        str(Path(t).relative_to(f"results/{name}"))
        for t in lab(plan, name)
        if t.endswith(("search.png", ".md"))
    ]
    return names
