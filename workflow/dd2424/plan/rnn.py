"""What the config plans for lab 4: every char-RNN run with its merged, validated settings,
the comparisons, the sampling grid and the passages, and the settings checked against the
length of the text when it is known before any job runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dd2424 import schedules
from dd2424.nested import merge
from dd2424.rnn.settings import SettingsError, check_gradcheck, check_settings, read_corpus
from dd2424.search import random_trials
from dd2424.trials import apply_trial

from . import layout
from .data import Corpus
from .errors import ConfigError
from .mlp import check_known_runs
from .schema import Schema


@dataclass(frozen=True)
class RnnRun:
    """One char-RNN training job: ``lab4.train`` merged with ``lab4.runs.<name>``, checked."""

    name: str
    settings: dict

    @property
    def source(self) -> str:
        return f"lab4.runs.{self.name}"

    @property
    def has_validation(self) -> bool:
        return self.settings["validation"]["mode"] != "none"

    def file(self, pattern: str) -> str:
        return layout.path(pattern, run=self.name)


@dataclass(frozen=True)
class RnnSearch:
    """A random search over run settings of lab 4: every trial shares ``settings`` (lab4.train
    merged with the search's settings, with the search's character budget) and sets the
    values ``drawn`` for it; ranked by the best validation loss per character."""

    name: str
    spec: dict
    settings: dict
    drawn: tuple

    @property
    def key(self) -> str:
        return f"lab4.searches.{self.name}"

    @property
    def parameters(self) -> list[str]:
        return list(self.spec["parameters"])

    def trial_file(self, pattern: str, trial: int) -> str:
        return layout.path(pattern, search=self.name, trial=trial)

    def file(self, pattern: str) -> str:
        return layout.path(pattern, search=self.name)


@dataclass(frozen=True)
class Rnn:
    """Lab 4 as planned."""

    config: dict = field(repr=False)
    runs: dict[str, RnnRun]
    searches: dict[str, RnnSearch]

    @property
    def comparisons(self) -> dict[str, list[str]]:
        return self.config["comparisons"]

    @property
    def headline(self) -> list[str]:
        return self.config["headline"]

    @property
    def sampling(self) -> dict | None:
        """The sampling grid (rule rnn_sampling), None if not configured."""
        return self.config.get("sampling")

    @property
    def passages(self) -> dict:
        return self.config["passages"]

    @property
    def gradcheck(self) -> dict:
        return self.config["gradcheck"]

    @property
    def reference(self) -> dict:
        return self.config["reference"]


def check_lists(lab4: Rnn) -> None:
    check_known_runs("lab4.headline", lab4.headline, lab4.runs)
    for name, runs in lab4.comparisons.items():
        check_known_runs(f"lab4.comparisons.{name}", runs, lab4.runs)
        blind = [run for run in runs if not lab4.runs[run].has_validation]
        if blind:
            raise ConfigError(
                f"config lab4.comparisons.{name}: runs {blind} have no validation text "
                "(validation.mode: none), so there is no validation loss to compare: give "
                "them validation: {mode: tail} or leave them out"
            )
    if lab4.sampling:
        run = lab4.sampling["run"]
        if run not in lab4.runs:
            raise ConfigError(
                f"config lab4.sampling.run: {run!r} is not a run of lab4.runs "
                f"(have: {sorted(lab4.runs)})"
            )
        if not lab4.runs[run].has_validation:
            raise ConfigError(
                f"config lab4.sampling.run: run {run!r} has no validation text "
                "(validation.mode: none), which the sampling comparison measures on: name "
                "a run with validation.mode tail or chunk"
            )


def known_corpus_length(corpus: Corpus, workdir: Path) -> tuple[int, str] | None:
    """(characters, where they come from) of the corpus when they are known before any job
    runs (synthetic text: from config; a corpus file or local copy that exists: read), else
    None."""
    if corpus.source == "synthetic":
        return corpus.synthetic["n_chars"], "lab4.corpus.synthetic.n_chars"
    for path in (corpus.file, corpus.local_copy):
        if path and (Path(workdir) / path).is_file():
            try:
                return len(read_corpus(Path(workdir) / path)), f"corpus {path}"
            except SettingsError as err:
                raise ConfigError(str(err)) from None
    return None


def check_lengths(lab4: Rnn, n: int, source: str) -> None:
    """Settings the text is too short for fail here, before any job starts, naming the key."""
    try:
        check_gradcheck(n, lab4.gradcheck)
        for name, run in lab4.runs.items():
            check_settings(n, run.settings, f"lab4.runs.{name}")
        for search in lab4.searches.values():
            for i, values in enumerate(search.drawn):
                trial = apply_trial(search.settings, values)
                check_settings(n, trial, f"{search.key} (trial {i}: {values})")
    except SettingsError as err:
        raise ConfigError(
            f"config {err} ({source}; a run's settings are lab4.train merged with lab4.runs.<run>)"
        ) from None


def check_schedule(settings: dict, key: str) -> None:
    """The step size's schedule must be one ``dd2424.schedules`` can build: a kind's keys only
    (a cosine takes eta_min, a step decay gamma and step_epochs)."""
    spec = {k: v for k, v in settings["schedule"].items() if k != "warmup"}
    try:
        schedules.make_schedule(spec | {"eta": 1.0}, steps_per_epoch=1, n_updates=2)
    except (TypeError, ValueError) as err:
        kind = spec.get("kind", "constant")
        raise ConfigError(
            f"config {key}.schedule = {settings['schedule']}: not a {kind} schedule ({err}); "
            "a constant takes no other key, step: gamma and step_epochs, exponential: gamma, "
            "cosine: eta_min (config/README.md, lab4)"
        ) from None


def rnn_plan(cfg: dict, schema: Schema, corpus: Corpus, workdir: Path) -> Rnn:
    train = schema.checked(cfg["train"], "lab4.train", "lab4.train")
    runs = {}
    for name, own in cfg["runs"].items():
        where = f"lab4.runs.{name} (merged with lab4.train)"
        runs[name] = RnnRun(name, schema.checked(merge(train, own), where, f"lab4.runs.{name}"))
        check_schedule(runs[name].settings, f"lab4.runs.{name}")
    searches = {
        name: rnn_search(name, spec, train, schema) for name, spec in cfg["searches"].items()
    }
    lab4 = Rnn(config=cfg | {"train": train}, runs=runs, searches=searches)
    check_lists(lab4)
    known = known_corpus_length(corpus, workdir)
    if known is not None:
        check_lengths(lab4, *known)
    return lab4


def rnn_search(name: str, spec: dict, train: dict, schema: Schema) -> RnnSearch:
    """A lab-4 search, every trial's settings checked (the schema, the schedule, a validation
    text to rank by)."""
    key = f"lab4.searches.{name}"
    try:
        drawn = random_trials(spec["parameters"], spec["trials"], spec["seed"])
    except ValueError as err:
        raise ConfigError(f"config {key}.{err}") from None
    settings = merge(train, spec["settings"]) | {"updates": None, "characters": spec["characters"]}
    for i, values in enumerate(drawn):
        where = f"{key}, trial {i}: {values} (with lab4.train)"
        trial = schema.checked(apply_trial(settings, values), where)
        check_schedule(trial, f"{key} (trial {i})")
        if trial["validation"]["mode"] == "none":
            raise ConfigError(
                f"config {key}: its trials have no validation text (validation.mode: none), "
                f"and a search ranks by validation loss: set validation: {{mode: tail}} in "
                f"{key}.settings or lab4.train"
            )
    return RnnSearch(name, spec, settings, tuple(drawn))
