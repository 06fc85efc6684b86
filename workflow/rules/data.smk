# Data: fetch (or synthesise) CIFAR-10 in its python format, then preprocess the splits.


rule download_cifar10:
    output:
        archive="data/cifar10/cifar-10-python.tar.gz",
    log:
        "logs/data/download_cifar10.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        url=config["data"]["cifar10"]["url"],
        checksum=config["data"]["cifar10"]["checksum"],
        local_copy=local_copy("data.cifar10"),
        retries=config["data"]["cifar10"]["retries"],
        key="data.cifar10",
        check="cifar10_archive",
        content_hint=(
            "data.cifar10.local_copy must be the cifar-10-python.tar.gz archive (and "
            "data.cifar10.checksum its checksum)."
        ),
    script:
        "../scripts/download.py"


rule extract_cifar10:
    input:
        archive=rules.download_cifar10.output.archive,
    output:
        batches=expand("data/cifar10/{dir}/{name}", dir=BATCH_DIR, name=CIFAR_FILES),
    log:
        "logs/data/extract_cifar10.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        names=CIFAR_FILES,
        hint=batches_hint(),
    script:
        "../scripts/extract.py"


rule synthetic_cifar10:
    input:
        code=lib(
            "data.cifar",
            "data.synthetic",
            "data.archive",
            "data.splits",
            "data.augment",
        ),
    output:
        batches=expand("data/synthetic/{dir}/{name}", dir=BATCH_DIR, name=CIFAR_FILES),
    log:
        "logs/data/synthetic_cifar10.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        settings=config["data"]["synthetic"],
    script:
        "../scripts/synthetic.py"


rule preprocess:
    input:
        unpack(split_inputs),
        code=lib("data.cifar", "data.synthetic", "data.archive", "data.splits"),
    output:
        split=f"data/{DATA_SOURCE}/processed/{{split}}.npz",
    log:
        f"logs/data/{DATA_SOURCE}/preprocess_{{split}}.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        split=lambda wildcards: split_config(wildcards.split),
        hint=batches_hint(),
    script:
        "../scripts/preprocess.py"
