# Tables and figures of the report.


rule results_table:
    input:
        metrics=lambda wildcards: list(table_entries(wildcards).values()),
    output:
        tsv=report(
            "results/{lab}/{table}.tsv",
            caption="../report/results_table.rst",
            category="{lab}",
            subcategory="results",
            labels={"table": "{table} (TSV)"},
        ),
        md=report(
            "results/{lab}/{table}.md",
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
        names=lambda wildcards: list(table_entries(wildcards)),
        data=cifar_data(),
    script:
        "../scripts/collect.py"


# Wall times stay out of results/ (reruns must give the same bytes there): they are in
# Snakemake's benchmark files, gathered per lab into one table under benchmarks/timing/.
rule timing_table:
    input:
        benchmarks=lambda wildcards: list(timed_jobs(wildcards).values()),
    output:
        tsv="benchmarks/timing/{lab}.tsv",
    log:
        "logs/{lab}/timing_table.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        rows=lambda wildcards: {job: [f] for job, f in timed_jobs(wildcards).items()},
        key="job",
    script:
        "../scripts/timing_table.py"


rule plot_comparison:
    input:
        histories=comparison_histories,
        code=lib("report.plots"),
    output:
        figure=report(
            "results/{lab}/figures/compare_{comparison}.png",
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
        runs=lambda wildcards: comparisons(wildcards.lab)[wildcards.comparison],
    script:
        "../scripts/plot_comparison.py"


rule plot_curves:
    input:
        history=history_of,
        code=lib("report.plots"),
    output:
        figure=report(
            "results/{lab}/figures/{name}_curves.png",
            caption="../report/curves.rst",
            category="{lab}",
            subcategory="training curves",
            labels={"run": "{name}", "figure": "loss, cost, accuracy"},
        ),
    log:
        "logs/{lab}/plot_curves/{name}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../scripts/plot_curves.py"


rule plot_templates:
    input:
        params="results/{lab}/runs/{run}/params.npz",
        meta=batches_dir() / "batches.meta",
        code=lib("report.plots"),
    output:
        figure=report(
            "results/{lab}/figures/{run}_templates.png",
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
        hint=batches_hint(),
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
        unpack(lambda wildcards: summary_inputs()),
        intro=Path(workflow.basedir) / "workflow/report/workflow.rst",
        code=lib("report.summary", "mlp.ablation"),
    output:
        md=report(
            "results/summary.md",
            caption="../report/summary.rst",
            category="summary",
            labels={"table": "headline (markdown)"},
        ),
        front=FRONT_PAGE,
    log:
        "logs/summary.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        labs=LABS,
        titles={
            "lab1": "one-layer softmax classifier",
            "lab2": "two-layer network, cyclical learning rates, lambda search",
            "lab3": "k-layer network with batch normalisation",
            "lab4": "character-level RNN",
        },
        data={"cifar": cifar_data(), "corpus": corpus_data()},
        headline={lab: config[lab]["headline"] for lab in [*LABS, "lab4"]},
        figures={lab: key_figures(lab) for lab in [*LABS, "lab4"]},
        linkable=lambda wildcards: unique_report_names(),
        reference=config["lab4"]["reference"],
    script:
        "../scripts/summary.py"


# Targets by lab: `snakemake --cores all lab2` builds lab 2 and what it needs; `report` builds
# everything the HTML report shows (then: snakemake --report results/report.html).
for _target in [*LABS, "lab4", "report"]:

    rule:
        name:
            _target
        input:
            targets_of(_target),
        localrule: True


localrules:
    summary,
