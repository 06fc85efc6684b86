"""The pipeline's plan (dd2424.plan) in-process: every config problem is one ConfigError naming
the key and the fix, the plan's jobs equal Snakemake's DAG, and rules track the code their
scripts run by content, not by location."""

import hashlib
import re
import shutil
from collections import Counter

import pytest
import yaml
from conftest import ROOT, TEST_CONFIG, snakemake
from snakemake.utils import update_config

from dd2424.plan import ConfigError, code, inputs, layout, make_plan, targets
from dd2424.plan.jobs import outputs
from dd2424.plan.mlp import MEMORY_MB, memory_mb

CONFIGS = {
    "default": [],
    "test": [TEST_CONFIG],
    "best": [str(ROOT / "config" / "best.yaml")],
}


def config_of(*files, overrides=None) -> dict:
    """config/config.yaml with the files and ``overrides`` deep-merged over it, as Snakemake
    merges --configfile files."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for path in files:
        update_config(config, yaml.safe_load(open(path)))
    update_config(config, overrides or {})
    return config


def plan_of(*files, overrides=None, **kwargs):
    return make_plan(config_of(*files, overrides=overrides), **kwargs)


# ------------------------------------------------------------------ config errors, in-process
NAN, INF = float("nan"), float("inf")
#: (config files, overrides, words the message must hold: the key, the value, the fix)
CONFIG_ERRORS = [
    # schema violations: key, value and the rule broken
    (
        [],
        {"lab1": {"runs": {"lam1_eta0.001": {"lam": -1.0}}}},
        ["lab1.runs.lam1_eta0.001", "-1.0", "lam"],
    ),
    ([], {"lab1": {"defaults": {"n_batch": 0}}}, ["n_batch", "minimum"]),
    ([], {"lab1": {"defaults": {"schedule": {"eta": "fast"}}}}, ["eta", "'fast'"]),
    ([], {"data": {"cifar10": {"checksum": "c58f30108f"}}}, ["checksum"]),
    ([], {"data": {"source": "imagenet"}}, ["source", "imagenet"]),
    ([], {"splits": {"a1": {"val_size": 100}}}, ["a1"]),
    ([], {"lab1": {"split": "nope"}}, ["split 'nope' is not defined", "have:"]),
    ([], {"lab1": {"gradcheck": {"h": -1e-6}}}, ["h", "-1e-06"]),
    # numbers that are not finite
    ([TEST_CONFIG], {"lab1": {"defaults": {"lam": NAN}}}, ["lab1.defaults.lam", "not a finite"]),
    (
        [TEST_CONFIG],
        {"lab1": {"runs": {"lam0_eta0.1": {"schedule": {"eta": INF}}}}},
        ["lab1.runs.lam0_eta0.1.schedule.eta", "not a finite"],
    ),
    (
        [TEST_CONFIG],
        {"lab2": {"searches": {"lambda": {"coarse": {"low": NAN}}}}},
        ["lab2.searches.lambda.coarse.low", "not a finite"],
    ),
    # settings the network or the data cannot satisfy
    (
        [TEST_CONFIG],
        {"lab3": {"runs": {"k3_bn": {"hidden": []}}}},
        ["lab3.runs.k3_bn", "batch normalisation needs at least one hidden layer"],
    ),
    (
        [TEST_CONFIG],
        {"splits": {"all45k": {"val_size": 4999}}},
        ["splits.all45k.val_size", "leaves 1 training samples", "5000 samples", "Lower"],
    ),
    (
        [TEST_CONFIG],
        {"lab1": {"defaults": {"n_batch": 5000}}},
        ["lab1.runs.lam0_eta0.1", "n_batch = 5000", "(1000 samples)", "lower n_batch"],
    ),
    (
        [TEST_CONFIG],
        {"lab1": {"gradcheck": {"checks": [{"n": 5000, "lam": 0.0}]}}},
        ["lab1.gradcheck.checks[0]", "n = 5000", "1000 training samples"],
    ),
    (
        [TEST_CONFIG],
        {"lab2": {"searches": {"lambda": {"coarse": {"low": 0, "high": -1}}}}},
        ["lab2.searches.lambda.coarse", "low must be < high"],
    ),
    (
        [TEST_CONFIG],
        {"lab2": {"searches": {"lambda": {"settings": {"split": "a1"}}}}},
        ["lab2.searches.lambda", "set `split`", "lab2.searches.lambda.final.split"],
    ),
    ([TEST_CONFIG], {"lab3": {"headline": ["bonus.recipe"]}}, ["lab3.headline", "unknown runs"]),
    (
        [TEST_CONFIG],
        {"lab3": {"comparisons": {"depth": ["k3", "k4"]}}},
        ["lab3.comparisons.depth", "['k4']"],
    ),
    (
        [TEST_CONFIG],
        {"lab1": {"runs": {"bonus.recipe": {"lam": 0.1}}}},
        ["lab1.runs.bonus.recipe", "rename the run"],
    ),
    # the bonus sections
    ([TEST_CONFIG], {"lab1": {"bonus": {"baseline": "nope"}}}, ["lab1.bonus.baseline", "'nope'"]),
    (
        [TEST_CONFIG],
        {"lab1": {"bonus": {"recipe": {"include": ["decay", "typo"]}}}},
        ["lab1.bonus.recipe.include", "typo"],
    ),
    (
        [TEST_CONFIG],
        {
            "lab2": {
                "bonus": {
                    "improvements": {"range_test": {"settings": {"schedule": {"range_test": "m9"}}}}
                }
            }
        },
        ["schedule.range_test = 'm9'", "lab2.range_tests"],
    ),
    (
        [TEST_CONFIG],
        {"lab1": {"bonus": {"improvements": {"all_data": {"settings": {"split": "all99k"}}}}}},
        ["lab1.bonus.improvements.all_data", "split = 'all99k'"],
    ),
    (
        [TEST_CONFIG],
        {"lab1": {"bonus": {"ensemble": {"snapshots": True}}}},
        ["lab1.bonus.recipe", "snapshots", "cyclic"],
    ),
    (
        [TEST_CONFIG],
        {
            "lab2": {
                "searches": {
                    "random": {
                        "parameters": {
                            "keep_prob": {"distribution": "uniform", "low": 1.1, "high": 1.5}
                        }
                    }
                }
            }
        },
        ["lab2.searches.random", "keep_prob"],
    ),
    (
        [TEST_CONFIG],
        {
            "lab2": {
                "searches": {
                    "random": {
                        "parameters": {"lam": {"distribution": "uniform", "low": 2, "high": 1}}
                    }
                }
            }
        },
        ["lab2.searches.random.parameters.lam", "low <= high"],
    ),
    (
        [TEST_CONFIG],
        {"lab2": {"range_tests": {"m50_lam0.01": {"eta_lo": 2.0}}}},
        ["m50_lam0.01", "eta_lo"],
    ),
    # lab 4: settings the text (known before any job) cannot satisfy
    (
        [TEST_CONFIG],
        {"lab4": {"gradcheck": {"seq_length": 30_000}}},
        ["lab4.gradcheck.seq_length = 30000", "20000", "lower lab4.gradcheck.seq_length"],
    ),
    (
        [TEST_CONFIG],
        {"lab4": {"gradcheck": {"batch": 1000}}},
        ["lab4.gradcheck.batch = 1000", "25001", "lower"],
    ),
    (
        [TEST_CONFIG],
        {"lab4": {"train": {"seq_length": 25_000}}},
        ["lab4.runs.course.seq_length = 25000", "lower lab4.runs.course.seq_length"],
    ),
    (
        [TEST_CONFIG],
        {"lab4": {"runs": {"adam": {"validation": {"fraction": 0.9995}}}}},
        ["lab4.runs.adam.validation.fraction = 0.9995", "leaving 10 to train on"],
    ),
    (
        [TEST_CONFIG],
        {"lab4": {"train": {"chunks": 5000}}},
        ["lab4.runs.adam_chunks", ".chunks = 5000 cuts the text into pieces of 3 characters"],
    ),
    (
        [TEST_CONFIG],
        {"lab4": {"runs": {"adam_chunks_b8": {"walk": "sequential", "batch": 2000}}}},
        ["lab4.runs.adam_chunks_b8.batch = 2000", "lower"],
    ),
    (
        [TEST_CONFIG],
        {"lab4": {"runs": {"adam_chunks_b32": {"chunks": 30}}}},
        ["lab4.runs.adam_chunks_b32.batch = 32 lanes but only 30 training chunks", "raise"],
    ),
    (
        [TEST_CONFIG],
        {"lab4": {"runs": {"adam": {"validation": {"mode": "chunk", "chunk": 40}}}}},
        ["lab4.runs.adam.validation.chunk = 40", "0 .. 39"],
    ),
    (
        [TEST_CONFIG],
        {"lab4": {"comparisons": {"bonus": ["course", "adam"]}}},
        ["lab4.comparisons.bonus", "['course']", "no validation text"],
    ),
    (
        [TEST_CONFIG],
        {"lab4": {"sampling": {"run": "course"}}},
        ["lab4.sampling.run", "'course' has no validation text"],
    ),
    (
        [TEST_CONFIG],
        {"lab4": {"sampling": {"run": "nope"}}},
        ["lab4.sampling.run", "'nope' is not a run"],
    ),
    ([TEST_CONFIG], {"lab4": {"runs": {"adam": {"optimizer": "sgd"}}}}, ["lab4.runs.adam", "sgd"]),
    ([TEST_CONFIG], {"lab4": {"train": {"walk": "backwards"}}}, ["lab4.train", "backwards"]),
    ([TEST_CONFIG], {"lab4": {"headline": ["nope"]}}, ["lab4.headline", "unknown runs ['nope']"]),
]


@pytest.mark.parametrize(("files", "overrides", "words"), CONFIG_ERRORS)
def test_a_config_problem_is_one_error_naming_the_key_and_the_fix(files, overrides, words):
    with pytest.raises(ConfigError) as caught:
        plan_of(*files, overrides=overrides)
    message = str(caught.value)
    assert message.startswith("config ") or "split" in message, message
    for word in words:
        assert word in message, message


def test_schema_errors_are_a_few_decisive_lines():
    overrides = {
        "lab1": {"gradcheck": {"thresh": 1}, "runs": {"x": {"schedule": {"kind": "cyclic"}}}}
    }
    with pytest.raises(ConfigError) as caught:
        plan_of(overrides=overrides)
    text = str(caught.value)
    assert "lab1.gradcheck: unknown key(s) thresh" in text
    assert "Failed validating" not in text and "On instance" not in text  # no schema dump
    assert len(text.splitlines()) < 20, text


def local_copy(tmp_path, content: bytes) -> tuple:
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    corpus = {"source": "download", "local_copy": str(path), "checksum": f"sha256:{digest}"}
    return path, {"lab4": {"corpus": corpus}}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("Où est la plume?\n".encode("latin-1") * 100, ["is not UTF-8 text", "iconv"]),
        (b"", ["is empty", "lab4.corpus"]),
        (b"To be.\n", ["lab4.gradcheck.seq_length = 25", "the corpus has 7", "lower"]),
    ],
)
def test_a_bad_local_copy_of_the_corpus_is_named_before_any_job(tmp_path, content, words):
    path, overrides = local_copy(tmp_path, content)
    with pytest.raises(ConfigError) as caught:
        plan_of(TEST_CONFIG, overrides=overrides, working_dir=tmp_path)
    message = str(caught.value)
    assert all(word in message for word in words) and str(path) in message, message


def test_a_relative_local_copy_needs_the_start_directory(tmp_path):
    overrides = {"data": {"source": "cifar10", "cifar10": {"local_copy": "archives/c.tar.gz"}}}
    plan = plan_of(overrides=overrides, start_dir=tmp_path)
    assert plan.cifar.local_copy == str(tmp_path / "archives/c.tar.gz")
    with pytest.raises(ConfigError, match="data.cifar10.local_copy.*give an absolute path"):
        plan_of(overrides=overrides, start_dir=None)


# The user sees the same line through Snakemake: one line, no traceback, nothing run.
@pytest.mark.workflow
@pytest.mark.parametrize("case", [0, 12, 29])
def test_snakemake_shows_the_plans_message_without_a_traceback(tmp_path, case):
    files, overrides, words = CONFIG_ERRORS[case]
    with pytest.raises(ConfigError) as caught:
        plan_of(*files, overrides=overrides)
    config = tmp_path / "override.yaml"
    config.write_text(yaml.safe_dump(overrides))
    result = snakemake("-n", "--configfile", *files, str(config), cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert str(caught.value).splitlines()[0] in output, output[-3000:]
    assert "Traceback" not in output and "Job stats" not in output
    assert not (tmp_path / "results").exists()


# --------------------------------------------------------------------- what the plan holds
def test_default_plan_counts_the_jobs_of_every_rule():
    counts = {rule: len(jobs) for rule, jobs in outputs(plan_of()).items()}
    assert counts == {
        "download_cifar10": 1,
        "extract_cifar10": 1,
        "preprocess": 3,  # a1, all45k, all49k
        "gradcheck": 3,
        # lab 1: 4 runs; lab 2: fig3, fig4; lab 3: 4 depth + 6 sensitivity runs; and the
        # generated runs: lab 1's ablation (6 improvements, the recipe, 2 more seeds) and
        # 3 (lambda, eta) pairs x 2 losses, lab 2's ablation (5 + 1 + 2), lab 3's ablation
        # (4 + 1 + 2) and its 3 depths x 2 widths
        "train": 16 + (9 + 6) + 8 + (7 + 6),
        "range_test": 3,  # lab 2: two widths, two lambdas
        "plot_range_test": 3,
        "range_test_table": 1,
        "ensemble": 5,  # seeds in labs 1-3, snapshots in labs 2 and 3
        "bonus_table": 3,
        "bonus_timing": 3,
        "architecture_table": 1,  # lab 3
        "svm_vs_ce_table": 1,  # lab 1
        "search_coarse_grid": 2,
        "search_random_grid": 2,  # the random searches of labs 2 and 3
        "search_trial": 32 + 6 + 6,  # 2 searches x (8 coarse + 8 fine), 2 x 6 random trials
        "search_fine_grid": 2,
        "search_rank": 4,
        "search_final": 4,
        "plot_curves": 20,  # configured runs and search finals only
        "plot_templates": 4,
        "plot_comparison": 5,
        "results_table": 4,  # test accuracy of each lab + lab 3's sensitivity table
        "timing_table": 3,  # one per lab 1-3 (lab 4's are rnn_compare_timing)
        "download_corpus": 1,
        "rnn_gradcheck": 1,
        "rnn_train": 8,  # the course's run + 7 runs of the bonus comparison
        "rnn_sample": 8,
        "plot_smooth_loss": 8,
        "rnn_compare": 1,
        "rnn_compare_timing": 1,
        "rnn_sampling": 1,
        "rnn_search_grid": 1,  # lab4.searches.recipe: 8 trials, ranked
        "rnn_search_trial": 8,
        "rnn_search_rank": 1,
        "summary": 1,  # results/summary.md, its picture and the report's front page
    }


def test_every_run_knows_its_settings_split_and_config_key():
    plan = plan_of()
    fig4 = plan.run("lab2", "fig4")
    assert (fig4.source, fig4.split, fig4.generated) == ("lab2.runs.fig4", "a1", False)
    assert fig4.settings["hidden"] == [50] and fig4.settings["batch_norm"] is False  # default
    recipe = plan.run("lab2", "bonus.recipe")
    assert recipe.generated and recipe.source.startswith("lab2.bonus.recipe (lab2.runs.fig4")
    assert plan.run("lab2", "bonus.all_data").split == "all49k"  # its own split setting
    arch = plan.lab("lab3").section_runs("architecture")
    assert len(arch) == 6 and all(plan.run("lab3", r).split == "all45k" for r in arch)
    assert plan.lab("lab2").ensembles["bonus.snapshots"].runs == ["bonus.recipe"]


def test_a_random_search_plans_its_drawn_trials():
    plan = plan_of(overrides={"lab2": {"searches": {"random": {"trials": 40}}}})
    search = plan.search("lab2", "random")
    assert search.stages == ["random"] and len(search.drawn) == 40
    assert set(search.drawn[0]) == set(search.parameters)
    assert all(1e-4 <= trial["lam"] <= 1e-2 for trial in search.drawn)
    assert len(outputs(plan)["search_trial"]) == 40 + 6 + 16 + 16  # lab 3's unchanged
    # the first trials do not change when the search grows
    assert search.drawn[:6] == plan_of().search("lab2", "random").drawn
    files = inputs.search_rank(plan, "lab2", "random")
    assert list(files) == ["random"] and len(files["random"]) == 40


def test_a_jobs_memory_request_follows_its_dtype_and_a_searched_one():
    plan = plan_of()
    assert plan.run("lab2", "fig3").settings.get("dtype", "float32") == "float32"
    assert memory_mb(plan.run("lab2", "fig3").settings) == MEMORY_MB["float32"]
    assert plan.search("lab2", "random").memory_mb == MEMORY_MB["float32"]
    dtype = {"distribution": "choice", "values": ["float32", "float64"]}
    searched = {"lab2": {"searches": {"random": {"parameters": {"dtype": dtype}}}}}
    search = plan_of(overrides=searched).search("lab2", "random")
    assert {trial["dtype"] for trial in search.drawn} == {"float32", "float64"}
    assert search.memory_mb == MEMORY_MB["float64"] > MEMORY_MB["float32"]


def test_training_inputs_wait_for_the_gradient_check_and_take_range_test_bounds():
    plan = plan_of(TEST_CONFIG)
    got = inputs.train(plan, "lab2", "bonus.range_test")
    assert got == {
        "split": "data/synthetic/processed/a1.npz",
        "gradcheck": "results/lab2/gradcheck.tsv",
        "proposal": "results/lab2/range_tests/m50_lam0.01/proposal.json",
    }
    final = inputs.search_final(plan, "lab3", "lambda")
    assert final["grid"] == "results/lab3/search/lambda/ranked.tsv"
    assert final["split"] == "data/synthetic/processed/all45k.npz"


@pytest.mark.parametrize(
    ("target", "lab"), [("lab1", "lab1"), ("lab2", "lab2"), ("lab3", "lab3"), ("lab4", "lab4")]
)
def test_per_lab_targets_hold_only_that_labs_files(target, lab):
    wanted = targets.of(plan_of(TEST_CONFIG), target)
    assert wanted and all(f"/{lab}" in path for path in wanted), wanted


def test_report_and_all_build_every_lab_and_the_headline():
    plan = plan_of(TEST_CONFIG)
    everything = targets.everything(plan)
    assert targets.of(plan, "report") == everything
    assert everything[-2:] == [layout.SUMMARY, layout.FRONT_PAGE]
    for lab in ("lab1", "lab2", "lab3", "lab4"):
        assert set(targets.of(plan, lab)) <= set(everything)
    assert set(targets.summary_inputs(plan)) >= {"lab1_table", "lab2_bonus", "lab4_passage"}
    assert "figures/fig4_curves.png" in targets.key_figures(plan, "lab2")


def test_equal_time_config_plans_five_runs_for_its_comparison():
    plan = plan_of(str(ROOT / "config" / "lab4_equal_time.yaml"))
    assert len(plan.lab4.comparisons["equal_time"]) == 5
    assert set(plan.lab4.comparisons["equal_time"]) <= set(plan.lab4.runs)


def test_layout_fills_some_wildcards_and_keeps_the_others():
    assert layout.path(layout.SPLIT, source="synthetic") == "data/synthetic/processed/{split}.npz"
    assert (
        layout.path(layout.RUN_METRICS, lab="lab1", run="x") == "results/lab1/runs/x/metrics.json"
    )


# ---------------------------------------------------------- the plan equals Snakemake's DAG
def dry_run_jobs(tmp_path, files) -> dict[str, list[tuple]]:
    """{rule: [each job's sorted outputs]} of Snakemake's dry run of the whole DAG."""
    args = ["-n", "-F", "--quiet", "progress", *(["--configfile", *files] if files else [])]
    result = snakemake(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs, rule = {}, None
    for line in result.stdout.splitlines():
        if match := re.match(r"(?:local)?rule (\w+):$", line):
            rule = match.group(1)
        elif line.startswith("    output: ") and rule is not None:
            jobs.setdefault(rule, []).append(tuple(sorted(line[12:].split(", "))))
    return {rule: sorted(found) for rule, found in jobs.items()}


@pytest.mark.workflow
@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_plans_jobs_are_the_jobs_of_snakemakes_dry_run(tmp_path, name):
    planned = outputs(plan_of(*CONFIGS[name]))
    planned = {rule: sorted(tuple(sorted(job)) for job in jobs) for rule, jobs in planned.items()}
    assert planned == dry_run_jobs(tmp_path, CONFIGS[name])


# ------------------------------------------------------------- code tracked by its content
RULE = re.compile(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", re.M | re.S)


def rules_with_scripts() -> dict[str, tuple[str, str | None]]:
    """{rule: (its script, the script its ``code`` param digests, or None)}."""
    out = {}
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for name, body in RULE.findall(smk.read_text()):
            script = re.search(r'script:\s*"\.\./scripts/([\w.]+)"', body)
            if script:
                listed = re.search(r'code=script_code\("([\w.]+)"\)', body)
                out[name] = (script.group(1), listed.group(1) if listed else None)
    return out


def test_every_rule_tracks_every_module_its_script_runs():
    found = rules_with_scripts()
    assert len(found) >= 30
    for rule, (script, listed) in found.items():
        assert listed == script, f"rule {rule} runs {script} but its code param digests {listed}"
    # the digest covers each module a script imports, through the package
    deps = code.dependencies(ROOT / "workflow/scripts/train.py", ROOT / "workflow")
    assert {"dd2424.mlp.runs", "dd2424.mlp.network", "dd2424.trials", "dd2424.io"} <= set(deps)
    assert not {"dd2424.rnn.trainer", "dd2424.report.plots", "dd2424.search"} & set(deps)


def test_dependencies_follow_relative_imports_and_parent_packages(tmp_path):
    pkg = tmp_path / "dd2424"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""doc"""\n')
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text("from . import b\nfrom ..top import f\n")
    (pkg / "sub" / "b.py").write_text("import json\n")
    (pkg / "top.py").write_text("def f():\n    from dd2424.sub import c\n")
    (pkg / "sub" / "c.py").write_text("X = 1\n")
    (pkg / "unused.py").write_text("")
    script = tmp_path / "script.py"
    script.write_text("from dd2424.sub.a import thing\n")
    assert code.dependencies(script, tmp_path) == (
        "dd2424",
        "dd2424.sub",
        "dd2424.sub.a",
        "dd2424.sub.b",
        "dd2424.sub.c",
        "dd2424.top",
    )


def test_the_digest_changes_with_the_code_not_its_docstrings_or_place(tmp_path):
    for where in ("one", "two"):
        (tmp_path / where / "dd2424").mkdir(parents=True)
        (tmp_path / where / "dd2424" / "m.py").write_text('"""Doc."""\n\nX = 1  # note\n')
    digest = code.digest(["dd2424.m"], tmp_path / "one")
    assert digest == code.digest(["dd2424.m"], tmp_path / "two")  # another folder
    (tmp_path / "two" / "dd2424" / "m.py").write_text('"""Other words."""\nX = 1\n')
    code._code_of.cache_clear()
    assert digest == code.digest(["dd2424.m"], tmp_path / "two")  # docstring, comment, layout
    (tmp_path / "two" / "dd2424" / "m.py").write_text("X = 2\n")
    code._code_of.cache_clear()
    assert digest != code.digest(["dd2424.m"], tmp_path / "two")


def copy_project(offline_run, tmp_path):
    """The repository's workflow and the finished offline run, copied with their times (as
    ``cp -a`` copies them) to other folders."""
    repo, work = tmp_path / "repo", tmp_path / "work"
    for part in ("workflow", "config", "profiles"):
        shutil.copytree(ROOT / part, repo / part)
    shutil.copy2(ROOT / "Snakefile", repo / "Snakefile")
    shutil.copytree(offline_run, work, symlinks=True)
    return repo, work


def dry_run_reasons(repo, work) -> tuple[Counter, str]:
    """{(rule, why it would run): jobs} of a dry run of the copy."""
    config = str(repo / "config" / "test.yaml")
    result = snakemake("-n", "--configfile", config, cwd=work, snakefile=repo / "Snakefile")
    assert result.returncode == 0, result.stderr[-3000:]
    found, rule = Counter(), None
    for line in result.stdout.splitlines():
        if match := re.match(r"(?:local)?rule (\w+):$", line):
            rule = match.group(1)
        elif line.startswith("    reason: ") and rule:
            found[rule, line[12:].split(":")[0]] += 1
    return found, result.stdout


@pytest.mark.workflow
def test_a_moved_project_reruns_nothing_and_an_edit_reruns_the_rules_that_run_it(
    offline_run, tmp_path
):
    repo, work = copy_project(offline_run, tmp_path)
    found, stdout = dry_run_reasons(repo, work)
    assert not found and "Nothing to be done" in stdout, stdout[-3000:]

    plots = repo / "workflow" / "dd2424" / "report" / "plots.py"
    plots.write_text(plots.read_text() + "\n\ndef _edited():\n    return 1\n")
    found, _ = dry_run_reasons(repo, work)
    scripts = {rule: script for rule, (script, _) in rules_with_scripts().items()}
    runs_plots = {
        rule
        for rule, script in scripts.items()
        if "dd2424.report.plots"
        in code.dependencies(repo / "workflow" / "scripts" / script, repo / "workflow")
    }
    changed = {rule for (rule, why) in found if why == "Params have changed since last execution"}
    assert changed and changed <= runs_plots  # only rules whose scripts run plots.py
    jobs = outputs(plan_of(TEST_CONFIG))
    for rule in runs_plots & set(jobs):  # every job of those reruns (some as followers)
        assert sum(n for (r, _), n in found.items() if r == rule) == len(jobs[rule]), rule
    # the other jobs only follow: their inputs are rewritten by a job that reruns
    others = {why for (rule, why) in found if rule not in changed}
    assert others <= {"Input files updated by another job"}, found
