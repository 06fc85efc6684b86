# Glue between Snakemake and the plan: build the plan once, constrain the wildcards, give each
# rule a digest of the library code its script runs, and the helpers that need Snakemake's
# `workflow` object.  What the config plans (runs, trials, paths, targets, checks) is plain
# Python in workflow/dd2424/plan/, unit-tested without Snakemake.
import os
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.io import is_flagged
from snakemake.utils import min_version

from dd2424.data.cifar import BATCH_DIR, CIFAR_FILES
from dd2424.plan import ConfigError, code, inputs, layout, make_plan, targets
from dd2424.plan.configfiles import check_unique_keys
from dd2424.plan.mlp import memory_mb
from dd2424.plan.plan import TITLES

min_version("9.0")

WORKFLOW_DIR = Path(workflow.basedir) / "workflow"


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


try:
    check_unique_keys(workflow.configfiles)  # config/config.yaml and every --configfile
    PLAN = make_plan(
        config,
        start_dir=start_dir(),
        working_dir=Path.cwd(),
        schema_dir=WORKFLOW_DIR / "schemas",
    )
except ConfigError as err:
    raise WorkflowError(str(err)) from None

LABS = PLAN.lab_names  # labs 1-3 in the config; lab 4 (the RNN) has its own rules
CIFAR = PLAN.cifar
LAB4 = PLAN.lab4


wildcard_constraints:
    lab="|".join(LABS) or "lab1",
    split="[A-Za-z0-9_]+",
    run="[A-Za-z0-9_.=-]+",
    name="[A-Za-z0-9_.=-]+",
    search="[A-Za-z0-9_]+",
    stage="coarse|fine|random",
    trial="[0-9]+",
    table="|".join(
        ["test_accuracy", *(t for lab in LABS for t in PLAN.lab(lab).tables)]
    ),
    comparison="[A-Za-z0-9_.=-]+",
    ensemble="[A-Za-z0-9_.=-]+",


def script_code(script):
    """A digest of the library modules the rule's script runs (its imports, followed through
    the package), as a param: editing one of them reruns the rule, moving the project does not
    (the digest names no path).  ``script``: the file name in workflow/scripts/."""
    modules = code.dependencies(WORKFLOW_DIR / "scripts" / script, WORKFLOW_DIR)
    return code.digest(modules, WORKFLOW_DIR)


# ---- the HTML report


def unique_report_names():
    """Names of the files in the HTML report that no other file there shares: the report
    makes a link for every file name, usable from the front page only when it is unique.
    (To be called once all rules are defined, as it looks for the outputs in report().)
    """
    reported = [o for r in workflow.rules for o in r.output if is_flagged(o, "report")]
    wanted = targets.everything(PLAN, summary=False)
    names = [Path(t).name for t in wanted if any(o.match(t) for o in reported)]
    return sorted(name for name in set(names) if names.count(name) == 1)


def report_front_page():
    """The landing page of `snakemake --report`: the front page the summary rule wrote in
    this working directory (the headline table), else the static description."""
    if Path(layout.FRONT_PAGE).exists():
        return str(Path(layout.FRONT_PAGE).resolve())
    return "workflow/report/workflow.rst"
