# Config validation, helpers and derived globals: the only place for Python helpers.
import math
import os
import re
from pathlib import Path

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

from dd2424.data import BATCH_DIR, CIFAR_FILES, DIM, TEST_BATCH, Split
from dd2424.experiments import build_network, merge
from dd2424.search import get_path, set_path, to_value

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


def schema_errors(instance, schema_name, prefix=""):
    """One line per violation (key, value, rule), without the schema dump of a plain
    jsonschema error; for oneOf/anyOf the most relevant sub-error (jsonschema's best_match).
    """
    schema = yaml.safe_load((SCHEMA_DIR / schema_name).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    lines = []
    for error in validator.iter_errors(instance):
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
    stage="coarse|fine",
    trial="[0-9]+",
    table="|".join(
        ["test_accuracy", *(t for lab in LABS for t in config[lab].get("tables", {}))]
    ),
    comparison="[A-Za-z0-9_.=-]+",


def lib(*modules):
    """Library modules a rule's results depend on, so editing them triggers a rerun."""
    return [str(PACKAGE_DIR / f"{m}.py") for m in modules]


TRAIN_CODE = lib("nn", "train", "schedules", "experiments", "augment")


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


def split_config(name):
    if name not in config["splits"]:
        raise WorkflowError(
            f"split {name!r} is not defined under `splits:` (have: {sorted(config['splits'])})"
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
    (e.g. batch normalisation needs a hidden layer) and against the size of its ``split``.
    """
    checked(settings, "run.schema.yaml", where)
    try:
        build_network(settings, d=1, K=2)
    except ValueError as err:
        raise WorkflowError(f"config {where}: {err} (hidden = {settings['hidden']})")
    n = n_train(split) if split else None
    if n is not None and settings["n_batch"] > n:
        raise WorkflowError(
            f"config {where}: n_batch = {settings['n_batch']} is larger than the training "
            f"set of split {split!r} ({n} samples); lower n_batch"
        )
    return settings


# ---- runs: <lab>.runs.<run> merged over <lab>.defaults


def run_settings(lab, run):
    settings = merge(config[lab]["defaults"], config[lab]["runs"][run])
    where = f"{lab}.runs.{run} (merged with {lab}.defaults)"
    return validated(settings, where, config[lab]["split"])


RUN_SETTINGS = {
    lab: {run: run_settings(lab, run) for run in config[lab]["runs"]} for lab in LABS
}


def all_runs(lab):
    return list(config[lab]["runs"])


# ---- searches: <lab>.searches.<search>, trials merged over <lab>.defaults


def searches(lab):
    return config[lab].get("searches", {})


def merged_search_settings(lab, search, final):
    """Settings every trial (or the final run) of a search shares; the job sets the value."""
    spec = searches(lab)[search]
    settings = merge(config[lab]["defaults"], spec["settings"])
    if final:
        settings = merge(settings, spec["final"]["settings"])
        settings["course_test_acc"] = spec["final"]["course_test_acc"]
    # validate with a value the search will really try
    probe = set_path(
        settings, spec["parameter"], to_value(spec["coarse"]["low"], spec["scale"])
    )
    where = f"{lab}.searches.{search}{'.final' if final else ''} (merged with {lab}.defaults)"
    validated(probe, where, spec["final"]["split"] if final else spec["split"])
    return settings


def checked_search(lab, search):
    spec = searches(lab)[search]
    if spec["coarse"]["low"] >= spec["coarse"]["high"]:
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


def check_run_lists(lab):
    for kind, groups in (("comparisons", comparisons(lab)), ("tables", tables(lab))):
        for name, runs in groups.items():
            unknown = sorted(set(runs) - set(config[lab]["runs"]))
            if unknown:
                raise WorkflowError(
                    f"config {lab}.{kind}.{name} names unknown runs {unknown}"
                )


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


def search_settings(lab, search, final=False):
    return SEARCH_SETTINGS[lab][search]["final" if final else "trial"]


def search_key(wildcards):
    """The config key of a search, for messages."""
    return f"{wildcards.lab}.searches.{wildcards.search}"


def search_dir(lab, search):
    return f"results/{lab}/search/{search}"


def stage_trials(lab, search, stage):
    return range(searches(lab)[search][stage]["n"])


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
    working directory is another one; the shell's PWD (when it leads there) still names the
    start."""
    if workflow.overwrite_workdir is None:
        return Path.cwd()
    pwd = os.environ.get("PWD")
    if (
        pwd
        and (Path(pwd) / workflow.overwrite_workdir).resolve() == Path.cwd().resolve()
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
    """{job name: Snakemake benchmark file} of every training job of a lab (runs, search
    trials, search finals), for its timing table."""
    lab = wildcards.lab
    jobs = {run: f"benchmarks/jobs/{lab}/train/{run}.tsv" for run in all_runs(lab)}
    for search in searches(lab):
        for stage in ("coarse", "fine"):
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
    if name in config[lab]["runs"]:
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
    for run, settings in RUN_SETTINGS[lab].items():
        targets.append(f"results/{lab}/figures/{run}_curves.png")
        if not settings["hidden"]:  # class templates exist for the 1-layer network only
            targets.append(f"results/{lab}/figures/{run}_templates.png")
    for search in searches(lab):
        base = search_dir(lab, search)
        targets += [f"{base}/ranked.tsv", f"{base}/best.md", f"{base}/search.png"]
        targets.append(f"results/{lab}/figures/{final_figure_name(search)}_curves.png")
    return targets


LAB4_TARGETS = [
    "results/lab4/gradcheck.tsv",
    "results/lab4/samples.md",
    "results/lab4/metrics.json",
    "results/lab4/figures/smooth_loss.png",
]


def all_targets():
    return [target for lab in LABS for target in lab_targets(lab)] + LAB4_TARGETS
