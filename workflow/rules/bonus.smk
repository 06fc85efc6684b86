# Beyond the course, labs 1-3 (issue 10): the ablation of the bonus improvements with its
# ensembles, learning-rate range tests, the architecture grid and the CE-vs-SVM comparison.
# Their runs are ordinary runs of the lab (rule train; the plan generates their names and
# settings, dd2424.plan.mlp); these rules read what the runs saved.


rule ensemble:
    input:
        unpack(lambda w: inputs.ensemble(PLAN, w.lab, w.ensemble)),
    output:
        tsv=layout.ENSEMBLE,
        md=report(
            layout.ENSEMBLE_MD,
            caption="../report/ensemble.rst",
            category="{lab}",
            subcategory="bonus",
            labels={"table": "ensemble {ensemble}"},
        ),
    log:
        "logs/{lab}/ensemble/{ensemble}.log",
    benchmark:
        layout.JOB_ENSEMBLE
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        ensemble=lambda w: PLAN.lab(w.lab).ensembles[w.ensemble].spec,
        code=script_code("ensemble.py"),
    script:
        "../scripts/ensemble.py"


rule bonus_table:
    input:
        metrics=lambda w: inputs.bonus_metrics(PLAN, w.lab),
        ensembles=lambda w: inputs.ensemble_tables(PLAN, w.lab),
    output:
        tsv=report(
            layout.BONUS,
            caption="../report/bonus.rst",
            category="{lab}",
            subcategory="bonus",
            labels={"table": "ablation (TSV)"},
        ),
        md=report(
            layout.BONUS_MD,
            caption="../report/bonus.rst",
            category="{lab}",
            subcategory="bonus",
            labels={"table": "ablation (markdown)"},
        ),
        figure=report(
            layout.BONUS_FIGURE,
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
        rows=lambda w: PLAN.lab(w.lab).bonus_rows(),
        ensembles=lambda w: {n: e.spec for n, e in PLAN.lab(w.lab).ensembles.items()},
        reference=lambda w: PLAN.lab(w.lab).bonus["reference"],
        data=CIFAR.described(),
        code=script_code("bonus_table.py"),
    script:
        "../scripts/bonus_table.py"


# The ablation's training time, joined to results/<lab>/bonus.tsv by row name (wall times
# never go under results/).
rule bonus_timing:
    input:
        benchmarks=lambda w: inputs.bonus_timing(PLAN, w.lab),
    output:
        tsv=layout.TIMING_BONUS,
    log:
        "logs/{lab}/bonus_timing.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        rows=lambda w: inputs.bonus_timing_rows(PLAN, w.lab),
        key="row",
        code=script_code("timing_table.py"),
    script:
        "../scripts/timing_table.py"


rule range_test:
    input:
        unpack(lambda w: inputs.range_test(PLAN, w.lab, w.name)),
    output:
        history=layout.RANGE_TEST_HISTORY,
        proposal=layout.RANGE_TEST_PROPOSAL,
    log:
        "logs/{lab}/range_test/{name}.log",
    benchmark:
        layout.JOB_RANGE_TEST
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=lambda w: memory_mb(PLAN.lab(w.lab).range_tests[w.name].settings),
        runtime=60,
    params:
        settings=lambda w: PLAN.lab(w.lab).range_tests[w.name].settings,
        spec=lambda w: PLAN.lab(w.lab).range_tests[w.name].spec,
        code=script_code("range_test.py"),
    script:
        "../scripts/range_test.py"


rule plot_range_test:
    input:
        history=layout.RANGE_TEST_HISTORY,
        proposal=layout.RANGE_TEST_PROPOSAL,
    output:
        figure=report(
            layout.RANGE_TEST_FIGURE,
            caption="../report/range_test.rst",
            category="{lab}",
            subcategory="range tests",
            labels={"range test": "{name}", "figure": "loss and accuracy vs eta"},
        ),
    log:
        "logs/{lab}/plot_range_test/{name}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        code=script_code("plot_range_test.py"),
    script:
        "../scripts/plot_range_test.py"


rule range_test_table:
    input:
        proposals=lambda w: inputs.range_test_proposals(PLAN, w.lab),
    output:
        tsv=layout.RANGE_TESTS,
        md=report(
            layout.RANGE_TESTS_MD,
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
        names=lambda w: list(PLAN.lab(w.lab).range_tests),
        code=script_code("range_test_table.py"),
    script:
        "../scripts/range_test_table.py"


rule architecture_table:
    input:
        metrics=lambda w: list(
            inputs.section_metrics(PLAN, w.lab, "architecture").values()
        ),
    output:
        tsv=layout.ARCHITECTURE,
        md=report(
            layout.ARCHITECTURE_MD,
            caption="../report/architecture.rst",
            category="{lab}",
            subcategory="bonus",
            labels={"table": "architecture (depth x width)"},
        ),
        figure=report(
            layout.ARCHITECTURE_FIGURE,
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
        names=lambda w: list(inputs.section_metrics(PLAN, w.lab, "architecture")),
        data=CIFAR.described(),
        code=script_code("architecture.py"),
    script:
        "../scripts/architecture.py"


rule svm_vs_ce_table:
    input:
        metrics=lambda w: list(
            inputs.section_metrics(PLAN, w.lab, "svm_vs_ce").values()
        ),
    output:
        tsv=layout.SVM_VS_CE,
        md=report(
            layout.SVM_VS_CE_MD,
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
        names=lambda w: list(inputs.section_metrics(PLAN, w.lab, "svm_vs_ce")),
        data=CIFAR.described(),
        code=script_code("svm_vs_ce.py"),
    script:
        "../scripts/svm_vs_ce.py"


localrules:
    bonus_table,
    bonus_timing,
    plot_range_test,
    range_test_table,
    architecture_table,
    svm_vs_ce_table,
