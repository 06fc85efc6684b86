"""Where every file of the pipeline lives: one place for each path under data/, results/ and
benchmarks/.

Each name is a pattern with ``{wildcards}``: the rules use the patterns as they are (Snakemake
fills the wildcards), and the plan fills them (``path(PATTERN, lab="lab2", run="fig3")``) for
the files of concrete jobs and targets.  Paths are relative to the working directory.
"""

from __future__ import annotations

import re

from dd2424.data.cifar import BATCH_DIR


def path(pattern: str, **wildcards) -> str:
    """``pattern`` with the given wildcards filled in; the others stay wildcards (so
    ``path(SPLIT, source="synthetic")`` is a pattern of ``{split}`` for a rule)."""
    return re.sub(r"{(\w+)}", lambda m: str(wildcards.get(m.group(1), m.group(0))), pattern)


def _trained(directory: str) -> tuple[str, str, str]:
    """The files of a trained network of labs 1-3: parameters, history, metrics."""
    return tuple(f"{directory}/{name}" for name in ("params.npz", "history.tsv", "metrics.json"))


def _table(stem: str) -> tuple[str, str]:
    """A table's two files: TSV (full precision) and markdown."""
    return f"{stem}.tsv", f"{stem}.md"


# ---- data
CIFAR_ARCHIVE = "data/cifar10/cifar-10-python.tar.gz"
#: what extraction found in the archive: its checksum and the images of each batch
BATCH_SIZES = "data/cifar10/batch_sizes.json"
BATCHES = "data/{source}/" + BATCH_DIR + "/{name}"
SPLIT = "data/{source}/processed/{split}.npz"
# the split's sha256, so that training jobs need not hash it again (dd2424.io.input_digest)
SPLIT_DIGEST = SPLIT + ".sha256.json"
CORPUS = "data/text/{corpus}.txt"

# ---- labs 1-3: results/{lab}/
GRADCHECK = "results/{lab}/gradcheck.tsv"
RUN = "results/{lab}/runs/{run}"
RUN_PARAMS, RUN_HISTORY, RUN_METRICS = _trained(RUN)
TABLE, TABLE_MD = _table("results/{lab}/{table}")
FIGURES = "results/{lab}/figures"
CURVES = FIGURES + "/{name}_curves.png"
TEMPLATES = FIGURES + "/{run}_templates.png"
COMPARISON_FIGURE = FIGURES + "/compare_{comparison}.png"

SEARCH = "results/{lab}/search/{search}"
SEARCH_GRID = SEARCH + "/{stage}_grid.tsv"
TRIAL = SEARCH + "/{stage}/{trial}"
TRIAL_PARAMS, TRIAL_HISTORY, TRIAL_METRICS = _trained(TRIAL)
SEARCH_RANKED, SEARCH_RANKED_MD = _table(SEARCH + "/ranked")
SEARCH_BEST = SEARCH + "/best.md"
SEARCH_FIGURE = SEARCH + "/search.png"
FINAL = SEARCH + "/final"
FINAL_PARAMS, FINAL_HISTORY, FINAL_METRICS = _trained(FINAL)

ENSEMBLE, ENSEMBLE_MD = _table("results/{lab}/ensembles/{ensemble}")
BONUS, BONUS_MD = _table("results/{lab}/bonus")
BONUS_FIGURE = FIGURES + "/bonus.png"
RANGE_TEST = "results/{lab}/range_tests/{name}"
RANGE_TEST_HISTORY = RANGE_TEST + "/history.tsv"
RANGE_TEST_PROPOSAL = RANGE_TEST + "/proposal.json"
RANGE_TEST_FIGURE = FIGURES + "/range_test_{name}.png"
RANGE_TESTS, RANGE_TESTS_MD = _table("results/{lab}/range_tests")
ARCHITECTURE, ARCHITECTURE_MD = _table("results/{lab}/architecture")
ARCHITECTURE_FIGURE = FIGURES + "/architecture.png"
SVM_VS_CE, SVM_VS_CE_MD = _table("results/{lab}/svm_vs_ce")

# ---- lab 4: results/lab4/
RNN_GRADCHECK = "results/lab4/gradcheck.tsv"
RNN_RUN = "results/lab4/runs/{run}"
RNN_MODEL = RNN_RUN + "/model.npz"
RNN_SMOOTH_LOSS = RNN_RUN + "/smooth_loss.tsv"
RNN_VALIDATION = RNN_RUN + "/validation.tsv"
RNN_TRAINING_SAMPLES = RNN_RUN + "/training_samples.md"
RNN_METRICS = RNN_RUN + "/metrics.json"
RNN_CHECKPOINT = RNN_RUN + "/checkpoint.npz"  # not an output: a killed job keeps it
RNN_PASSAGE = RNN_RUN + "/passage.txt"
RNN_SAMPLES = RNN_RUN + "/samples.md"
RNN_SMOOTH_LOSS_FIGURE = "results/lab4/figures/{run}_smooth_loss.png"
RNN_COMPARISON, RNN_COMPARISON_MD = _table("results/lab4/comparison_{comparison}")
RNN_COMPARISON_FIGURE = "results/lab4/figures/comparison_{comparison}.png"
RNN_SAMPLING, RNN_SAMPLING_MD = _table("results/lab4/sampling")
RNN_SAMPLING_FIGURE = "results/lab4/figures/sampling.png"

RNN_SEARCH = "results/lab4/search/{search}"
RNN_SEARCH_GRID = RNN_SEARCH + "/random_grid.tsv"
RNN_TRIAL = RNN_SEARCH + "/random/{trial}"
RNN_TRIAL_METRICS = RNN_TRIAL + "/metrics.json"
RNN_TRIAL_VALIDATION = RNN_TRIAL + "/validation.tsv"
RNN_TRIAL_SMOOTH_LOSS = RNN_TRIAL + "/smooth_loss.tsv"
RNN_SEARCH_RANKED, RNN_SEARCH_RANKED_MD = _table(RNN_SEARCH + "/ranked")
RNN_SEARCH_BEST = RNN_SEARCH + "/best.md"

# ---- the headline
SUMMARY = "results/summary.md"
SUMMARY_FIGURE = "results/summary.png"
FRONT_PAGE = "results/front_page.rst"

# ---- benchmarks/: wall times and memory (never under results/)
JOB_TRAIN = "benchmarks/jobs/{lab}/train/{run}.tsv"
JOB_TRIAL = "benchmarks/jobs/{lab}/search/{search}/{stage}/{trial}.tsv"
JOB_FINAL = "benchmarks/jobs/{lab}/search/{search}/final.tsv"
JOB_ENSEMBLE = "benchmarks/jobs/{lab}/ensemble/{ensemble}.tsv"
JOB_RANGE_TEST = "benchmarks/jobs/{lab}/range_test/{name}.tsv"
JOB_RNN_TRAIN = "benchmarks/jobs/lab4/train/{run}.tsv"
JOB_RNN_TRIAL = "benchmarks/jobs/lab4/search/{search}/{trial}.tsv"
TIMING = "benchmarks/timing/{lab}.tsv"
TIMING_BONUS = "benchmarks/timing/{lab}_bonus.tsv"
RNN_TIMING = "benchmarks/timing/lab4/runs/{run}.tsv"
RNN_COMPARISON_TIMING, RNN_COMPARISON_TIMING_MD = _table(
    "benchmarks/timing/lab4/comparison_{comparison}"
)
RNN_COMPARISON_TIMING_FIGURE = "benchmarks/timing/lab4/comparison_{comparison}_seconds.png"
