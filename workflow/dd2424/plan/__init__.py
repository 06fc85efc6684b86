"""What the config plans, as plain Python (no Snakemake): the pipeline's runs, trials, paths,
targets and checks, built once by ``make_plan`` and unit-tested in-process.

plan        ``make_plan(config)`` -> ``Plan``: the data, labs 1-3 and lab 4, checked.
errors      ``ConfigError``: the one error of a config problem (key, value, rule, fix).
configfiles The config files as written: a key given twice is an error (file, key, lines).
schema      JSON-Schema validation with defaults; each schema parsed once.
layout      Every path under data/, results/ and benchmarks/ (the rules' patterns).
data        The CIFAR source, its splits and their sizes; the text corpus; local copies.
mlp         Labs 1-3: runs (configured and generated), ensembles, range tests, their checks.
searches    Labs 2-3's searches: stages, trials, drawn values, shared settings.
rnn         Lab 4: runs, comparisons, sampling, checks against the text's length.
inputs      The inputs and params of every rule.
targets     What each target builds; the headline's inputs; the front page's key figures.
jobs        Every job's output files by rule (what a dry run of ``all`` must show).
code        The library modules a script runs, and a location-free digest of their code.
"""

from .errors import ConfigError
from .plan import Plan, make_plan

__all__ = ["ConfigError", "Plan", "make_plan"]
