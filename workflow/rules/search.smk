# Coarse-to-fine search over one run setting: coarse grid from config -> coarse trials ->
# fine grid drawn around the best coarse trials -> fine trials -> ranking -> final run with
# the best value.  A random search over several settings has one stage, `random`: a seeded
# grid of N trials -> trials -> ranking -> final run.  The number of trials is fixed by
# config, so the DAG is static.


rule search_coarse_grid:
    input:
        code=lib("search"),
    output:
        grid="results/{lab}/search/{search}/coarse_grid.tsv",
    log:
        "logs/{lab}/search/{search}/coarse_grid.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spec=lambda wildcards: searches(wildcards.lab)[wildcards.search],
    script:
        "../scripts/search_grid.py"


rule search_random_grid:
    input:
        code=lib("search"),
    output:
        grid="results/{lab}/search/{search}/random_grid.tsv",
    log:
        "logs/{lab}/search/{search}/random_grid.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spec=lambda wildcards: searches(wildcards.lab)[wildcards.search],
        where=search_key,
    script:
        "../scripts/search_grid.py"


rule search_fine_grid:
    input:
        grid="results/{lab}/search/{search}/coarse_grid.tsv",
        metrics=lambda wildcards: stage_metrics(wildcards, "coarse"),
        code=lib("search"),
    output:
        grid="results/{lab}/search/{search}/fine_grid.tsv",
    log:
        "logs/{lab}/search/{search}/fine_grid.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spec=lambda wildcards: searches(wildcards.lab)[wildcards.search],
        where=search_key,
    script:
        "../scripts/search_grid.py"


rule search_trial:
    input:
        unpack(search_trial_inputs),
    output:
        params="results/{lab}/search/{search}/{stage}/{trial}/params.npz",
        history="results/{lab}/search/{search}/{stage}/{trial}/history.tsv",
        metrics="results/{lab}/search/{search}/{stage}/{trial}/metrics.json",
    log:
        "logs/{lab}/search/{search}/{stage}/{trial}.log",
    benchmark:
        "benchmarks/jobs/{lab}/search/{search}/{stage}/{trial}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
    params:
        settings=lambda wildcards: search_settings(wildcards.lab, wildcards.search),
        parameters=lambda wildcards: search_parameters(wildcards.lab, wildcards.search),
        row=lambda wildcards: int(wildcards.trial),
    script:
        "../scripts/train.py"


rule search_rank:
    input:
        unpack(search_rank_inputs),
        code=lib("search", "report.plots"),
    output:
        ranked=report(
            "results/{lab}/search/{search}/ranked.tsv",
            caption="../report/search_ranked.rst",
            category="{lab}",
            subcategory="{search} search",
            labels={"table": "all trials, ranked"},
        ),
        ranked_md="results/{lab}/search/{search}/ranked.md",
        best=report(
            "results/{lab}/search/{search}/best.md",
            caption="../report/search_best.rst",
            category="{lab}",
            subcategory="{search} search",
            labels={"table": "3 best per stage"},
        ),
        figure=report(
            "results/{lab}/search/{search}/search.png",
            caption="../report/search_figure.rst",
            category="{lab}",
            subcategory="{search} search",
            labels={"figure": "validation accuracy vs searched value"},
        ),
    log:
        "logs/{lab}/search/{search}/rank.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spec=lambda wildcards: searches(wildcards.lab)[wildcards.search],
        stages=lambda wildcards: search_stages(wildcards.lab, wildcards.search),
        title=lambda wildcards: f"{wildcards.lab}: {wildcards.search} search",
        where=search_key,
    script:
        "../scripts/search_rank.py"


rule search_final:
    input:
        unpack(search_final_inputs),
    output:
        params="results/{lab}/search/{search}/final/params.npz",
        history="results/{lab}/search/{search}/final/history.tsv",
        metrics="results/{lab}/search/{search}/final/metrics.json",
    log:
        "logs/{lab}/search/{search}/final.log",
    benchmark:
        "benchmarks/jobs/{lab}/search/{search}/final.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
    params:
        settings=lambda wildcards: search_settings(
            wildcards.lab, wildcards.search, final=True
        ),
        parameters=lambda wildcards: search_parameters(wildcards.lab, wildcards.search),
        row=0,  # the ranked table's best trial
    script:
        "../scripts/train.py"


localrules:
    search_coarse_grid,
    search_random_grid,
    search_fine_grid,
    search_rank,
