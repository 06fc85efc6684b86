# Data: fetch (or synthesise) CIFAR-10 in its python format, then preprocess the splits.


rule download_cifar10:
    output:
        archive=layout.CIFAR_ARCHIVE,
    log:
        "logs/data/download_cifar10.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        url=CIFAR.cifar10["url"],
        checksum=CIFAR.cifar10["checksum"],
        local_copy=CIFAR.local_copy,
        retries=CIFAR.cifar10["retries"],
        key="data.cifar10",
        check="cifar10_archive",
        content_hint=(
            "data.cifar10.local_copy must be the cifar-10-python.tar.gz archive (and "
            "data.cifar10.checksum its checksum)."
        ),
        code=script_code("download.py"),
    script:
        "../scripts/download.py"


rule extract_cifar10:
    input:
        archive=rules.download_cifar10.output.archive,
    output:
        batches=expand(layout.BATCHES, source="cifar10", name=CIFAR_FILES),
        sizes=layout.BATCH_SIZES,
    log:
        "logs/data/extract_cifar10.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        names=CIFAR_FILES,
        checksum=CIFAR.cifar10["checksum"],
        hint=CIFAR.hint(),
        code=script_code("extract.py"),
    script:
        "../scripts/extract.py"


rule synthetic_cifar10:
    output:
        batches=expand(layout.BATCHES, source="synthetic", name=CIFAR_FILES),
    log:
        "logs/data/synthetic_cifar10.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        settings=CIFAR.synthetic,
        code=script_code("synthetic.py"),
    script:
        "../scripts/synthetic.py"


rule preprocess:
    input:
        unpack(lambda w: CIFAR.split_batches(w.split)),
    output:
        split=layout.path(layout.SPLIT, source=CIFAR.source),
        digest=layout.path(layout.SPLIT_DIGEST, source=CIFAR.source),
    log:
        f"logs/data/{CIFAR.source}/preprocess_{{split}}.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        split=lambda w: CIFAR.split(w.split),
        hint=CIFAR.hint(),
        code=script_code("preprocess.py"),
    script:
        "../scripts/preprocess.py"
