"""Fetch a file from a URL (or take a local copy) with checksum, retries and atomic rename.

Nothing half-written is ever left at the destination: bytes go to ``<dest>.part`` and are
renamed only after the checksum matches.  A wrong checksum deletes the download.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

log = logging.getLogger(__name__)

CHUNK = 1 << 20


class FetchError(RuntimeError):
    """A download or verification failed; the message says what to do.

    ``reason`` says which step failed: ``missing`` (the local copy does not exist),
    ``download``, ``checksum`` or ``content`` (the file matched its checksum but ``check``
    rejected it)."""

    def __init__(self, message: str, reason: str = "download") -> None:
        super().__init__(message)
        self.reason = reason


def file_digest(path: str | Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def parse_checksum(checksum: str) -> tuple[str, str]:
    """``"md5:abc..."`` or ``"sha256:..."`` -> (algorithm, hex digest)."""
    algorithm, sep, digest = checksum.partition(":")
    if not sep or algorithm not in hashlib.algorithms_guaranteed or not digest:
        raise ValueError(f"checksum must look like 'md5:<hex>' or 'sha256:<hex>', got {checksum!r}")
    return algorithm, digest.lower()


def verify(path: str | Path, checksum: str) -> None:
    algorithm, expected = parse_checksum(checksum)
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise FetchError(f"{path}: {algorithm} is {actual}, expected {expected}")


def _download_once(url: str, tmp: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        next_report = 0.0
        started = time.monotonic()
        while chunk := response.read(CHUNK):
            out.write(chunk)
            done += len(chunk)
            fraction = done / total if total else 0.0
            if fraction >= next_report or not total and done % (16 * CHUNK) < CHUNK:
                rate = done / max(time.monotonic() - started, 1e-9) / 1e6
                size = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
                log.info("downloaded %s (%.0f%%) at %.1f MB/s", size, 100 * fraction, rate)
                next_report = fraction + 0.1
        if total and done != total:
            raise urllib.error.ContentTooShortError(
                f"got {done} of {total} bytes", (tmp, response.headers)
            )


def _is_transient(err: Exception) -> bool:
    """Worth another attempt: timeouts, refused or dropped connections, HTTP 5xx/429/408.
    Not a name that does not resolve (a typo in the URL, or no network at all): waiting
    does not make it resolve."""
    if isinstance(err, urllib.error.HTTPError):
        return err.code in (408, 429) or err.code >= 500
    reason = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, socket.gaierror):
        return False
    # URLError (refused), timeouts and dropped connections are all OSErrors
    return isinstance(err, OSError)


def hints(url: str, key: str, local: str | None) -> dict[str, str]:
    """What to tell the user after each kind of failure (``FetchError.reason``) of fetching
    the file of config section ``key`` (``data.cifar10``, ``lab4.corpus``)."""
    return {
        "download": (
            f"Without internet: download {url} elsewhere and set {key}.local_copy to its path in "
            "a YAML file passed with --configfile (see config/README.md), or run the whole "
            "pipeline offline on synthetic data: snakemake --cores all --configfile "
            "config/test.yaml"
        ),
        "missing": (
            f"Set {key}.local_copy to an existing file (a relative path is taken from the "
            "directory snakemake was started in)."
        ),
        "checksum": (
            f"If {local} is a different file on purpose, set {key}.checksum to its checksum "
            "(given above); otherwise it is corrupt: copy it again."
            if local
            else f"The download is corrupt or not the file {key}.checksum describes: run again, "
            f"or check {key}.url and {key}.checksum."
        ),
    }


class _Fetch:
    """One call of ``fetch``: its steps, each raising ``FetchError`` with the hint of its
    reason; the bytes go to ``tmp`` until they are verified."""

    def __init__(self, url, dest, checksum, local_copy, hints) -> None:
        self.url, self.dest, self.checksum, self.local_copy = url, Path(dest), checksum, local_copy
        self.tmp = self.dest.with_name(self.dest.name + ".part")
        self.algorithm, _ = parse_checksum(checksum)
        self.hints = {
            "download": f"To work offline, download {url} on a machine with internet and pass "
            "its path as local_copy.",
            "checksum": "The file is corrupt or not the one expected.",
        } | dict(hints or {})
        self.source = f"local copy {local_copy}" if local_copy else url

    def failure(self, message: str, reason: str) -> FetchError:
        return FetchError(f"{message} {self.hints.get(reason, '')}".strip(), reason)

    def copy(self) -> None:
        src = Path(self.local_copy)
        if not src.is_file():
            raise self.failure(f"{self.source} does not exist.", "missing")
        log.info("copying local file %s", src)
        shutil.copyfile(src, self.tmp)

    def download(self, retries: int, backoff: float, timeout: float) -> None:
        """Transient network errors (timeouts, refused connections, HTTP 5xx/429) are retried
        ``retries`` times with exponential backoff."""
        for attempt in range(1, retries + 2):
            try:
                log.info("downloading %s (attempt %d of %d)", self.url, attempt, retries + 1)
                _download_once(self.url, self.tmp, timeout)
                return
            except Exception as err:
                if not _is_transient(err) or attempt > retries:
                    message = f"could not download {self.url}: {err}."
                    raise self.failure(message, "download") from err
                wait = backoff * 2 ** (attempt - 1)
                log.warning("transient error (%s); retrying in %.0f s", err, wait)
                time.sleep(wait)

    def verify(self, check: Callable[[Path], None] | None) -> None:
        """The checksum, then ``check`` of the content (a ValueError rejects it)."""
        try:
            verify(self.tmp, self.checksum)
        except FetchError as err:
            message = (
                f"{self.source}: wrong {self.algorithm} checksum ({err}); the bad copy at "
                f"{self.dest} was deleted."
            )
            raise self.failure(message, "checksum") from None
        if check is None:
            return
        try:
            check(self.tmp)
        except ValueError as err:
            message = (
                f"{self.source} has the expected {self.algorithm} checksum but its content is "
                f"not usable: {err}; nothing was written to {self.dest}."
            )
            raise self.failure(message, "content") from None


def fetch(
    url: str,
    dest: str | Path,
    checksum: str,
    *,
    local_copy: str | Path | None = None,
    retries: int = 3,
    backoff: float = 2.0,
    timeout: float = 60.0,
    hints: Mapping[str, str] | None = None,
    check: Callable[[Path], None] | None = None,
) -> Path:
    """Put a verified copy of ``url`` (or of ``local_copy``) at ``dest``.

    Transient network errors (timeouts, refused connections, HTTP 5xx/429) are retried
    ``retries`` times with exponential backoff.  After the checksum matched, ``check(path)``
    (if given) may still reject the file's content by raising ValueError.  Any failure raises
    ``FetchError`` (see its ``reason``) and leaves nothing at ``dest``; ``hints[reason]`` is
    appended to its message (by default the download hint says to use ``local_copy``).
    """
    job = _Fetch(url, dest, checksum, local_copy, hints)
    job.dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        if local_copy:
            job.copy()
        else:
            job.download(retries, backoff, timeout)
        job.verify(check)
        job.tmp.replace(job.dest)
        log.info("verified %s checksum and wrote %s", job.algorithm, job.dest)
        return job.dest
    finally:
        job.tmp.unlink(missing_ok=True)
