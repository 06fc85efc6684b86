# Training: one job per named run of a lab (config: <lab>.runs, merged over <lab>.defaults).


rule train:
    input:
        split=lab_split,
        gradcheck=gradcheck_gate,
        code=TRAIN_CODE,
    output:
        params="results/{lab}/runs/{run}/params.npz",
        history="results/{lab}/runs/{run}/history.tsv",
        metrics="results/{lab}/runs/{run}/metrics.json",
    log:
        "logs/{lab}/train/{run}.log",
    benchmark:
        "benchmarks/jobs/{lab}/train/{run}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
    params:
        settings=lambda wildcards: RUN_SETTINGS[wildcards.lab][wildcards.run],
    script:
        "../scripts/train.py"
