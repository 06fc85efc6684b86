"""The data the config plans: the CIFAR source and its splits (sizes known before any job runs
where possible), what the numbers are measured on, the text corpus of lab 4, and the local
copies that replace downloads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dd2424.data.cifar import BATCH_DIR, TEST_BATCH
from dd2424.data.splits import Split
from dd2424.nested import get_path

from . import layout
from .errors import ConfigError

OFFICIAL_CIFAR10_MD5 = "md5:c58f30108f718f92721af3b95e74349a"


def local_copy(config: dict, section: str, start_dir: Path | None, workdir: Path) -> str:
    """``<section>.local_copy`` as an absolute path ("" if unset): a relative path is taken
    from the directory Snakemake was started from (``start_dir``, None if unknown), not from
    its working directory."""
    value = get_path(config, section)["local_copy"]
    if not value:
        return ""
    path = Path(value).expanduser()
    if not path.is_absolute():
        if start_dir is None:
            raise ConfigError(
                f"config {section}.local_copy: {value!r} is a relative path, but Snakemake "
                f"runs in --directory {workdir} and the directory it was started from is "
                "unknown (no PWD): give an absolute path"
            )
        path = Path(start_dir) / path
    return str(path)


def described(name: str, description: str, comparable=False, reference="CIFAR-10") -> dict:
    """What a lab's numbers are measured on (``name`` for tables, ``description`` for notes),
    whether the course's numbers (for ``reference``) are comparable with them."""
    return {
        "name": name,
        "description": description,
        "comparable": comparable,
        "reference": reference,
    }


@dataclass(frozen=True)
class Cifar:
    """Where labs 1-3's images come from, and the splits of their batches."""

    source: str  # "cifar10" (the archive) or "synthetic"
    cifar10: dict
    synthetic: dict
    splits: dict
    local_copy: str  # the archive's absolute path, "" to download
    extracted: dict  # {batch: images} of the archive extracted here (layout.BATCH_SIZES)

    @property
    def batches_dir(self) -> str:
        return f"data/{self.source}/{BATCH_DIR}"

    def batch_file(self, name: str) -> str:
        return layout.path(layout.BATCHES, source=self.source, name=name)

    def split_file(self, split: str) -> str:
        return layout.path(layout.SPLIT, source=self.source, split=split)

    def split_digest(self, split: str) -> str:
        return layout.path(layout.SPLIT_DIGEST, source=self.source, split=split)

    def batch_size(self, batch: str) -> int | None:
        """Samples in one batch file, when known before any data is read: from the synthetic
        settings, 10,000 per batch of the official CIFAR-10 archive, or what the extraction of
        this archive recorded (None before another archive is extracted)."""
        if self.source == "synthetic":
            return self.synthetic["n_test" if batch == TEST_BATCH else "n_per_batch"]
        if self.cifar10["checksum"].lower() == OFFICIAL_CIFAR10_MD5:
            return 10_000
        return self.extracted.get(batch)

    def split(self, name: str, where: str | None = None) -> dict:
        """The config of split ``name``, checked; ``where``: the config key that names it."""
        if name not in self.splits:
            named = f"config {where}: split = {name!r}" if where else f"split {name!r}"
            raise ConfigError(
                f"{named} is not defined under `splits:` (have: {sorted(self.splits)})"
            )
        cfg = self.splits[name]
        try:
            split = Split.from_config(cfg)
        except ValueError as err:
            raise ConfigError(f"config splits.{name}: {err}") from None
        pool = [self.batch_size(b) for b in split.train]
        if split.val_size and None not in pool and split.val_size > sum(pool) - 2:
            raise ConfigError(
                f"config splits.{name}.val_size: {split.val_size} leaves "
                f"{max(sum(pool) - split.val_size, 0)} training samples (at least 2 are "
                f"needed): {' + '.join(split.train)} hold {sum(pool)} samples ({self.source} "
                f"data). Lower splits.{name}.val_size."
            )
        return cfg

    def n_train(self, name: str) -> int | None:
        """Training samples of a split, or None if unknown before the data is read."""
        cfg = self.split(name)
        pool = [self.batch_size(b) for b in cfg["train"]]
        return None if None in pool else sum(pool) - cfg.get("val_size", 0)

    def split_batches(self, name: str) -> dict[str, str]:
        """{batch name: file} of the batches a split reads, and ``meta``: batches.meta."""
        split = Split.from_config(self.split(name))
        files = {batch: self.batch_file(batch) for batch in split.batches()}
        return files | {"meta": self.batch_file("batches.meta")}

    def hint(self) -> str:
        """The fix for a bad batch file, for the messages of the rules that read them."""
        if self.source == "synthetic":
            return "Regenerate the synthetic batches: snakemake --forcerun synthetic_cifar10."
        source = self.local_copy or self.cifar10["url"]
        return (
            f"The batches were extracted from {layout.CIFAR_ARCHIVE} (a verified copy of "
            f"{source}, checksum {self.cifar10['checksum']}), which is damaged or not the real "
            "CIFAR-10: delete data/cifar10/ and point data.cifar10.local_copy and "
            "data.cifar10.checksum at the official archive (or unset local_copy to download it)."
        )

    def described(self) -> dict:
        """What labs 1-3 are measured on, and whether the course's CIFAR-10 numbers apply."""
        if self.source == "synthetic":
            return described(
                "synthetic", "synthetic images in CIFAR-10's format, generated offline"
            )
        checksum = self.cifar10["checksum"]
        if checksum.lower() == OFFICIAL_CIFAR10_MD5:
            return described("CIFAR-10", "CIFAR-10", comparable=True)
        other = f"a CIFAR-format archive other than the official one ({checksum})"
        return described("other archive", other)


@dataclass(frozen=True)
class Corpus:
    """The text of lab 4: downloaded (or copied) and checksum-verified, or synthetic."""

    name: str
    source: str  # "download" or "synthetic"
    url: str
    checksum: str
    retries: int
    synthetic: dict
    local_copy: str  # absolute path, "" to download
    reference_checksum: str  # the text the course's numbers are for

    @property
    def file(self) -> str:
        name = "synthetic" if self.source == "synthetic" else self.name
        return layout.path(layout.CORPUS, corpus=name)

    @property
    def download_file(self) -> str:
        return layout.path(layout.CORPUS, corpus=self.name)

    def described(self) -> dict:
        """What lab 4 is measured on, and whether the course's Goblet of Fire numbers apply."""
        reference = "Goblet of Fire"
        if self.source == "synthetic":
            text = "a synthetic English-like text, generated offline"
            return described("synthetic text", text, reference=reference)
        same = self.checksum.lower() == self.reference_checksum.lower()
        name = reference if same else self.name
        return described(name, f"the text {self.name}", same, reference)


def extracted_sizes(path: Path, checksum: str) -> dict[str, int]:
    """{batch: images} that the extraction of the archive with ``checksum`` recorded at
    ``path`` ({} if there is no such record, or it is of another archive or unreadable)."""
    try:
        record = json.loads(path.read_text())
        if record["checksum"].lower() == checksum.lower():
            return {str(k): int(v) for k, v in record["batches"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return {}


def cifar_plan(config: dict, start_dir: Path | None, workdir: Path) -> Cifar:
    data = config["data"]
    sizes = Path(workdir) / layout.BATCH_SIZES
    return Cifar(
        source=data["source"],
        cifar10=data["cifar10"],
        synthetic=data["synthetic"],
        splits=config["splits"],
        local_copy=local_copy(config, "data.cifar10", start_dir, workdir),
        extracted=extracted_sizes(sizes, data["cifar10"]["checksum"]),
    )


def corpus_plan(config: dict, start_dir: Path | None, workdir: Path) -> Corpus:
    corpus = config["lab4"]["corpus"]
    return Corpus(
        name=corpus["name"],
        source=corpus["source"],
        url=corpus["url"],
        checksum=corpus["checksum"],
        retries=corpus["retries"],
        synthetic=corpus["synthetic"],
        local_copy=local_copy(config, "lab4.corpus", start_dir, workdir),
        reference_checksum=config["lab4"]["reference"].get("corpus_checksum", ""),
    )
