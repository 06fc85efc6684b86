# Gradient checks: analytic vs centred-difference gradients; the rule fails if one fails.


rule gradcheck:
    input:
        split=lambda w: PLAN.split_file(PLAN.lab(w.lab).split),
    output:
        table=report(
            layout.GRADCHECK,
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
        spec=lambda w: PLAN.lab(w.lab).gradcheck,
        code=script_code("gradcheck.py"),
    script:
        "../scripts/gradcheck.py"
