# Tables and figures of the report.


rule test_accuracy_table:
    input:
        metrics=lab_results,
        benchmarks=lab_benchmarks,
    output:
        tsv=report(
            "results/{lab}/test_accuracy.tsv",
            caption="../report/test_accuracy.rst",
            category="{lab}",
            subcategory="results",
            labels={"table": "test accuracy (TSV)"},
        ),
        md=report(
            "results/{lab}/test_accuracy.md",
            caption="../report/test_accuracy.rst",
            category="{lab}",
            subcategory="results",
            labels={"table": "test accuracy (markdown)"},
        ),
    log:
        "logs/{lab}/test_accuracy_table.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        runs=lab_result_names,
    script:
        "../scripts/collect.py"


rule plot_curves:
    input:
        history=history_of,
        code=lib("plots"),
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
        code=lib("plots"),
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
    script:
        "../scripts/plot_templates.py"


localrules:
    all,
    download_cifar10,
    extract_cifar10,
    test_accuracy_table,
    plot_curves,
    plot_templates,
