"""What the config plans for the searches of labs 2-3 (``<lab>.searches.<name>``): their
stages, trials and drawn values, and the settings every trial and the final run share."""

from __future__ import annotations

from dataclasses import dataclass

from dd2424.nested import merge
from dd2424.search import is_random, random_trials, searched, to_value
from dd2424.trials import apply_trial

from . import layout
from .data import Cifar
from .errors import ConfigError
from .mlp import SettingsCheck, memory_mb


@dataclass(frozen=True)
class Search:
    """A coarse-to-fine search over one setting (stages ``coarse`` and ``fine``) or a random
    search over several (stage ``random``, its trials drawn here)."""

    lab: str
    name: str
    spec: dict
    trial_settings: dict  # what every trial shares; a trial sets the searched values
    final_settings: dict  # what the final run shares; it takes the best trial's values
    drawn: tuple  # a random search's trials ({dotted path: value}), () for coarse-to-fine

    @property
    def memory_mb(self) -> int:
        """The memory request of its trials and final run: what the most demanding needs."""
        return memory_mb(self.trial_settings, self.final_settings, *self.drawn)

    @property
    def key(self) -> str:
        """The config key of the search, for messages."""
        return f"{self.lab}.searches.{self.name}"

    @property
    def parameters(self) -> list[str]:
        """The dotted paths of the settings the search sets (one for coarse-to-fine)."""
        return searched(self.spec)

    @property
    def stages(self) -> list[str]:
        return ["random"] if is_random(self.spec) else ["coarse", "fine"]

    @property
    def split(self) -> str:
        return self.spec["split"]

    @property
    def final_split(self) -> str:
        return self.spec["final"]["split"]

    def trials(self, stage: str) -> range:
        return range(self.spec["trials"] if stage == "random" else self.spec[stage]["n"])

    def trial_files(self, stage: str, trial: int) -> dict[str, str]:
        wildcards = {"lab": self.lab, "search": self.name, "stage": stage, "trial": trial}
        return {
            "params": layout.path(layout.TRIAL_PARAMS, **wildcards),
            "history": layout.path(layout.TRIAL_HISTORY, **wildcards),
            "metrics": layout.path(layout.TRIAL_METRICS, **wildcards),
        }

    def file(self, pattern: str, **wildcards) -> str:
        return layout.path(pattern, lab=self.lab, search=self.name, **wildcards)


def probe_values(lab: str, name: str, spec: dict) -> list[dict]:
    """Trial values the search will really try, to validate its settings with: every trial
    of a random search, the low end of a coarse grid."""
    if is_random(spec):
        try:
            return random_trials(spec["parameters"], spec["trials"], spec["seed"])
        except ValueError as err:
            raise ConfigError(f"config {lab}.searches.{name}.{err}") from None
    return [{spec["parameter"]: to_value(spec["coarse"]["low"], spec["scale"])}]


def shared_settings(
    lab: str, name: str, cfg: dict, final: bool, probes: list[dict], check: SettingsCheck
) -> dict:
    """Settings every trial (or the final run) of a search shares, checked with the values the
    trials will set; the job sets the value."""
    spec = cfg["searches"][name]
    key = f"{lab}.searches.{name}"
    settings = merge(cfg["defaults"], spec["settings"])
    if final:
        settings = merge(settings, spec["final"]["settings"])
        for reference in ("course_test_acc", "student_test_acc"):
            settings[reference] = spec["final"][reference]
    if "split" in settings:
        raise ConfigError(
            f"config {key}: its settings (with {lab}.defaults) set `split`; a search's trials "
            f"train on {key}.split and its final run on {key}.final.split"
        )
    where = f"{key}{'.final' if final else ''} (merged with {lab}.defaults)"
    for i, values in enumerate(probes[:1] if final else probes):
        trial = f", trial {i}: {values}" if is_random(spec) else ""
        check(
            apply_trial(settings, values),
            where + trial,
            spec["final"]["split"] if final else spec["split"],
            fill=False,
        )
    return settings


def search_plan(lab: str, name: str, cfg: dict, cifar: Cifar, check: SettingsCheck) -> Search:
    spec = cfg["searches"][name]
    if not is_random(spec) and spec["coarse"]["low"] >= spec["coarse"]["high"]:
        raise ConfigError(f"config {lab}.searches.{name}.coarse: low must be < high")
    cifar.split(spec["split"])
    cifar.split(spec["final"]["split"])
    probes = probe_values(lab, name, spec)
    return Search(
        lab=lab,
        name=name,
        spec=spec,
        trial_settings=shared_settings(lab, name, cfg, False, probes, check),
        final_settings=shared_settings(lab, name, cfg, True, probes, check),
        drawn=tuple(probes) if is_random(spec) else (),
    )
