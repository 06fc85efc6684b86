# Coarse-to-fine search over one run setting: coarse grid from config -> coarse trials ->
# fine grid drawn around the best coarse trials -> fine trials -> ranking -> final run with
# the best value.  A random search over several settings has one stage, `random`: a seeded
# grid of N trials -> trials -> ranking -> final run.  The number of trials is fixed by
# config, so the DAG is static.


rule search_coarse_grid:
    output:
        grid=layout.path(layout.SEARCH_GRID, stage="coarse"),
    log:
        "logs/{lab}/search/{search}/coarse_grid.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spec=lambda w: PLAN.search(w.lab, w.search).spec,
        code=script_code("search_grid.py"),
    script:
        "../scripts/search_grid.py"


rule search_random_grid:
    output:
        grid=layout.path(layout.SEARCH_GRID, stage="random"),
    log:
        "logs/{lab}/search/{search}/random_grid.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spec=lambda w: PLAN.search(w.lab, w.search).spec,
        where=lambda w: PLAN.search(w.lab, w.search).key,
        code=script_code("search_grid.py"),
    script:
        "../scripts/search_grid.py"


rule search_fine_grid:
    input:
        grid=layout.path(layout.SEARCH_GRID, stage="coarse"),
        metrics=lambda w: inputs.stage_metrics(PLAN, w.lab, w.search, "coarse"),
    output:
        grid=layout.path(layout.SEARCH_GRID, stage="fine"),
    log:
        "logs/{lab}/search/{search}/fine_grid.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spec=lambda w: PLAN.search(w.lab, w.search).spec,
        where=lambda w: PLAN.search(w.lab, w.search).key,
        code=script_code("search_grid.py"),
    script:
        "../scripts/search_grid.py"


rule search_trial:
    input:
        unpack(lambda w: inputs.search_trial(PLAN, w.lab, w.search, w.stage)),
    output:
        params=layout.TRIAL_PARAMS,
        history=layout.TRIAL_HISTORY,
        metrics=layout.TRIAL_METRICS,
    log:
        "logs/{lab}/search/{search}/{stage}/{trial}.log",
    benchmark:
        layout.JOB_TRIAL
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=lambda w: PLAN.search(w.lab, w.search).memory_mb,
        runtime=30,
    params:
        settings=lambda w: PLAN.search(w.lab, w.search).trial_settings,
        parameters=lambda w: PLAN.search(w.lab, w.search).parameters,
        row=lambda w: int(w.trial),
        code=script_code("train.py"),
    script:
        "../scripts/train.py"


rule search_rank:
    input:
        unpack(lambda w: inputs.search_rank(PLAN, w.lab, w.search)),
    output:
        ranked=report(
            layout.SEARCH_RANKED,
            caption="../report/search_ranked.rst",
            category="{lab}",
            subcategory="{search} search",
            labels={"table": "all trials, ranked"},
        ),
        ranked_md=layout.SEARCH_RANKED_MD,
        best=report(
            layout.SEARCH_BEST,
            caption="../report/search_best.rst",
            category="{lab}",
            subcategory="{search} search",
            labels={"table": "3 best per stage"},
        ),
        figure=report(
            layout.SEARCH_FIGURE,
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
        spec=lambda w: PLAN.search(w.lab, w.search).spec,
        stages=lambda w: PLAN.search(w.lab, w.search).stages,
        title=lambda w: f"{w.lab}: {w.search} search",
        where=lambda w: PLAN.search(w.lab, w.search).key,
        code=script_code("search_rank.py"),
    script:
        "../scripts/search_rank.py"


rule search_final:
    input:
        unpack(lambda w: inputs.search_final(PLAN, w.lab, w.search)),
    output:
        params=layout.FINAL_PARAMS,
        history=layout.FINAL_HISTORY,
        metrics=layout.FINAL_METRICS,
    log:
        "logs/{lab}/search/{search}/final.log",
    benchmark:
        layout.JOB_FINAL
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=lambda w: PLAN.search(w.lab, w.search).memory_mb,
        runtime=120,
    params:
        settings=lambda w: PLAN.search(w.lab, w.search).final_settings,
        parameters=lambda w: PLAN.search(w.lab, w.search).parameters,
        row=0,  # the ranked table's best trial
        code=script_code("train.py"),
    script:
        "../scripts/train.py"


localrules:
    search_coarse_grid,
    search_random_grid,
    search_fine_grid,
    search_rank,
