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
        code=lib("text"),
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
        code=lib("rnn", "gradcheck", "rnn_runs", "text"),
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
        spec=config["lab4"]["gradcheck"],
    script:
        "../scripts/gradcheck.py"


rule rnn_train:
    input:
        text=corpus_file(),
        gradcheck="results/lab4/gradcheck.tsv",
        code=lib("rnn", "rnn_runs", "text"),
    output:
        model="results/lab4/model.npz",
        smooth_loss="results/lab4/smooth_loss.tsv",
        samples=report(
            "results/lab4/samples.md",
            caption="../report/rnn_samples.rst",
            category="lab4",
            subcategory="synthesized text",
            labels={
                "text": "samples during training and passages from the best model"
            },
        ),
        passage="results/lab4/passage.txt",
        metrics="results/lab4/metrics.json",
    log:
        "logs/lab4/train.log",
    benchmark:
        "benchmarks/jobs/lab4/train.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=360,
    params:
        settings=config["lab4"]["train"],
        # not an output: Snakemake must not delete it when a job is killed
        checkpoint="results/lab4/checkpoint.npz",
    script:
        "../scripts/rnn_train.py"


rule plot_smooth_loss:
    input:
        smooth_loss="results/lab4/smooth_loss.tsv",
        code=lib("plots"),
    output:
        figure=report(
            "results/lab4/figures/smooth_loss.png",
            caption="../report/smooth_loss.rst",
            category="lab4",
            subcategory="training curves",
            labels={"figure": "smooth loss"},
        ),
    log:
        "logs/lab4/plot_smooth_loss.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../scripts/plot_smooth_loss.py"


localrules:
    download_corpus,
    synthetic_corpus,
    plot_smooth_loss,
