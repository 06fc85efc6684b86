# Config validation, helpers and derived globals: the only place for Python helpers.
import functools
import math
import os
import re
from pathlib import Path

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.io import is_flagged
from snakemake.utils import min_version, validate

from dd2424.mlp import ablation
from dd2424.mlp import range_test as range_tests
from dd2424.data.cifar import BATCH_DIR, CIFAR_FILES, DIM, TEST_BATCH
from dd2424.data.splits import Split
from dd2424.mlp.runs import build_network
from dd2424.nested import get_path, merge
from dd2424.rnn.runs import SettingsError, check_settings, read_corpus
from dd2424.rnn.runs import check_gradcheck as check_rnn_gradcheck
from dd2424.search import (
    apply_trial,
    is_random,
    random_trials,
    searched,
    to_value,
)

min_version("9.0")

SCHEMA_DIR = Path(workflow.basedir) / "workflow" / "schemas"


def non_finite(obj, key=""):
    """The dotted keys of every NaN or infinite number in a config tree (YAML .nan, .inf)."""
    if isinstance(obj, dict):
        return [
            k
            for name, v in obj.items()
            for k in non_finite(v, f"{key}.{name}".lstrip("."))
        ]
    if isinstance(obj, list):
        return [k for i, v in enumerate(obj) for k in non_finite(v, f"{key}[{i}]")]
    if isinstance(obj, float) and not math.isfinite(obj):
        return [key]
    return []


def short(value, width=80):
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


@functools.cache
def schema_validator(schema_name):
    """Parsed once per invocation: every run, trial and range test is validated."""
    schema = yaml.safe_load((SCHEMA_DIR / schema_name).read_text())
    return jsonschema.Draft202012Validator(schema)


def schema_errors(instance, schema_name, prefix=""):
    """One line per violation (key, value, rule), without the schema dump of a plain
    jsonschema error; for oneOf/anyOf the most relevant sub-error (jsonschema's best_match).
    """
    lines = []
    for error in schema_validator(schema_name).iter_errors(instance):
        error = jsonschema.exceptions.best_match([error])
        key = ".".join([prefix, *map(str, error.absolute_path)]).strip(".")
        check = f"{error.validator}: {short(error.validator_value, 60)}"
        if error.validator == "required":
            missing = [k for k in error.validator_value if k not in error.instance]
            lines += [
                f"  {key}.{k}: missing (a required key)".replace(" .", " ")
                for k in missing
            ]
        elif error.validator == "additionalProperties":
            known = error.schema.get("properties", {})
            unknown = [k for k in error.instance if k not in known]
            lines.append(
                f"  {key or '(top level)'}: unknown key(s) {', '.join(map(str, unknown))} "
                f"(allowed: {', '.join(known) or 'see the schema'})"
            )
        elif error.validator in ("oneOf", "anyOf"):
            need = "exactly one" if error.validator == "oneOf" else "at least one"
            lines.append(f"  {key or '(top level)'}: needs {need} of ({check})")
        else:
            value = short(error.instance)
            why = (
                error.schema.get("description") if error.validator == "const" else None
            )
            lines.append(
                f"  {key or '(top level)'} = {value}: {short(error.message, 160)} ({check})"
                + (f": {why}" if why else "")
            )
    return sorted(set(lines))


def checked(instance, schema_name, where, prefix=""):
    """Validate ``instance`` (a config or a run's settings) and fill in the schema's defaults;
    any NaN/inf number or schema violation is a WorkflowError naming the keys."""
    bad = [f"  {k}: not a finite number" for k in non_finite(instance, prefix)]
    errors = bad or schema_errors(instance, schema_name, prefix)
    if errors:
        raise WorkflowError(f"config {where} is invalid:\n" + "\n".join(errors))
    validate(instance, str(SCHEMA_DIR / schema_name))  # sets the defaults
    return instance


checked(
    config, "config.schema.yaml", "(config/config.yaml merged with --configfile files)"
)

DATA_SOURCE = config["data"]["source"]
# labs 1-3 share the network, runs and searches; lab 4 (the RNN) has its own rules
LABS = sorted(key for key in config if re.fullmatch(r"lab[1-3]", key))
CORPUS = config["lab4"]["corpus"]
PACKAGE_DIR = Path(workflow.basedir) / "workflow" / "dd2424"


wildcard_constraints:
    lab="|".join(LABS) or "lab1",
    split="[A-Za-z0-9_]+",
    run="[A-Za-z0-9_.=-]+",
    name="[A-Za-z0-9_.=-]+",
    search="[A-Za-z0-9_]+",
    stage="coarse|fine|random",
    trial="[0-9]+",
    table="|".join(
        ["test_accuracy", *(t for lab in LABS for t in config[lab].get("tables", {}))]
    ),
    comparison="[A-Za-z0-9_.=-]+",
    ensemble="[A-Za-z0-9_.=-]+",


def lib(*modules):
    """Library modules a rule's results depend on, so editing them triggers a rerun."""
    return [
        str(PACKAGE_DIR.joinpath(*m.split(".")).with_suffix(".py")) for m in modules
    ]


TRAIN_CODE = lib(
    "mlp.network",
    "mlp.losses",
    "activations",
    "mlp.trainer",
    "schedules",
    "mlp.runs",
    "nested",
    "data.augment",
)


OFFICIAL_CIFAR10_MD5 = "md5:c58f30108f718f92721af3b95e74349a"


def batch_size(batch):
    """Samples in one batch file, when known before any data is read: from the synthetic
    settings, or 10,000 per batch of the official CIFAR-10 archive (None for another one).
    """
    if DATA_SOURCE == "synthetic":
        synthetic = config["data"]["synthetic"]
        return synthetic["n_test" if batch == TEST_BATCH else "n_per_batch"]
    if config["data"]["cifar10"]["checksum"].lower() == OFFICIAL_CIFAR10_MD5:
        return 10_000
    return None


def split_config(name, where=None):
    """The config of split ``name``, checked; ``where``: the config key that names it."""
    if name not in config["splits"]:
        named = f"config {where}: split = {name!r}" if where else f"split {name!r}"
        raise WorkflowError(
            f"{named} is not defined under `splits:` (have: {sorted(config['splits'])})"
        )
    cfg = config["splits"][name]
    try:
        split = Split.from_config(cfg)
    except ValueError as err:
        raise WorkflowError(f"config splits.{name}: {err}")
    pool = [batch_size(b) for b in split.train]
    if split.val_size and None not in pool and split.val_size > sum(pool) - 2:
        raise WorkflowError(
            f"config splits.{name}.val_size: {split.val_size} leaves "
            f"{max(sum(pool) - split.val_size, 0)} training samples (at least 2 are needed): "
            f"{' + '.join(split.train)} hold {sum(pool)} samples ({DATA_SOURCE} data). Lower "
            f"splits.{name}.val_size."
        )
    return cfg


def n_train(split_name):
    """Training samples of a split, or None if unknown before the data is read."""
    cfg = split_config(split_name)
    pool = [batch_size(b) for b in cfg["train"]]
    return None if None in pool else sum(pool) - cfg.get("val_size", 0)


def validated(settings, where, split=None):
    """A run's merged settings, checked against run.schema.yaml, by building its network
    (e.g. batch normalisation needs a hidden layer) and against the size of its split: its
    own ``split`` setting if it has one, else ``split``.
    """
    checked(settings, "run.schema.yaml", where)
    try:
        build_network(settings, d=1, K=2)
    except ValueError as err:
        raise WorkflowError(f"config {where}: {err} (hidden = {settings['hidden']})")
    if "split" in settings:
        split = settings["split"]
        split_config(split, where)
    n = n_train(split) if split else None
    if n is not None and settings["n_batch"] > n:
        raise WorkflowError(
            f"config {where}: n_batch = {settings['n_batch']} is larger than the training "
            f"set of split {split!r} ({n} samples); lower n_batch"
        )
    return settings


# ---- runs: <lab>.runs.<run> merged over <lab>.defaults; the bonus sections of a lab
# (bonus, architecture, svm_vs_ce) generate more runs of it (dd2424.ablation), trained,
# recorded and timed by the same rules; only their own tables list them.


def run_settings(lab, run):
    settings = merge(config[lab]["defaults"], config[lab]["runs"][run])
    where = f"{lab}.runs.{run} (merged with {lab}.defaults)"
    return validated(settings, where, config[lab]["split"])


NO_REFERENCE = {"course_test_acc": None, "student_test_acc": None}


def bonus_spec(lab):
    return config[lab].get("bonus")


def checked_bonus(lab, runs):
    """The runs of a lab's ablation ({name: (settings, config key)}); ``runs`` are the
    lab's configured runs' settings (the baseline is one of them)."""
    spec = bonus_spec(lab)
    baseline = spec["baseline"]
    if baseline not in runs:
        raise WorkflowError(
            f"config {lab}.bonus.baseline: {baseline!r} is not a run of {lab}.runs "
            f"(have: {sorted(runs)})"
        )
    unknown = sorted(set(ablation.recipe_parts(spec)) - set(spec["improvements"]))
    if unknown:
        raise WorkflowError(
            f"config {lab}.bonus.recipe.include names unknown improvements {unknown} "
            f"(have: {list(spec['improvements'])})"
        )
    base = merge(
        runs[baseline], NO_REFERENCE
    )  # the baseline's course numbers stay its own
    out = {}
    for name, settings in ablation.bonus_runs(spec, base).items():
        part = name.split(".")[1]
        if part == ablation.RECIPE:
            where = f"{lab}.bonus.recipe ({lab}.runs.{baseline} with the recipe's improvements"
            where += ", ensemble.snapshots: true)" if settings.get("snapshots") else ")"
        else:
            where = (
                f"{lab}.bonus.improvements.{part} (merged with {lab}.runs.{baseline})"
            )
        out[name] = (settings, where)
    return out


def generated_runs(lab, runs):
    """{run name: (settings, config key)} of the runs a lab's bonus sections generate."""
    out = checked_bonus(lab, runs) if bonus_spec(lab) else {}
    section = config[lab].get("architecture")
    if section:
        for name, settings in ablation.architecture_runs(
            section, config[lab]["defaults"]
        ).items():
            out[name] = (
                settings,
                f"{lab}.architecture ({name}, merged with {lab}.defaults)",
            )
    section = config[lab].get("svm_vs_ce")
    if section:
        for name, settings in ablation.loss_runs(
            section, config[lab]["defaults"]
        ).items():
            out[name] = (
                settings,
                f"{lab}.svm_vs_ce ({name}, merged with {lab}.defaults)",
            )
    return out


RUN_WHERE = {}  # (lab, run) -> the config key that defines or generates the run


def lab_runs(lab):
    """{run name: validated settings} of every run of a lab: the configured ones, then the
    generated ones."""
    runs = {run: run_settings(lab, run) for run in config[lab]["runs"]}
    RUN_WHERE.update({(lab, run): f"{lab}.runs.{run}" for run in runs})
    for name, (settings, where) in generated_runs(lab, runs).items():
        if name in runs:
            raise WorkflowError(
                f"config {lab}.runs.{name}: the name of a run that {where.split(' ')[0]} "
                "generates; rename the run"
            )
        runs[name] = validated(settings, where, config[lab]["split"])
        RUN_WHERE[(lab, name)] = where
    return runs


RUN_SETTINGS = {lab: lab_runs(lab) for lab in LABS}
GENERATED = {
    lab: [r for r in RUN_SETTINGS[lab] if r not in config[lab]["runs"]] for lab in LABS
}


def all_runs(lab):
    """The runs the config names (the generated ones are in GENERATED)."""
    return list(config[lab]["runs"])


def settings_split(lab, settings):
    """The split a run trains on: its own ``split`` setting, else the lab's."""
    return settings.get("split") or config[lab]["split"]


def run_split(lab, run):
    return settings_split(lab, RUN_SETTINGS[lab][run])


# ---- ensembles of a lab's ablation (dd2424.mlp.ablation.bonus_ensembles)

ENSEMBLES = {
    lab: (
        ablation.bonus_ensembles(bonus_spec(lab), RUN_SETTINGS[lab]["bonus.recipe"])
        if bonus_spec(lab)
        else {}
    )
    for lab in LABS
}


def ensemble_inputs(wildcards):
    spec = ENSEMBLES[wildcards.lab][wildcards.ensemble]
    runs = [f"results/{wildcards.lab}/runs/{run}" for run in spec["runs"]]
    return {
        "params": [f"{run}/params.npz" for run in runs],
        "metrics": [f"{run}/metrics.json" for run in runs],
        "split": processed(run_split(wildcards.lab, spec["runs"][0])),
        "code": lib(
            "mlp.ensembles",
            "mlp.ablation",
            "mlp.network",
            "mlp.losses",
            "activations",
            "mlp.runs",
            "nested",
        ),
    }


# ---- the ablation table: baseline, improvements, recipe, ensemble votes


def bonus_rows(lab):
    """[(row, run or ensemble, what)] of a lab's ablation table, in order."""
    spec = bonus_spec(lab)
    rows = [(ablation.BASELINE, spec["baseline"], f"the lab's run {spec['baseline']}")]
    for name, improvement in spec["improvements"].items():
        rows.append((name, f"bonus.{name}", ablation.improvement_what(improvement)))
    rows.append((ablation.RECIPE, "bonus.recipe", ablation.recipe_what(spec)))
    return rows


def bonus_timing_rows(lab):
    """{row of the ablation table: the benchmark files of its jobs} (an ensemble's rows: its
    members' training and the ensemble's evaluation)."""
    rows = {
        row: [f"benchmarks/jobs/{lab}/train/{run}.tsv"]
        for row, run, _ in bonus_rows(lab)
    }
    for name, spec in ENSEMBLES[lab].items():
        files = [f"benchmarks/jobs/{lab}/train/{run}.tsv" for run in spec["runs"]]
        files.append(f"benchmarks/jobs/{lab}/ensemble/{name}.tsv")
        for vote in ablation.VOTES:
            rows[f"{spec['kind']}_{vote}"] = files
    return rows


def generated_metrics(lab, section):
    """{run name: metrics file} of the runs a section (architecture, svm_vs_ce) generates."""
    prefix = ablation.PREFIX[section] + "."
    return {
        run: f"results/{lab}/runs/{run}/metrics.json"
        for run in GENERATED[lab]
        if run.startswith(prefix)
    }


# ---- learning-rate range tests: <lab>.range_tests.<name>, over <lab>.defaults


def range_test_settings(lab, name):
    spec = config[lab]["range_tests"][name]
    where = f"{lab}.range_tests.{name}"
    if spec["eta_lo"] >= spec["eta_hi"]:
        raise WorkflowError(f"config {where}: eta_lo must be < eta_hi")
    base = merge(config[lab]["defaults"], spec["settings"])
    settings = range_tests.settings(
        base, spec["n_epochs"], spec["eta_lo"], spec["eta_hi"], spec["spacing"]
    )
    return validated(
        settings, f"{where} (merged with {lab}.defaults)", config[lab]["split"]
    )


RANGE_TESTS = {
    lab: {name: range_test_settings(lab, name) for name in config[lab]["range_tests"]}
    for lab in LABS
}


def range_test_dir(lab, name):
    return f"results/{lab}/range_tests/{name}"


def range_test_of(settings):
    """The range test a run's cyclic schedule takes its bounds from, or None."""
    return settings["schedule"].get("range_test")


def check_range_test_refs(lab, named_settings):
    for where, settings in named_settings:
        name = range_test_of(settings)
        if name is not None and name not in RANGE_TESTS[lab]:
            raise WorkflowError(
                f"config {where}: schedule.range_test = {name!r} is not a range test of "
                f"{lab}.range_tests (have: {sorted(RANGE_TESTS[lab])})"
            )


def proposal_input(lab, settings):
    """{"proposal": file, "proposal_code": the module that applies it} when the settings
    take their cyclic bounds from a range test."""
    name = range_test_of(settings)
    if name is None:
        return {}
    return {
        "proposal": f"{range_test_dir(lab, name)}/proposal.json",
        "proposal_code": lib("mlp.range_test"),
    }


def training_inputs(wildcards, split, settings, code=TRAIN_CODE, **grid):
    """Inputs of a job that trains: the split's data, the search's grid if any, the gradient
    check it waits for, its code, and the range test's proposal if the settings use one.
    """
    return (
        {"split": split}
        | grid
        | {"gradcheck": gradcheck_gate(wildcards), "code": code}
        | proposal_input(wildcards.lab, settings)
    )


def train_inputs(wildcards):
    lab, run = wildcards.lab, wildcards.run
    return training_inputs(
        wildcards, processed(run_split(lab, run)), RUN_SETTINGS[lab][run]
    )


def range_test_split(wildcards):
    settings = RANGE_TESTS[wildcards.lab][wildcards.name]
    return processed(settings_split(wildcards.lab, settings))


# ---- searches: <lab>.searches.<search>, trials merged over <lab>.defaults


def searches(lab):
    return config[lab].get("searches", {})


def search_parameters(lab, search):
    """The dotted paths of the settings a search sets (one for coarse-to-fine)."""
    return searched(searches(lab)[search])


def search_stages(lab, search):
    return ["random"] if is_random(searches(lab)[search]) else ["coarse", "fine"]


def probe_values(lab, search):
    """Trial values the search will really try, to validate its settings with: every trial
    of a random search, the low end of a coarse grid."""
    spec = searches(lab)[search]
    if is_random(spec):
        try:
            return random_trials(spec["parameters"], spec["trials"], spec["seed"])
        except ValueError as err:
            raise WorkflowError(f"config {lab}.searches.{search}.{err}")
    return [{spec["parameter"]: to_value(spec["coarse"]["low"], spec["scale"])}]


def merged_search_settings(lab, search, final):
    """Settings every trial (or the final run) of a search shares; the job sets the value."""
    spec = searches(lab)[search]
    key = f"{lab}.searches.{search}"
    settings = merge(config[lab]["defaults"], spec["settings"])
    if final:
        settings = merge(settings, spec["final"]["settings"])
        for name in ("course_test_acc", "student_test_acc"):
            settings[name] = spec["final"][name]
    if "split" in settings:
        raise WorkflowError(
            f"config {key}: its settings (with {lab}.defaults) set `split`; a search's trials "
            f"train on {key}.split and its final run on {key}.final.split"
        )
    where = f"{key}{'.final' if final else ''} (merged with {lab}.defaults)"
    probes = probe_values(lab, search)
    for i, values in enumerate(probes[:1] if final else probes):
        trial = f", trial {i}: {values}" if is_random(spec) else ""
        validated(
            apply_trial(settings, values),
            where + trial,
            spec["final"]["split"] if final else spec["split"],
        )
    return settings


def checked_search(lab, search):
    spec = searches(lab)[search]
    if not is_random(spec) and spec["coarse"]["low"] >= spec["coarse"]["high"]:
        raise WorkflowError(
            f"config {lab}.searches.{search}.coarse: low must be < high"
        )
    split_config(spec["split"])
    split_config(spec["final"]["split"])
    return {
        "trial": merged_search_settings(lab, search, final=False),
        "final": merged_search_settings(lab, search, final=True),
    }


def comparisons(lab):
    return config[lab].get("comparisons", {})


def tables(lab):
    return config[lab].get("tables", {})


def check_known_runs(key, runs, known):
    """The list of runs at config ``key`` may only name runs in ``known``."""
    unknown = sorted(set(runs) - set(known))
    if unknown:
        raise WorkflowError(f"config {key} names unknown runs {unknown}")


def check_run_lists(lab):
    """Comparisons and tables may list any run of the lab (also generated ones); the
    headline only configured runs (it reads the test-accuracy table)."""
    for kind, named in {"comparisons": comparisons(lab), "tables": tables(lab)}.items():
        for name, runs in named.items():
            check_known_runs(f"{lab}.{kind}.{name}", runs, RUN_SETTINGS[lab])
    check_known_runs(f"{lab}.headline", config[lab]["headline"], config[lab]["runs"])


def check_gradcheck(lab):
    """Each gradient check's network must be buildable and its samples must exist."""
    spec = config[lab].get("gradcheck")
    if not spec:
        return
    n = n_train(config[lab]["split"])
    for i, check in enumerate(spec["checks"]):
        where = f"config {lab}.gradcheck.checks[{i}]"
        settings = merge({k: v for k, v in spec.items() if k != "checks"}, check)
        try:
            net = build_network(settings, d=1, K=2)
        except ValueError as err:
            raise WorkflowError(f"{where}: {err} (hidden = {settings['hidden']})")
        if net.batch_norm and check["n"] < 2:
            raise WorkflowError(
                f"{where}: a batch-normalised check needs n >= 2 samples"
            )
        if n is not None and check["n"] > n:
            raise WorkflowError(
                f"{where}: n = {check['n']} is more than the {n} training samples of split "
                f"{config[lab]['split']!r}"
            )
        if (check.get("dims") or 0) > DIM:
            raise WorkflowError(
                f"{where}: dims = {check['dims']} but images have {DIM}"
            )


for _lab in LABS:
    split_config(config[_lab]["split"])
    check_run_lists(_lab)
    check_gradcheck(_lab)

SEARCH_SETTINGS = {
    lab: {search: checked_search(lab, search) for search in searches(lab)}
    for lab in LABS
}

for _lab in LABS:
    check_range_test_refs(
        _lab,
        [(RUN_WHERE[(_lab, run)], s) for run, s in RUN_SETTINGS[_lab].items()]
        + [
            (f"{_lab}.searches.{search}", s[part])
            for search, s in SEARCH_SETTINGS[_lab].items()
            for part in ("trial", "final")
        ],
    )


def search_settings(lab, search, final=False):
    return SEARCH_SETTINGS[lab][search]["final" if final else "trial"]


def search_key(wildcards):
    """The config key of a search, for messages."""
    return f"{wildcards.lab}.searches.{wildcards.search}"


def search_dir(lab, search):
    return f"results/{lab}/search/{search}"


def stage_trials(lab, search, stage):
    spec = searches(lab)[search]
    return range(spec["trials"] if stage == "random" else spec[stage]["n"])


SEARCH_CODE = TRAIN_CODE + lib("search")  # a trial's values: search.trial_values


def search_trial_inputs(wildcards):
    lab, search = wildcards.lab, wildcards.search
    return training_inputs(
        wildcards,
        search_split(wildcards),
        search_settings(lab, search),
        SEARCH_CODE,
        grid=f"{search_dir(lab, search)}/{wildcards.stage}_grid.tsv",
    )


def search_final_inputs(wildcards):
    lab, search = wildcards.lab, wildcards.search
    return training_inputs(
        wildcards,
        final_split(wildcards),
        search_settings(lab, search, final=True),
        SEARCH_CODE,
        grid=f"{search_dir(lab, search)}/ranked.tsv",
    )


def search_rank_inputs(wildcards):
    """{stage: the metrics of its trials}."""
    return {
        stage: stage_metrics(wildcards, stage)
        for stage in search_stages(wildcards.lab, wildcards.search)
    }


def stage_metrics(wildcards, stage):
    return [
        f"{search_dir(wildcards.lab, wildcards.search)}/{stage}/{trial}/metrics.json"
        for trial in stage_trials(wildcards.lab, wildcards.search, stage)
    ]


def search_split(wildcards):
    return processed(searches(wildcards.lab)[wildcards.search]["split"])


def final_split(wildcards):
    return processed(searches(wildcards.lab)[wildcards.search]["final"]["split"])


# ---- data paths


def start_dir():
    """The directory Snakemake was started from, or None if unknown.  With --directory the
    working directory is another one; the shell's PWD still names the start (checked against
    the working directory when --directory is relative)."""
    directory = workflow.overwrite_workdir  # --directory as given
    if directory is None:
        return Path.cwd()
    pwd = os.environ.get("PWD")
    if not pwd or not Path(pwd).is_dir():
        return None
    if (
        Path(directory).is_absolute()
        or (Path(pwd) / directory).resolve() == Path.cwd().resolve()
    ):
        return Path(pwd)
    return None


def local_copy(section):
    """``<section>.local_copy`` as an absolute path ("" if unset): a relative path is taken
    from the directory Snakemake was started from, not from --directory."""
    value = get_path(config, section)["local_copy"]
    if not value:
        return ""
    path = Path(value).expanduser()
    if not path.is_absolute():
        base = start_dir()
        if base is None:
            raise WorkflowError(
                f"config {section}.local_copy: {value!r} is a relative path, but Snakemake "
                f"runs in --directory {Path.cwd()} and the directory it was started from is "
                "unknown (no PWD): give an absolute path"
            )
        path = base / path
    return str(path)


def batches_hint():
    """The fix for a bad batch file, for the messages of the rules that read them."""
    if DATA_SOURCE == "synthetic":
        return (
            "Regenerate the synthetic batches: snakemake --forcerun synthetic_cifar10."
        )
    source = local_copy("data.cifar10") or config["data"]["cifar10"]["url"]
    return (
        f"The batches were extracted from data/cifar10/cifar-10-python.tar.gz (a verified copy "
        f"of {source}, checksum {config['data']['cifar10']['checksum']}), which is damaged or "
        "not the real CIFAR-10: delete data/cifar10/ and point data.cifar10.local_copy and "
        "data.cifar10.checksum at the official archive (or unset local_copy to download it)."
    )


def corpus_file():
    name = "synthetic" if CORPUS["source"] == "synthetic" else CORPUS["name"]
    return f"data/text/{name}.txt"


def batches_dir():
    return Path("data") / DATA_SOURCE / BATCH_DIR


def split_inputs(wildcards):
    split = Split.from_config(split_config(wildcards.split))
    files = {name: str(batches_dir() / name) for name in split.batches()}
    return files | {"meta": str(batches_dir() / "batches.meta")}


def processed(split):
    return f"data/{DATA_SOURCE}/processed/{split}.npz"


def lab_split(wildcards):
    return processed(config[wildcards.lab]["split"])


def gradcheck_gate(wildcards):
    """Training waits for the lab's gradient check (which fails the workflow if it fails)."""
    if "gradcheck" in config[wildcards.lab]:
        return f"results/{wildcards.lab}/gradcheck.tsv"
    return []


# ---- targets


def table_entries(wildcards):
    """{row name: metrics file} of a lab's table: every run and search final for
    ``test_accuracy``, else the runs the table lists in config."""
    lab = wildcards.lab
    if wildcards.table != "test_accuracy":
        runs = tables(lab)[wildcards.table]
    else:
        runs = all_runs(lab)
    entries = {run: f"results/{lab}/runs/{run}/metrics.json" for run in runs}
    if wildcards.table == "test_accuracy":
        for search in searches(lab):
            entries[f"{search} search: final"] = (
                f"{search_dir(lab, search)}/final/metrics.json"
            )
    return entries


def timed_jobs(wildcards):
    """{job name: Snakemake benchmark file} of every training job of a lab (runs, generated
    runs, range tests, search trials, search finals), for its timing table."""
    lab = wildcards.lab
    jobs = {run: f"benchmarks/jobs/{lab}/train/{run}.tsv" for run in RUN_SETTINGS[lab]}
    for name in RANGE_TESTS[lab]:
        jobs[f"range test {name}"] = f"benchmarks/jobs/{lab}/range_test/{name}.tsv"
    for search in searches(lab):
        for stage in search_stages(lab, search):
            for trial in stage_trials(lab, search, stage):
                jobs[f"{search} {stage} {trial}"] = (
                    f"benchmarks/jobs/{lab}/search/{search}/{stage}/{trial}.tsv"
                )
        jobs[f"{search} final"] = f"benchmarks/jobs/{lab}/search/{search}/final.tsv"
    return jobs


def comparison_histories(wildcards):
    runs = comparisons(wildcards.lab)[wildcards.comparison]
    return [f"results/{wildcards.lab}/runs/{run}/history.tsv" for run in runs]


def final_figure_name(search):
    return f"{search}-search-final"


def history_of(wildcards):
    """The history behind a curves figure: a run's, or a search's final run's."""
    lab, name = wildcards.lab, wildcards.name
    if name in RUN_SETTINGS[lab]:
        return f"results/{lab}/runs/{name}/history.tsv"
    for search in searches(lab):
        if name == final_figure_name(search):
            return f"{search_dir(lab, search)}/final/history.tsv"
    raise WorkflowError(f"no run or search of {lab} is called {name!r}")


def lab_targets(lab):
    targets = []
    for table in ["test_accuracy", *tables(lab)]:
        targets += [f"results/{lab}/{table}.tsv", f"results/{lab}/{table}.md"]
    targets += [
        f"results/{lab}/figures/compare_{name}.png" for name in comparisons(lab)
    ]
    if "gradcheck" in config[lab]:
        targets.append(f"results/{lab}/gradcheck.tsv")
    targets.append(f"benchmarks/timing/{lab}.tsv")
    for run in all_runs(lab):  # generated runs: only in their tables (curves on demand)
        targets.append(f"results/{lab}/figures/{run}_curves.png")
        if not RUN_SETTINGS[lab][run][
            "hidden"
        ]:  # templates exist for 1-layer networks only
            targets.append(f"results/{lab}/figures/{run}_templates.png")
    for search in searches(lab):
        base = search_dir(lab, search)
        targets += [f"{base}/ranked.tsv", f"{base}/best.md", f"{base}/search.png"]
        targets.append(f"results/{lab}/figures/{final_figure_name(search)}_curves.png")
    if bonus_spec(lab):
        targets += [f"results/{lab}/bonus.tsv", f"results/{lab}/bonus.md"]
        targets += [
            f"results/{lab}/figures/bonus.png",
            f"benchmarks/timing/{lab}_bonus.tsv",
        ]
        targets += [f"results/{lab}/ensembles/{name}.md" for name in ENSEMBLES[lab]]
    for section in ("architecture", "svm_vs_ce"):
        if config[lab].get(section):
            targets += [f"results/{lab}/{section}.tsv", f"results/{lab}/{section}.md"]
    if config[lab].get("architecture"):
        targets.append(f"results/{lab}/figures/architecture.png")
    if RANGE_TESTS[lab]:
        targets += [f"results/{lab}/range_tests.tsv", f"results/{lab}/range_tests.md"]
        targets += [
            f"results/{lab}/figures/range_test_{name}.png" for name in RANGE_TESTS[lab]
        ]
    return targets


# ---- lab 4: the character RNN; runs are lab4.runs.<run> merged over lab4.train

LAB4 = config["lab4"]
checked(LAB4["train"], "rnn_run.schema.yaml", "lab4.train", "lab4.train")


def rnn_run_settings(run):
    settings = merge(LAB4["train"], LAB4["runs"][run])
    where = f"lab4.runs.{run} (merged with lab4.train)"
    return checked(settings, "rnn_run.schema.yaml", where, f"lab4.runs.{run}")


RNN_RUNS = {run: rnn_run_settings(run) for run in LAB4["runs"]}
RNN_CODE = lib(
    "rnn.network",
    "rnn.trainer",
    "rnn.optim",
    "rnn.walks",
    "rnn.sampling",
    "rnn.runs",
    "data.text",
)


def rnn_run_dir(run):
    return f"results/lab4/runs/{run}"


def rnn_has_validation(run):
    return RNN_RUNS[run]["validation"]["mode"] != "none"


def check_lab4_lists():
    check_known_runs("lab4.headline", LAB4["headline"], RNN_RUNS)
    for name, runs in LAB4["comparisons"].items():
        check_known_runs(f"lab4.comparisons.{name}", runs, RNN_RUNS)
        blind = [run for run in runs if not rnn_has_validation(run)]
        if blind:
            raise WorkflowError(
                f"config lab4.comparisons.{name}: runs {blind} have no validation text "
                "(validation.mode: none), so there is no validation loss to compare: give "
                "them validation: {mode: tail} or leave them out"
            )
    if "sampling" in LAB4:
        run = LAB4["sampling"]["run"]
        if run not in RNN_RUNS:
            raise WorkflowError(
                f"config lab4.sampling.run: {run!r} is not a run of lab4.runs "
                f"(have: {sorted(RNN_RUNS)})"
            )
        if not rnn_has_validation(run):
            raise WorkflowError(
                f"config lab4.sampling.run: run {run!r} has no validation text "
                "(validation.mode: none), which the sampling comparison measures on: name "
                "a run with validation.mode tail or chunk"
            )


def known_corpus_length():
    """(characters, where they come from) of the corpus when they are known before any job
    runs (synthetic text: from config; a corpus file or local copy that exists: read), else
    None."""
    if CORPUS["source"] == "synthetic":
        return CORPUS["synthetic"]["n_chars"], "lab4.corpus.synthetic.n_chars"
    for path in (corpus_file(), local_copy("lab4.corpus")):
        if path and Path(path).is_file():
            try:
                return len(read_corpus(path)), f"corpus {path}"
            except SettingsError as err:
                raise WorkflowError(str(err))
    return None


def check_lab4_lengths(n, source):
    """Settings the text is too short for fail here, before any job starts, naming the key."""
    try:
        check_rnn_gradcheck(n, LAB4["gradcheck"])
        for run, settings in RNN_RUNS.items():
            check_settings(n, settings, f"lab4.runs.{run}")
    except SettingsError as err:
        raise WorkflowError(
            f"config {err} ({source}; a run's settings are lab4.train merged with "
            "lab4.runs.<run>)"
        )


check_lab4_lists()
_corpus_length = known_corpus_length()
if _corpus_length is not None:
    check_lab4_lengths(*_corpus_length)


def rnn_comparison_inputs(kind):
    """Per-run inputs of a lab-4 comparison: ``metrics``, ``curves`` (validation records),
    ``timing`` (the wall-clock records) or ``benchmarks`` (the jobs' benchmark files).
    """

    def inputs(wildcards):
        runs = LAB4["comparisons"][wildcards.comparison]
        return {
            "metrics": [f"{rnn_run_dir(r)}/metrics.json" for r in runs],
            "curves": [f"{rnn_run_dir(r)}/validation.tsv" for r in runs],
            "timing": [f"benchmarks/timing/lab4/runs/{r}.tsv" for r in runs],
            "benchmarks": [f"benchmarks/jobs/lab4/train/{r}.tsv" for r in runs],
        }[kind]

    return inputs


def lab4_targets():
    targets = ["results/lab4/gradcheck.tsv"]
    for run in RNN_RUNS:
        base = rnn_run_dir(run)
        targets += [
            f"{base}/metrics.json",
            f"{base}/training_samples.md",
            f"{base}/samples.md",
        ]
        targets.append(f"results/lab4/figures/{run}_smooth_loss.png")
    for name in LAB4["comparisons"]:
        targets += [f"results/lab4/comparison_{name}.{ext}" for ext in ("tsv", "md")]
        targets.append(f"results/lab4/figures/comparison_{name}.png")
        timing = f"benchmarks/timing/lab4/comparison_{name}"
        targets += [f"{timing}.tsv", f"{timing}.md", f"{timing}_seconds.png"]
    if "sampling" in LAB4:
        targets += ["results/lab4/sampling.tsv", "results/lab4/sampling.md"]
        targets.append("results/lab4/figures/sampling.png")
    return targets


LAB4_TARGETS = lab4_targets()


# ---- the headline: results/summary.md and the report's front page


def cifar_data():
    """What labs 1-3 are measured on, and whether the course's CIFAR-10 numbers apply."""
    if DATA_SOURCE == "synthetic":
        return {
            "name": "synthetic",
            "description": "synthetic images in CIFAR-10's format, generated offline",
            "comparable": False,
            "reference": "CIFAR-10",
        }
    checksum = config["data"]["cifar10"]["checksum"]
    if checksum.lower() == OFFICIAL_CIFAR10_MD5:
        return {
            "name": "CIFAR-10",
            "description": "CIFAR-10",
            "comparable": True,
            "reference": "CIFAR-10",
        }
    return {
        "name": "other archive",
        "description": f"a CIFAR-format archive other than the official one ({checksum})",
        "comparable": False,
        "reference": "CIFAR-10",
    }


def corpus_data():
    """What lab 4 is measured on, and whether the course's Goblet of Fire numbers apply."""
    if CORPUS["source"] == "synthetic":
        return {
            "name": "synthetic text",
            "description": "a synthetic English-like text, generated offline",
            "comparable": False,
            "reference": "Goblet of Fire",
        }
    reference = config["lab4"]["reference"].get("corpus_checksum", "")
    same = CORPUS["checksum"].lower() == reference.lower()
    name = "Goblet of Fire" if same else CORPUS["name"]
    return {
        "name": name,
        "description": f"the text {CORPUS['name']}",
        "comparable": same,
        "reference": "Goblet of Fire",
    }


def summary_inputs():
    """Named inputs of the summary rule: each lab's test-accuracy table, ablation table and
    gradient check; lab 4's gradient check, the metrics of its headline runs
    (lab4_metrics_<run>) and the passage of the first."""
    files = {}
    for lab in LABS:
        files[f"{lab}_table"] = f"results/{lab}/test_accuracy.tsv"
        if bonus_spec(lab):
            files[f"{lab}_bonus"] = f"results/{lab}/bonus.tsv"
        if "gradcheck" in config[lab]:
            files[f"{lab}_gradcheck"] = f"results/{lab}/gradcheck.tsv"
    files["lab4_gradcheck"] = "results/lab4/gradcheck.tsv"
    for run in LAB4["headline"]:
        files[f"lab4_metrics_{run}"] = f"{rnn_run_dir(run)}/metrics.json"
    if LAB4["headline"]:
        files["lab4_passage"] = f"{rnn_run_dir(LAB4['headline'][0])}/passage.txt"
    return files


def key_figures(lab):
    """The figures and tables the front page lists for a lab: paths under results/<lab>/
    (two searches each have a best.md and a search.png)."""
    if lab == "lab4":
        names = [f"figures/{run}_smooth_loss.png" for run in LAB4["headline"]]
        names += [f"figures/comparison_{name}.png" for name in LAB4["comparisons"]]
        names += [f"comparison_{name}.md" for name in LAB4["comparisons"]]
        names += ["figures/sampling.png", "sampling.md"] if "sampling" in LAB4 else []
        return names
    names = [f"figures/{run}_curves.png" for run in config[lab]["headline"]]
    names += [
        f"figures/{final_figure_name(search)}_curves.png" for search in searches(lab)
    ]
    names += [f"figures/compare_{name}.png" for name in comparisons(lab)]
    names += [
        str(Path(t).relative_to(f"results/{lab}"))
        for t in lab_targets(lab)
        if t.endswith(("search.png", ".md"))
    ]
    return names


def unique_report_names():
    """Names of the files in the HTML report that no other file there shares: the report
    makes a link for every file name, usable from the front page only when it is unique.
    (To be called once all rules are defined, as it looks for the outputs in report().)
    """
    reported = [o for r in workflow.rules for o in r.output if is_flagged(o, "report")]
    targets = [
        t for t in all_targets(summary=False) if any(o.match(t) for o in reported)
    ]
    names = [Path(t).name for t in targets]
    return sorted(name for name in set(names) if names.count(name) == 1)


FRONT_PAGE = "results/front_page.rst"


def report_front_page():
    """The landing page of `snakemake --report`: the front page the summary rule wrote in
    this working directory (the headline table), else the static description."""
    if Path(FRONT_PAGE).exists():
        return str(Path(FRONT_PAGE).resolve())
    return "workflow/report/workflow.rst"


def targets_of(name):
    """What the per-lab target rules (`snakemake lab2`, ..., `snakemake report`) build."""
    if name == "lab4":
        return LAB4_TARGETS
    if name == "report":
        return all_targets()
    return lab_targets(name)


def all_targets(summary=True):
    targets = [target for lab in LABS for target in lab_targets(lab)] + LAB4_TARGETS
    return targets + (["results/summary.md", FRONT_PAGE] if summary else [])
