"""``make_plan``: the whole pipeline a config describes, checked, as frozen data."""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import layout
from .data import Cifar, Corpus, cifar_plan, corpus_plan
from .errors import ConfigError
from .mlp import (
    Mlp,
    SettingsCheck,
    check_gradcheck,
    check_range_test_refs,
    check_run_lists,
    mlp_plan,
)
from .rnn import Rnn, rnn_plan
from .schema import SCHEMA_DIR, schema
from .searches import Search, search_plan

#: the headline's title of each lab
TITLES = {
    "lab1": "one-layer softmax classifier",
    "lab2": "two-layer network, cyclical learning rates, lambda search",
    "lab3": "k-layer network with batch normalisation",
    "lab4": "character-level RNN",
}


@dataclass(frozen=True)
class Plan:
    """Everything a config plans: the data, labs 1-3 (runs, ensembles, range tests, searches)
    and lab 4.  Built and checked by ``make_plan``; the rules read their inputs and params from
    it (``dd2424.plan.inputs``), and ``dd2424.plan.targets`` lists what each target builds."""

    cifar: Cifar
    corpus: Corpus
    labs: dict[str, Mlp]
    searches: dict[str, dict[str, Search]]
    lab4: Rnn
    config: dict = field(repr=False)

    @property
    def lab_names(self) -> list[str]:
        """Labs 1-3 that the config has (lab 4 is always there)."""
        return list(self.labs)

    def lab(self, lab: str) -> Mlp:
        return self.labs[lab]

    def run(self, lab: str, run: str):
        return self.labs[lab].runs[run]

    def search(self, lab: str, search: str) -> Search:
        return self.searches[lab][search]

    def split_file(self, split: str) -> str:
        return self.cifar.split_file(split)

    def gradcheck_gate(self, lab: str) -> list[str] | str:
        """Training waits for the lab's gradient check (which fails the workflow if it
        fails)."""
        return layout.path(layout.GRADCHECK, lab=lab) if self.labs[lab].gradcheck else []


def make_plan(
    config: dict,
    start_dir: str | Path | None = ".",
    working_dir: str | Path = ".",
    schema_dir: str | Path = SCHEMA_DIR,
) -> Plan:
    """The plan of ``config`` (config/config.yaml merged with any --configfile), checked.

    ``start_dir``: where Snakemake was started (relative ``local_copy`` paths are taken from
    there; None if unknown); ``working_dir``: its working directory (corpus files already there are
    read to check the settings against the text's length).  Raises ``ConfigError`` naming the
    key, the value and the fix for the first problem found."""
    directory = str(schema_dir)
    config = schema("config.schema.yaml", directory).checked(
        copy.deepcopy(config), "(config/config.yaml merged with --configfile files)"
    )
    workdir = Path(working_dir)
    start_dir = None if start_dir is None else Path(start_dir)
    cifar = cifar_plan(config, start_dir, workdir)
    corpus = corpus_plan(config, start_dir, workdir)
    check = SettingsCheck(schema("run.schema.yaml", directory), cifar)
    names = sorted(key for key in config if re.fullmatch(r"lab[1-3]", key))
    labs = {lab: mlp_plan(lab, config[lab], check) for lab in names}
    for lab in labs.values():
        cifar.split(lab.split)
        check_run_lists(lab)
        check_gradcheck(lab, cifar)
    searches = {
        lab: {
            name: search_plan(lab, name, config[lab], cifar, check)
            for name in config[lab].get("searches", {})
        }
        for lab in names
    }
    for name, lab in labs.items():
        check_range_test_refs(
            lab,
            [(run.source, run.settings) for run in lab.runs.values()]
            + [
                (search.key, settings)
                for search in searches[name].values()
                for settings in (search.trial_settings, search.final_settings)
            ],
        )
    lab4 = rnn_plan(config["lab4"], schema("rnn_run.schema.yaml", directory), corpus, workdir)
    plan = Plan(cifar=cifar, corpus=corpus, labs=labs, searches=searches, lab4=lab4, config=config)
    check_names(config)
    check_outputs(plan)
    return plan


#: the config sections whose entries name folders or files (a run: results/<lab>/runs/<run>/)
NAMED = ("runs", "range_tests", "comparisons", "searches", "tables")


def check_names(config: dict) -> None:
    """Every name that becomes a folder or a file name must be one path component: not "."
    nor ".." (the schemas' name patterns allow dots, as in ``lam0.1_eta0.001``)."""
    for lab, section in config.items():
        if not isinstance(section, dict):
            continue
        for kind in NAMED:
            for name in section.get(kind) or {}:
                if name in (".", ".."):
                    raise ConfigError(
                        f"config {lab}.{kind}: the name {name!r} is not usable (it becomes a "
                        f"folder or file name, and {name!r} names another folder): rename it"
                    )


def check_outputs(plan: Plan) -> None:
    """No two jobs may write the same file (two names that share a folder, e.g. a table named
    like the ablation table), and no path may leave its folder."""
    from .jobs import outputs  # jobs reads the plan: imported here, not at the top

    writers: dict[str, str] = {}
    for rule, jobs in outputs(plan).items():
        for files in jobs:
            for path in files:
                if os.path.normpath(path) != path:
                    raise ConfigError(f"config: the job {rule} would write {path}: rename")
                if path in writers:
                    raise ConfigError(
                        f"config: two jobs would write {path} (rules {writers[path]} and {rule}):"
                        " two names in one folder must differ: rename one of them"
                    )
                writers[path] = rule
