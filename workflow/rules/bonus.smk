# Beyond the course, labs 1-3 (issue 10): the ablation of the bonus improvements with its
# ensembles, learning-rate range tests, the architecture grid and the CE-vs-SVM comparison.
# Their runs are ordinary runs of the lab (rule train; the names come from common.smk's
# generated runs); these rules read what the runs saved.


rule ensemble:
    input:
        unpack(ensemble_inputs),
    output:
        tsv="results/{lab}/ensembles/{ensemble}.tsv",
        md=report(
            "results/{lab}/ensembles/{ensemble}.md",
            caption="../report/ensemble.rst",
            category="{lab}",
            subcategory="bonus",
            labels={"table": "ensemble {ensemble}"},
        ),
    log:
        "logs/{lab}/ensemble/{ensemble}.log",
    benchmark:
        "benchmarks/jobs/{lab}/ensemble/{ensemble}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        ensemble=lambda wildcards: ENSEMBLES[wildcards.lab][wildcards.ensemble],
    script:
        "../scripts/ensemble.py"


rule bonus_table:
    input:
        metrics=lambda wildcards: [
            f"results/{wildcards.lab}/runs/{run}/metrics.json"
            for _, run, _ in bonus_rows(wildcards.lab)
        ],
        ensembles=lambda wildcards: [
            f"results/{wildcards.lab}/ensembles/{name}.tsv"
            for name in ENSEMBLES[wildcards.lab]
        ],
        code=lib("mlp.ablation", "report.plots"),
    output:
        tsv=report(
            "results/{lab}/bonus.tsv",
            caption="../report/bonus.rst",
            category="{lab}",
            subcategory="bonus",
            labels={"table": "ablation (TSV)"},
        ),
        md=report(
            "results/{lab}/bonus.md",
            caption="../report/bonus.rst",
            category="{lab}",
            subcategory="bonus",
            labels={"table": "ablation (markdown)"},
        ),
        figure=report(
            "results/{lab}/figures/bonus.png",
            caption="../report/bonus.rst",
            category="{lab}",
            subcategory="bonus",
            labels={"figure": "ablation: gain over the baseline"},
        ),
    log:
        "logs/{lab}/bonus_table.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        rows=lambda wildcards: bonus_rows(wildcards.lab),
        ensembles=lambda wildcards: ENSEMBLES[wildcards.lab],
        reference=lambda wildcards: bonus_spec(wildcards.lab)["reference"],
        data=cifar_data(),
    script:
        "../scripts/bonus_table.py"


# The ablation's training time, joined to results/<lab>/bonus.tsv by row name (wall times
# never go under results/).
rule bonus_timing:
    input:
        benchmarks=lambda wildcards: sorted(
            {f for files in bonus_timing_rows(wildcards.lab).values() for f in files}
        ),
    output:
        tsv="benchmarks/timing/{lab}_bonus.tsv",
    log:
        "logs/{lab}/bonus_timing.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        rows=lambda wildcards: bonus_timing_rows(wildcards.lab),
        key="row",
    script:
        "../scripts/timing_table.py"


rule range_test:
    input:
        split=range_test_split,
        gradcheck=gradcheck_gate,
        code=TRAIN_CODE + lib("mlp.range_test"),
    output:
        history="results/{lab}/range_tests/{name}/history.tsv",
        proposal="results/{lab}/range_tests/{name}/proposal.json",
    log:
        "logs/{lab}/range_test/{name}.log",
    benchmark:
        "benchmarks/jobs/{lab}/range_test/{name}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
    params:
        settings=lambda wildcards: RANGE_TESTS[wildcards.lab][wildcards.name],
        spec=lambda wildcards: config[wildcards.lab]["range_tests"][wildcards.name],
    script:
        "../scripts/range_test.py"


rule plot_range_test:
    input:
        history="results/{lab}/range_tests/{name}/history.tsv",
        proposal="results/{lab}/range_tests/{name}/proposal.json",
        code=lib("report.plots", "mlp.range_test"),
    output:
        figure=report(
            "results/{lab}/figures/range_test_{name}.png",
            caption="../report/range_test.rst",
            category="{lab}",
            subcategory="range tests",
            labels={"range test": "{name}", "figure": "loss and accuracy vs eta"},
        ),
    log:
        "logs/{lab}/plot_range_test/{name}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../scripts/plot_range_test.py"


rule range_test_table:
    input:
        proposals=lambda wildcards: [
            f"{range_test_dir(wildcards.lab, name)}/proposal.json"
            for name in RANGE_TESTS[wildcards.lab]
        ],
    output:
        tsv="results/{lab}/range_tests.tsv",
        md=report(
            "results/{lab}/range_tests.md",
            caption="../report/range_test.rst",
            category="{lab}",
            subcategory="range tests",
            labels={"range test": "all", "figure": "proposed bounds (table)"},
        ),
    log:
        "logs/{lab}/range_test_table.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        names=lambda wildcards: list(RANGE_TESTS[wildcards.lab]),
    script:
        "../scripts/range_test_table.py"


rule architecture_table:
    input:
        metrics=lambda wildcards: list(
            generated_metrics(wildcards.lab, "architecture").values()
        ),
        code=lib("mlp.ablation", "report.plots"),
    output:
        tsv="results/{lab}/architecture.tsv",
        md=report(
            "results/{lab}/architecture.md",
            caption="../report/architecture.rst",
            category="{lab}",
            subcategory="bonus",
            labels={"table": "architecture (depth x width)"},
        ),
        figure=report(
            "results/{lab}/figures/architecture.png",
            caption="../report/architecture.rst",
            category="{lab}",
            subcategory="bonus",
            labels={"figure": "test accuracy vs depth"},
        ),
    log:
        "logs/{lab}/architecture_table.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        names=lambda wildcards: list(generated_metrics(wildcards.lab, "architecture")),
        data=cifar_data(),
    script:
        "../scripts/architecture.py"


rule svm_vs_ce_table:
    input:
        metrics=lambda wildcards: list(
            generated_metrics(wildcards.lab, "svm_vs_ce").values()
        ),
        code=lib("mlp.ablation"),
    output:
        tsv="results/{lab}/svm_vs_ce.tsv",
        md=report(
            "results/{lab}/svm_vs_ce.md",
            caption="../report/svm_vs_ce.rst",
            category="{lab}",
            subcategory="bonus",
            labels={"table": "SVM vs cross-entropy"},
        ),
    log:
        "logs/{lab}/svm_vs_ce_table.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        names=lambda wildcards: list(generated_metrics(wildcards.lab, "svm_vs_ce")),
        data=cifar_data(),
    script:
        "../scripts/svm_vs_ce.py"


localrules:
    bonus_table,
    bonus_timing,
    plot_range_test,
    range_test_table,
    architecture_table,
    svm_vs_ce_table,
