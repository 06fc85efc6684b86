# Lab 4: the character RNN on a text corpus (downloaded, local, or synthetic).


rule download_corpus:
    output:
        text=PLAN.corpus.download_file,
    log:
        f"logs/data/download_corpus_{PLAN.corpus.name}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        url=PLAN.corpus.url,
        checksum=PLAN.corpus.checksum,
        local_copy=PLAN.corpus.local_copy,
        retries=PLAN.corpus.retries,
        key="lab4.corpus",
        check=None,
        content_hint="",
        code=script_code("download.py"),
    script:
        "../scripts/download.py"


rule synthetic_corpus:
    output:
        text=layout.path(layout.CORPUS, corpus="synthetic"),
    log:
        "logs/data/synthetic_corpus.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        settings=PLAN.corpus.synthetic,
        code=script_code("synthetic_corpus.py"),
    script:
        "../scripts/synthetic_corpus.py"


rule rnn_gradcheck:
    input:
        text=PLAN.corpus.file,
    output:
        table=report(
            layout.RNN_GRADCHECK,
            caption="../report/gradcheck.rst",
            category="lab4",
            subcategory="gradient check",
            labels={"table": "gradient check"},
        ),
    log:
        "logs/lab4/gradcheck.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        spec=LAB4.gradcheck,
        code=script_code("gradcheck.py"),
    script:
        "../scripts/gradcheck.py"


rule rnn_train:
    input:
        text=PLAN.corpus.file,
        gradcheck=layout.RNN_GRADCHECK,
    output:
        model=layout.RNN_MODEL,
        smooth_loss=layout.RNN_SMOOTH_LOSS,
        validation=layout.RNN_VALIDATION,
        samples=report(
            layout.RNN_TRAINING_SAMPLES,
            caption="../report/rnn_training_samples.rst",
            category="lab4",
            subcategory="synthesized text",
            labels={"run": "{run}", "text": "samples during training"},
        ),
        metrics=layout.RNN_METRICS,
        # wall-clock record (validation loss against training seconds): not a result
        timing=layout.RNN_TIMING,
    log:
        "logs/lab4/train/{run}.log",
    benchmark:
        layout.JOB_RNN_TRAIN
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=360,
    params:
        settings=lambda w: LAB4.runs[w.run].settings,
        where=lambda w: LAB4.runs[w.run].source,
        # not an output: Snakemake must not delete it when a job is killed
        checkpoint=lambda w: LAB4.runs[w.run].file(layout.RNN_CHECKPOINT),
        code=script_code("rnn_train.py"),
    script:
        "../scripts/rnn_train.py"


rule rnn_sample:
    input:
        model=layout.RNN_MODEL,
        metrics=layout.RNN_METRICS,
    output:
        passage=layout.RNN_PASSAGE,
        samples=report(
            layout.RNN_SAMPLES,
            caption="../report/rnn_samples.rst",
            category="lab4",
            subcategory="synthesized text",
            labels={"run": "{run}", "text": "passages from the best model"},
        ),
    log:
        "logs/lab4/sample/{run}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spec=LAB4.passages,
        code=script_code("rnn_sample.py"),
    script:
        "../scripts/rnn_sample.py"


rule plot_smooth_loss:
    input:
        smooth_loss=layout.RNN_SMOOTH_LOSS,
    output:
        figure=report(
            layout.RNN_SMOOTH_LOSS_FIGURE,
            caption="../report/smooth_loss.rst",
            category="lab4",
            subcategory="training curves",
            labels={"run": "{run}", "figure": "smooth loss"},
        ),
    log:
        "logs/lab4/plot_smooth_loss/{run}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        code=script_code("plot_smooth_loss.py"),
    script:
        "../scripts/plot_smooth_loss.py"


rule rnn_compare:
    input:
        metrics=lambda w: inputs.rnn_comparison(PLAN, w.comparison, "metrics"),
        curves=lambda w: inputs.rnn_comparison(PLAN, w.comparison, "curves"),
        training=lambda w: inputs.rnn_comparison(PLAN, w.comparison, "training"),
    output:
        tsv=report(
            layout.RNN_COMPARISON,
            caption="../report/rnn_comparison.rst",
            category="lab4",
            subcategory="comparisons",
            labels={"table": "{comparison} (TSV)"},
        ),
        md=layout.RNN_COMPARISON_MD,
        figure=report(
            layout.RNN_COMPARISON_FIGURE,
            caption="../report/rnn_comparison.rst",
            category="lab4",
            subcategory="comparisons",
            labels={"figure": "{comparison}: validation loss vs characters seen"},
        ),
    log:
        "logs/lab4/compare/{comparison}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        runs=lambda w: LAB4.comparisons[w.comparison],
        code=script_code("rnn_compare.py"),
    script:
        "../scripts/rnn_compare.py"


rule rnn_compare_timing:
    input:
        metrics=lambda w: inputs.rnn_comparison(PLAN, w.comparison, "metrics"),
        timing=lambda w: inputs.rnn_comparison(PLAN, w.comparison, "timing"),
        benchmarks=lambda w: inputs.rnn_comparison(PLAN, w.comparison, "benchmarks"),
    output:
        tsv=layout.RNN_COMPARISON_TIMING,
        md=layout.RNN_COMPARISON_TIMING_MD,
        figure=layout.RNN_COMPARISON_TIMING_FIGURE,
    log:
        "logs/lab4/compare_timing/{comparison}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        runs=lambda w: LAB4.comparisons[w.comparison],
        code=script_code("rnn_compare.py"),
    script:
        "../scripts/rnn_compare.py"


rule rnn_sampling:
    input:
        model=lambda w: inputs.rnn_sampling_model(PLAN),
        text=PLAN.corpus.file,
    output:
        tsv=report(
            layout.RNN_SAMPLING,
            caption="../report/rnn_sampling.rst",
            category="lab4",
            subcategory="sampling",
            labels={"table": "sampling comparison (TSV)"},
        ),
        md=layout.RNN_SAMPLING_MD,
        figure=report(
            layout.RNN_SAMPLING_FIGURE,
            caption="../report/rnn_sampling.rst",
            category="lab4",
            subcategory="sampling",
            labels={"figure": "sampling comparison"},
        ),
    log:
        "logs/lab4/sampling.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=20,
    params:
        spec=LAB4.sampling or {},
        code=script_code("rnn_sampling.py"),
    script:
        "../scripts/rnn_sampling.py"


# A random search over run settings (lab4.searches.<search>): a seeded grid of trials -> one
# training job per trial at the search's character budget -> the trials ranked by their best
# validation loss per character (ties: the smoothed training loss per character).


rule rnn_search_grid:
    output:
        grid=layout.RNN_SEARCH_GRID,
    log:
        "logs/lab4/search/{search}/random_grid.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spec=lambda w: LAB4.searches[w.search].spec,
        where=lambda w: LAB4.searches[w.search].key,
        code=script_code("search_grid.py"),
    script:
        "../scripts/search_grid.py"


rule rnn_search_trial:
    input:
        text=PLAN.corpus.file,
        gradcheck=layout.RNN_GRADCHECK,
        grid=layout.RNN_SEARCH_GRID,
    output:
        metrics=layout.RNN_TRIAL_METRICS,
        validation=layout.RNN_TRIAL_VALIDATION,
        smooth_loss=layout.RNN_TRIAL_SMOOTH_LOSS,
    log:
        "logs/lab4/search/{search}/{trial}.log",
    benchmark:
        layout.JOB_RNN_TRIAL
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        settings=lambda w: LAB4.searches[w.search].settings,
        parameters=lambda w: LAB4.searches[w.search].parameters,
        row=lambda w: int(w.trial),
        where=lambda w: f"{LAB4.searches[w.search].key} (trial {w.trial})",
        code=script_code("rnn_search_trial.py"),
    script:
        "../scripts/rnn_search_trial.py"


rule rnn_search_rank:
    input:
        metrics=lambda w: inputs.rnn_search_metrics(PLAN, w.search),
    output:
        ranked=report(
            layout.RNN_SEARCH_RANKED,
            caption="../report/search_ranked.rst",
            category="lab4",
            subcategory="{search} search",
            labels={"table": "all trials, ranked"},
        ),
        ranked_md=layout.RNN_SEARCH_RANKED_MD,
        best=report(
            layout.RNN_SEARCH_BEST,
            caption="../report/search_best.rst",
            category="lab4",
            subcategory="{search} search",
            labels={"table": "3 best trials"},
        ),
    log:
        "logs/lab4/search/{search}/rank.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spec=lambda w: LAB4.searches[w.search].spec,
        where=lambda w: LAB4.searches[w.search].key,
        code=script_code("rnn_search_rank.py"),
    script:
        "../scripts/rnn_search_rank.py"


localrules:
    rnn_search_grid,
    rnn_search_rank,
    download_corpus,
    synthetic_corpus,
    rnn_sample,
    plot_smooth_loss,
    rnn_compare,
    rnn_compare_timing,
