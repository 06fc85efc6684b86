# Training: one job per run of a lab (config: <lab>.runs, merged over <lab>.defaults, and the
# runs the bonus sections generate).  Its inputs: the run's split, the gradient check and, if
# its cyclic bounds come from a range test, that test's proposal.


rule train:
    input:
        unpack(lambda w: inputs.train(PLAN, w.lab, w.run)),
    output:
        params=layout.RUN_PARAMS,
        history=layout.RUN_HISTORY,
        metrics=layout.RUN_METRICS,
    log:
        "logs/{lab}/train/{run}.log",
    benchmark:
        layout.JOB_TRAIN
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=lambda w: memory_mb(PLAN.run(w.lab, w.run).settings),
        runtime=60,
    params:
        settings=lambda w: PLAN.run(w.lab, w.run).settings,
        code=script_code("train.py"),
    script:
        "../scripts/train.py"
