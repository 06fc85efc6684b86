# Training: one job per run of a lab (config: <lab>.runs, merged over <lab>.defaults, and the
# runs the bonus sections generate).  Its inputs: the run's split, the gradient check, the
# library and, if its cyclic bounds come from a range test, that test's proposal.


rule train:
    input:
        unpack(train_inputs),
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
