# DD2424 labs 1-4 as one pipeline.  Rules live in workflow/rules/, the maths in workflow/dd2424/.
from pathlib import Path


# The repository's config, also when --directory points elsewhere; --configfile merges over it.
configfile: Path(workflow.basedir) / "config" / "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/gradcheck.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/bonus.smk"
include: "workflow/rules/lab4.smk"
include: "workflow/rules/report.smk"


# The report's front page: the headline table the summary rule wrote, once it exists.
report: report_front_page()


# The default target stays here: `default_target:` is ignored in included files
# (snakemake/snakemake#2056).
rule all:
    input:
        targets.everything(PLAN),
