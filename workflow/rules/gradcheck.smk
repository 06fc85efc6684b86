# Gradient checks: analytic vs centred-difference gradients; the rule fails if one fails.


rule gradcheck:
    input:
        split=lab_split,
        code=lib(
            "mlp.network",
            "mlp.losses",
            "activations",
            "gradcheck",
            "mlp.runs",
            "nested",
        ),
    output:
        table=report(
            "results/{lab}/gradcheck.tsv",
            caption="../report/gradcheck.rst",
            category="{lab}",
            subcategory="gradient check",
            labels={"table": "gradient check"},
        ),
    log:
        "logs/{lab}/gradcheck.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        spec=lambda wildcards: config[wildcards.lab]["gradcheck"],
    script:
        "../scripts/gradcheck.py"
