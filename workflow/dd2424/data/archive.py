"""The ``cifar-10-python.tar.gz`` archive: pack it (for tests), check that it is intact and
complete, and extract its batch files atomically."""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Sequence
from pathlib import Path

from .cifar import BATCH_DIR, CIFAR_FILES


def pack_archive(batch_dir: str | Path, archive: str | Path) -> None:
    """Pack a batch directory as ``cifar-10-python.tar.gz`` is packed (one top folder)."""
    batch_dir = Path(batch_dir)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(batch_dir, arcname=BATCH_DIR)


#: what reading a damaged .tar.gz raises: not gzip or not tar, truncated, corrupt
ARCHIVE_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error)


def _damaged(err: Exception) -> ValueError:
    return ValueError(f"not a complete gzip-compressed tar archive ({type(err).__name__}: {err})")


def check_archive(archive: str | Path, members: Sequence[str] = CIFAR_FILES) -> None:
    """Raise ValueError unless ``archive`` is an intact ``.tar.gz`` (read to the end, so the
    gzip checksum is checked) holding ``cifar-10-batches-py/<name>`` for every member."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            names = {m.name for m in tar.getmembers() if m.isfile()}
    except ARCHIVE_ERRORS as err:
        raise _damaged(err) from None
    missing = [f"{BATCH_DIR}/{name}" for name in members if f"{BATCH_DIR}/{name}" not in names]
    if missing:
        raise ValueError(f"the archive has no {', '.join(missing)}")


def _extract_member(tar: tarfile.TarFile, name: str, dest: Path) -> None:
    try:
        member = tar.getmember(f"{BATCH_DIR}/{name}")
        src = tar.extractfile(member)
    except KeyError:
        raise ValueError(f"no {BATCH_DIR}/{name} inside") from None
    except ARCHIVE_ERRORS as err:
        raise _damaged(err) from None
    if src is None:
        raise ValueError(f"{BATCH_DIR}/{name} is not a regular file")
    tmp = dest / f".{name}.part"
    try:
        with src, open(tmp, "wb") as out:
            while True:
                try:
                    chunk = src.read(1 << 20)
                except ARCHIVE_ERRORS as err:
                    message = f"{BATCH_DIR}/{name} is truncated or corrupt ({err})"
                    raise ValueError(message) from None
                if not chunk:
                    break
                out.write(chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(dest / name)


def extract_archive(archive: str | Path, dest: str | Path, members: Sequence[str]) -> None:
    """Extract the named files of ``cifar-10-batches-py`` from the archive into ``dest``
    (each written to a temp name, then renamed); ValueError naming the archive if it is
    damaged or lacks a member."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        try:
            tar = tarfile.open(archive, "r:gz")
        except ARCHIVE_ERRORS as err:
            raise _damaged(err) from None
        with tar:
            for name in members:
                _extract_member(tar, name, dest)
    except ValueError as err:
        raise ValueError(f"{archive}: {err}") from None
