"""What the config plans for labs 1-3: every run with its merged, validated settings (the
configured runs of ``<lab>.runs`` and the runs the bonus sections generate), the ensembles of
the ablation, the learning-rate range tests, and the checks of the lab's lists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dd2424.data.cifar import DIM
from dd2424.mlp import ablation
from dd2424.mlp import range_test as range_tests
from dd2424.mlp.runs import build_network
from dd2424.nested import merge

from . import layout
from .data import Cifar
from .errors import ConfigError
from .schema import Schema

NO_REFERENCE = {"course_test_acc": None, "student_test_acc": None}

#: the memory request (MB) of a training job of labs 1-3 (rules train, search_trial,
#: search_final): its split is memory-mapped, ~740 MB for all45k, shared with every job on
#: the node that maps it; its own arrays take 60-120 MB (benchmarks/README.md, "job");
#: a float64 run converts its split to a private float64 copy (+1.1 GB for all45k)
MEMORY_MB = {"float32": 1500, "float64": 3000}


def memory_mb(*settings: Mapping) -> int:
    """The memory request of a training job on these settings: the largest for any of them
    (a search's trial and final settings, and its drawn trials, which may set ``dtype``)."""
    dtypes = {s.get("dtype", "float32") for s in settings}
    return max(MEMORY_MB.get(dtype, MEMORY_MB["float64"]) for dtype in dtypes)


@dataclass(frozen=True)
class Run:
    """One training job of a lab: its settings (the lab's defaults merged with the run's own
    entries, checked, defaults filled), the split it trains on, and the config key that
    defines it (``lab2.runs.fig3``) or generates it (``lab2.bonus.recipe (...)``)."""

    lab: str
    name: str
    settings: dict
    split: str
    source: str
    generated: bool = False

    @property
    def files(self) -> dict[str, str]:
        return {
            key: layout.path(pattern, lab=self.lab, run=self.name)
            for key, pattern in (
                ("params", layout.RUN_PARAMS),
                ("history", layout.RUN_HISTORY),
                ("metrics", layout.RUN_METRICS),
            )
        }


@dataclass(frozen=True)
class RangeTest:
    lab: str
    name: str
    settings: dict
    split: str
    spec: dict


@dataclass(frozen=True)
class Ensemble:
    lab: str
    name: str
    spec: dict  # {"kind", "runs", "what"} (dd2424.mlp.ablation.bonus_ensembles)

    @property
    def runs(self) -> list[str]:
        return self.spec["runs"]


class SettingsCheck:
    """Validates a run's merged settings against run.schema.yaml, by building its network
    (e.g. batch normalisation needs a hidden layer) and against the size of its split."""

    def __init__(self, schema: Schema, cifar: Cifar):
        self.schema, self.cifar = schema, cifar

    def __call__(self, settings: dict, where: str, split: str | None = None, fill=True) -> dict:
        """The settings checked, with their defaults filled in (or, without ``fill``, as
        given: a search checks every trial but needs none of them filled)."""
        if fill:
            settings = self.schema.checked(settings, where)
        else:
            self.schema.check(settings, where)
        try:
            build_network(settings, d=1, K=2)
        except ValueError as err:
            hidden = settings.get("hidden", [])
            raise ConfigError(f"config {where}: {err} (hidden = {hidden})") from None
        if "split" in settings:
            split = settings["split"]
            self.cifar.split(split, where)
        n = self.cifar.n_train(split) if split else None
        if n is not None and settings["n_batch"] > n:
            raise ConfigError(
                f"config {where}: n_batch = {settings['n_batch']} is larger than the training "
                f"set of split {split!r} ({n} samples); lower n_batch"
            )
        return settings


def split_of(settings: dict, lab_split: str) -> str:
    """The split a run trains on: its own ``split`` setting, else the lab's."""
    return settings.get("split") or lab_split


@dataclass(frozen=True)
class Mlp:
    """Lab 1, 2 or 3 as planned: its runs, ensembles and range tests (searches: ``searches``)."""

    name: str
    config: dict = field(repr=False)
    runs: dict[str, Run]
    ensembles: dict[str, Ensemble]
    range_tests: dict[str, RangeTest]

    @property
    def split(self) -> str:
        return self.config["split"]

    @property
    def configured(self) -> list[str]:
        """The runs the config names (the generated ones: ``generated``)."""
        return list(self.config["runs"])

    @property
    def generated(self) -> list[str]:
        return [run for run in self.runs if self.runs[run].generated]

    @property
    def bonus(self) -> dict | None:
        return self.config.get("bonus")

    @property
    def gradcheck(self) -> dict | None:
        return self.config.get("gradcheck")

    @property
    def comparisons(self) -> dict:
        return self.config.get("comparisons", {})

    @property
    def tables(self) -> dict:
        return self.config.get("tables", {})

    @property
    def headline(self) -> list[str]:
        return self.config["headline"]

    def section(self, name: str) -> dict | None:
        """A bonus section of the lab (``architecture``, ``svm_vs_ce``), None if absent."""
        return self.config.get(name)

    def section_runs(self, section: str) -> list[str]:
        """The runs a section (``architecture``, ``svm_vs_ce``) generates."""
        prefix = ablation.PREFIX[section] + "."
        return [run for run in self.generated if run.startswith(prefix)]

    def bonus_rows(self) -> list[tuple[str, str, str]]:
        """[(row, run, what)] of the ablation table, in order."""
        spec = self.bonus
        rows = [(ablation.BASELINE, spec["baseline"], f"the lab's run {spec['baseline']}")]
        for name, improvement in spec["improvements"].items():
            rows.append((name, f"bonus.{name}", ablation.improvement_what(improvement)))
        rows.append((ablation.RECIPE, "bonus.recipe", ablation.recipe_what(spec)))
        return rows


# ---------------------------------------------------------------- building a lab's plan


def _generated(lab: str, cfg: dict, runs: dict[str, dict]) -> dict[str, tuple[dict, str]]:
    """{run name: (settings, config key)} of the runs a lab's bonus sections generate."""
    out = _bonus_runs(lab, cfg["bonus"], runs) if cfg.get("bonus") else {}
    for section, make in (
        ("architecture", ablation.architecture_runs),
        ("svm_vs_ce", ablation.loss_runs),
    ):
        if cfg.get(section):
            for name, settings in make(cfg[section], cfg["defaults"]).items():
                out[name] = (settings, f"{lab}.{section} ({name}, merged with {lab}.defaults)")
    return out


def _bonus_runs(lab: str, spec: dict, runs: dict[str, dict]) -> dict[str, tuple[dict, str]]:
    """The runs of a lab's ablation; ``runs`` are the lab's configured runs' settings (the
    baseline is one of them)."""
    baseline = spec["baseline"]
    if baseline not in runs:
        raise ConfigError(
            f"config {lab}.bonus.baseline: {baseline!r} is not a run of {lab}.runs "
            f"(have: {sorted(runs)})"
        )
    unknown = sorted(set(ablation.recipe_parts(spec)) - set(spec["improvements"]))
    if unknown:
        raise ConfigError(
            f"config {lab}.bonus.recipe.include names unknown improvements {unknown} "
            f"(have: {list(spec['improvements'])})"
        )
    base = merge(runs[baseline], NO_REFERENCE)  # the baseline's course numbers stay its own
    out = {}
    for name, settings in ablation.bonus_runs(spec, base).items():
        part = name.split(".")[1]
        if part == ablation.RECIPE:
            where = f"{lab}.bonus.recipe ({lab}.runs.{baseline} with the recipe's improvements"
            where += ", ensemble.snapshots: true)" if settings.get("snapshots") else ")"
        else:
            where = f"{lab}.bonus.improvements.{part} (merged with {lab}.runs.{baseline})"
        out[name] = (settings, where)
    return out


def lab_runs(lab: str, cfg: dict, check: SettingsCheck) -> dict[str, Run]:
    """Every run of a lab, validated: the configured ones, then the generated ones."""
    split = cfg["split"]
    runs = {}
    for name in cfg["runs"]:
        where = f"{lab}.runs.{name} (merged with {lab}.defaults)"
        settings = check(merge(cfg["defaults"], cfg["runs"][name]), where, split)
        runs[name] = Run(lab, name, settings, split_of(settings, split), f"{lab}.runs.{name}")
    generated = _generated(lab, cfg, {name: run.settings for name, run in runs.items()})
    for name, (settings, where) in generated.items():
        if name in runs:
            raise ConfigError(
                f"config {lab}.runs.{name}: the name of a run that {where.split(' ')[0]} "
                "generates; rename the run"
            )
        settings = check(settings, where, split)
        runs[name] = Run(lab, name, settings, split_of(settings, split), where, generated=True)
    return runs


def lab_ensembles(lab: str, cfg: dict, runs: dict[str, Run]) -> dict[str, Ensemble]:
    if not cfg.get("bonus"):
        return {}
    specs = ablation.bonus_ensembles(cfg["bonus"], runs["bonus.recipe"].settings)
    return {name: Ensemble(lab, name, spec) for name, spec in specs.items()}


def lab_range_tests(lab: str, cfg: dict, check: SettingsCheck) -> dict[str, RangeTest]:
    out = {}
    for name, spec in cfg["range_tests"].items():
        where = f"{lab}.range_tests.{name}"
        if spec["eta_lo"] >= spec["eta_hi"]:
            raise ConfigError(f"config {where}: eta_lo must be < eta_hi")
        base = merge(cfg["defaults"], spec["settings"])
        settings = range_tests.settings(
            base, spec["n_epochs"], spec["eta_lo"], spec["eta_hi"], spec["spacing"]
        )
        settings = check(settings, f"{where} (merged with {lab}.defaults)", cfg["split"])
        out[name] = RangeTest(lab, name, settings, split_of(settings, cfg["split"]), spec)
    return out


def check_known_runs(key: str, runs, known) -> None:
    """The list of runs at config ``key`` may only name runs in ``known``."""
    unknown = sorted(set(runs) - set(known))
    if unknown:
        raise ConfigError(f"config {key} names unknown runs {unknown}")


def check_run_lists(lab: Mlp) -> None:
    """Comparisons and tables may list any run of the lab (also generated ones); the
    headline only configured runs (it reads the test-accuracy table)."""
    for kind, named in {"comparisons": lab.comparisons, "tables": lab.tables}.items():
        for name, runs in named.items():
            check_known_runs(f"{lab.name}.{kind}.{name}", runs, lab.runs)
    check_known_runs(f"{lab.name}.headline", lab.headline, lab.configured)


def check_gradcheck(lab: Mlp, cifar: Cifar) -> None:
    """Each gradient check's network must be buildable and its samples must exist."""
    spec = lab.gradcheck
    if not spec:
        return
    n = cifar.n_train(lab.split)
    for i, check in enumerate(spec["checks"]):
        where = f"config {lab.name}.gradcheck.checks[{i}]"
        settings = merge({k: v for k, v in spec.items() if k != "checks"}, check)
        try:
            net = build_network(settings, d=1, K=2)
        except ValueError as err:
            raise ConfigError(f"{where}: {err} (hidden = {settings['hidden']})") from None
        if net.batch_norm and check["n"] < 2:
            raise ConfigError(f"{where}: a batch-normalised check needs n >= 2 samples")
        if n is not None and check["n"] > n:
            raise ConfigError(
                f"{where}: n = {check['n']} is more than the {n} training samples of split "
                f"{lab.split!r}"
            )
        if (check.get("dims") or 0) > DIM:
            raise ConfigError(f"{where}: dims = {check['dims']} but images have {DIM}")


def range_test_of(settings: dict) -> str | None:
    """The range test a run's cyclic schedule takes its bounds from, or None."""
    return settings["schedule"].get("range_test")


def check_range_test_refs(lab: Mlp, named_settings: list[tuple[str, dict]]) -> None:
    for where, settings in named_settings:
        name = range_test_of(settings)
        if name is not None and name not in lab.range_tests:
            raise ConfigError(
                f"config {where}: schedule.range_test = {name!r} is not a range test of "
                f"{lab.name}.range_tests (have: {sorted(lab.range_tests)})"
            )


def mlp_plan(lab: str, cfg: dict, check: SettingsCheck) -> Mlp:
    runs = lab_runs(lab, cfg, check)
    return Mlp(
        name=lab,
        config=cfg,
        runs=runs,
        ensembles=lab_ensembles(lab, cfg, runs),
        range_tests=lab_range_tests(lab, cfg, check),
    )
