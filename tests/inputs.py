"""Builders of adversarial inputs shared by the hardening tests: config overrides, CIFAR
archives with some members replaced, pickles that would run code."""

import hashlib
import io as _io
import os
import pickle
import tarfile

import yaml

from dd2424.data import cifar as cifar_format


def write_config(directory, overrides) -> str:
    path = directory / f"override{len(list(directory.glob('override*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(overrides))
    return str(path)


def output(result) -> str:
    return result.stdout + result.stderr


# ------------------------------------------------------------------ archives of CIFAR format
class Payload:
    """Unpickling this runs ``touch <marker>`` (what a malicious batch would do)."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def archive_with(directory, batches, replace: dict | None = None):
    """The batches packed as cifar-10-python.tar.gz, some members replaced by other bytes;
    returns (archive, config overrides pointing local_copy and checksum at it)."""
    archive = directory / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in cifar_format.CIFAR_FILES:
            payload = (replace or {}).get(name, (batches / name).read_bytes())
            info = tarfile.TarInfo(f"{cifar_format.BATCH_DIR}/{name}")
            info.size = len(payload)
            tar.addfile(info, _io.BytesIO(payload))
    digest = hashlib.md5(archive.read_bytes()).hexdigest()
    return archive, cifar(local_copy=str(archive), checksum=f"md5:{digest}")


def cifar(**cifar10):
    """Overrides for a small CIFAR-format archive (100 images per batch): its splits must fit
    it, since once it is extracted every split is checked against the batches' sizes."""
    return {
        "data": {"source": "cifar10", "cifar10": {"retries": 0, **cifar10}},
        "splits": {"all45k": {"val_size": 100}, "all49k": {"val_size": 50}},
        "lab1": {"defaults": {"n_epochs": 1}},
    }


def batch_bytes(batches, changes: dict, name="data_batch_1") -> bytes:
    with open(batches / name, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    batch.update(changes)
    return pickle.dumps(batch, protocol=2)
