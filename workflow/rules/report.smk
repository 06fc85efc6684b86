# Tables and figures of the report.


rule results_table:
    input:
        metrics=lambda w: list(inputs.table_entries(PLAN, w.lab, w.table).values()),
    output:
        tsv=report(
            layout.TABLE,
            caption="../report/results_table.rst",
            category="{lab}",
            subcategory="results",
            labels={"table": "{table} (TSV)"},
        ),
        md=report(
            layout.TABLE_MD,
            caption="../report/results_table.rst",
            category="{lab}",
            subcategory="results",
            labels={"table": "{table} (markdown)"},
        ),
    log:
        "logs/{lab}/results_table_{table}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        names=lambda w: list(inputs.table_entries(PLAN, w.lab, w.table)),
        data=CIFAR.described(),
        code=script_code("collect.py"),
    script:
        "../scripts/collect.py"


# Wall times stay out of results/ (reruns must give the same bytes there): they are in
# Snakemake's benchmark files, gathered per lab into one table under benchmarks/timing/.
rule timing_table:
    input:
        benchmarks=lambda w: list(inputs.timed_jobs(PLAN, w.lab).values()),
    output:
        tsv=layout.TIMING,
    log:
        "logs/{lab}/timing_table.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        rows=lambda w: {job: [f] for job, f in inputs.timed_jobs(PLAN, w.lab).items()},
        key="job",
        code=script_code("timing_table.py"),
    script:
        "../scripts/timing_table.py"


rule plot_comparison:
    input:
        histories=lambda w: inputs.comparison_histories(PLAN, w.lab, w.comparison),
    output:
        figure=report(
            layout.COMPARISON_FIGURE,
            caption="../report/comparison.rst",
            category="{lab}",
            subcategory="comparisons",
            labels={"figure": "{comparison}"},
        ),
    log:
        "logs/{lab}/plot_comparison/{comparison}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        runs=lambda w: PLAN.lab(w.lab).comparisons[w.comparison],
        code=script_code("plot_comparison.py"),
    script:
        "../scripts/plot_comparison.py"


rule plot_curves:
    input:
        history=lambda w: inputs.history_of(PLAN, w.lab, w.name),
    output:
        figure=report(
            layout.CURVES,
            caption="../report/curves.rst",
            category="{lab}",
            subcategory="training curves",
            labels={"run": "{name}", "figure": "loss, cost, accuracy"},
        ),
    log:
        "logs/{lab}/plot_curves/{name}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        code=script_code("plot_curves.py"),
    script:
        "../scripts/plot_curves.py"


rule plot_templates:
    input:
        params=layout.RUN_PARAMS,
        meta=CIFAR.batch_file("batches.meta"),
    output:
        figure=report(
            layout.TEMPLATES,
            caption="../report/templates.rst",
            category="{lab}",
            subcategory="class templates",
            labels={"run": "{run}", "figure": "class templates"},
        ),
    log:
        "logs/{lab}/plot_templates/{run}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        hint=CIFAR.hint(),
        code=script_code("plot_templates.py"),
    script:
        "../scripts/plot_templates.py"


localrules:
    all,
    download_cifar10,
    extract_cifar10,
    synthetic_cifar10,
    results_table,
    timing_table,
    plot_comparison,
    plot_curves,
    plot_templates,


# The headline: how did each lab do, next to the course's and the best student's numbers.
rule summary:
    input:
        unpack(lambda w: targets.summary_inputs(PLAN)),
    output:
        md=report(
            layout.SUMMARY,
            caption="../report/summary.rst",
            category="summary",
            labels={"table": "headline (markdown)"},
        ),
        figure=report(
            layout.SUMMARY_FIGURE,
            caption="../report/summary.rst",
            category="summary",
            labels={"figure": "headline: ours next to the course's and the student's"},
        ),
        front=layout.FRONT_PAGE,
    log:
        "logs/summary.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        labs=LABS,
        titles=TITLES,
        data={"cifar": CIFAR.described(), "corpus": PLAN.corpus.described()},
        headline={lab: PLAN.lab(lab).headline for lab in LABS} | {"lab4": LAB4.headline},
        figures={lab: targets.key_figures(PLAN, lab) for lab in [*LABS, "lab4"]},
        linkable=lambda w: unique_report_names(),
        reference=LAB4.reference,
        # the text, not the file: a path would rerun the summary when the project moves
        intro=(WORKFLOW_DIR / "report" / "workflow.rst").read_text(encoding="utf-8"),
        code=script_code("summary.py"),
    script:
        "../scripts/summary.py"


# Targets by lab: `snakemake --cores all lab2` builds lab 2 and what it needs; `report` builds
# everything the HTML report shows (then: snakemake --report results/report.html).
for _target in [*LABS, "lab4", "report"]:

    rule:
        name:
            _target
        input:
            targets.of(PLAN, _target),
        localrule: True


localrules:
    summary,
