# Lab 4: the character RNN on a text corpus (downloaded, local, or synthetic).


rule download_corpus:
    output:
        text=f"data/text/{CORPUS['name']}.txt",
    log:
        f"logs/data/download_corpus_{CORPUS['name']}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        url=CORPUS["url"],
        checksum=CORPUS["checksum"],
        local_copy=local_copy("lab4.corpus"),
        retries=CORPUS["retries"],
        key="lab4.corpus",
        check=None,
        content_hint="",
    script:
        "../scripts/download.py"


rule synthetic_corpus:
    input:
        code=lib("data.text"),
    output:
        text="data/text/synthetic.txt",
    log:
        "logs/data/synthetic_corpus.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        settings=CORPUS["synthetic"],
    script:
        "../scripts/synthetic_corpus.py"


rule rnn_gradcheck:
    input:
        text=corpus_file(),
        code=lib("rnn.network", "gradcheck", "rnn.runs", "data.text"),
    output:
        table=report(
            "results/lab4/gradcheck.tsv",
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
        spec=LAB4["gradcheck"],
    script:
        "../scripts/gradcheck.py"


rule rnn_train:
    input:
        text=corpus_file(),
        gradcheck="results/lab4/gradcheck.tsv",
        code=RNN_CODE,
    output:
        model="results/lab4/runs/{run}/model.npz",
        smooth_loss="results/lab4/runs/{run}/smooth_loss.tsv",
        validation="results/lab4/runs/{run}/validation.tsv",
        samples=report(
            "results/lab4/runs/{run}/training_samples.md",
            caption="../report/rnn_training_samples.rst",
            category="lab4",
            subcategory="synthesized text",
            labels={"run": "{run}", "text": "samples during training"},
        ),
        metrics="results/lab4/runs/{run}/metrics.json",
        # wall-clock record (validation loss against training seconds): not a result
        timing="benchmarks/timing/lab4/runs/{run}.tsv",
    log:
        "logs/lab4/train/{run}.log",
    benchmark:
        "benchmarks/jobs/lab4/train/{run}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=360,
    params:
        settings=lambda wildcards: RNN_RUNS[wildcards.run],
        where=lambda wildcards: f"lab4.runs.{wildcards.run}",
        # not an output: Snakemake must not delete it when a job is killed
        checkpoint=lambda wildcards: f"{rnn_run_dir(wildcards.run)}/checkpoint.npz",
    script:
        "../scripts/rnn_train.py"


rule rnn_sample:
    input:
        model="results/lab4/runs/{run}/model.npz",
        metrics="results/lab4/runs/{run}/metrics.json",
        code=lib("rnn.sampling", "rnn.runs", "rnn.network", "data.text"),
    output:
        passage="results/lab4/runs/{run}/passage.txt",
        samples=report(
            "results/lab4/runs/{run}/samples.md",
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
        spec=LAB4["passages"],
    script:
        "../scripts/rnn_sample.py"


rule plot_smooth_loss:
    input:
        smooth_loss="results/lab4/runs/{run}/smooth_loss.tsv",
        code=lib("report.plots"),
    output:
        figure=report(
            "results/lab4/figures/{run}_smooth_loss.png",
            caption="../report/smooth_loss.rst",
            category="lab4",
            subcategory="training curves",
            labels={"run": "{run}", "figure": "smooth loss"},
        ),
    log:
        "logs/lab4/plot_smooth_loss/{run}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../scripts/plot_smooth_loss.py"


rule rnn_compare:
    input:
        metrics=rnn_comparison_inputs("metrics"),
        curves=rnn_comparison_inputs("curves"),
        code=lib("report.plots"),
    output:
        tsv=report(
            "results/lab4/comparison_{comparison}.tsv",
            caption="../report/rnn_comparison.rst",
            category="lab4",
            subcategory="comparisons",
            labels={"table": "{comparison} (TSV)"},
        ),
        md="results/lab4/comparison_{comparison}.md",
        figure=report(
            "results/lab4/figures/comparison_{comparison}.png",
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
        runs=lambda wildcards: LAB4["comparisons"][wildcards.comparison],
    script:
        "../scripts/rnn_compare.py"


rule rnn_compare_timing:
    input:
        metrics=rnn_comparison_inputs("metrics"),
        timing=rnn_comparison_inputs("timing"),
        benchmarks=rnn_comparison_inputs("benchmarks"),
        code=lib("report.plots"),
    output:
        tsv="benchmarks/timing/lab4/comparison_{comparison}.tsv",
        md="benchmarks/timing/lab4/comparison_{comparison}.md",
        figure="benchmarks/timing/lab4/comparison_{comparison}_seconds.png",
    log:
        "logs/lab4/compare_timing/{comparison}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        runs=lambda wildcards: LAB4["comparisons"][wildcards.comparison],
    script:
        "../scripts/rnn_compare.py"


rule rnn_sampling:
    input:
        model=lambda wildcards: f"{rnn_run_dir(LAB4['sampling']['run'])}/model.npz",
        text=corpus_file(),
        code=lib("rnn.sampling", "rnn.runs", "rnn.network", "data.text", "report.plots"),
    output:
        tsv=report(
            "results/lab4/sampling.tsv",
            caption="../report/rnn_sampling.rst",
            category="lab4",
            subcategory="sampling",
            labels={"table": "sampling comparison (TSV)"},
        ),
        md="results/lab4/sampling.md",
        figure=report(
            "results/lab4/figures/sampling.png",
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
        spec=LAB4.get("sampling", {}),
    script:
        "../scripts/rnn_sampling.py"


localrules:
    download_corpus,
    synthetic_corpus,
    rnn_sample,
    plot_smooth_loss,
    rnn_compare,
    rnn_compare_timing,
