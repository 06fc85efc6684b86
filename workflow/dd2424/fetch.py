"""Fetch a file from a URL (or take a local copy) with checksum, retries and atomic rename.

Nothing half-written is ever left at the destination: bytes go to ``<dest>.part`` and are
renamed only after the checksum matches.  A wrong checksum deletes the download.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)

CHUNK = 1 << 20


class FetchError(RuntimeError):
    """A download or verification failed; the message says what to do."""


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
    if isinstance(err, urllib.error.HTTPError):
        return err.code in (408, 429) or err.code >= 500
    # URLError (refused, DNS failure), timeouts and dropped connections are all OSErrors
    return isinstance(err, OSError)


def fetch(
    url: str,
    dest: str | Path,
    checksum: str,
    *,
    local_copy: str | Path | None = None,
    retries: int = 3,
    backoff: float = 2.0,
    timeout: float = 60.0,
    hint: str = "",
) -> Path:
    """Put a verified copy of ``url`` (or of ``local_copy``) at ``dest``.

    Transient network errors (timeouts, refused connections, HTTP 5xx/429) are retried
    ``retries`` times with exponential backoff; any final failure raises ``FetchError``
    with a message that says how to supply the file by hand (``hint`` is appended to it;
    by default it says to use ``local_copy``).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    algorithm, _ = parse_checksum(checksum)
    hint = hint or (
        f"To work offline, download {url} on a machine with internet and pass its path "
        "as local_copy."
    )
    try:
        if local_copy:
            src = Path(local_copy)
            if not src.is_file():
                raise FetchError(f"local copy {src} does not exist")
            log.info("copying local file %s", src)
            shutil.copyfile(src, tmp)
        else:
            for attempt in range(1, retries + 2):
                try:
                    log.info("downloading %s (attempt %d of %d)", url, attempt, retries + 1)
                    _download_once(url, tmp, timeout)
                    break
                except Exception as err:
                    if not _is_transient(err) or attempt > retries:
                        raise FetchError(f"could not download {url}: {err}. {hint}") from err
                    wait = backoff * 2 ** (attempt - 1)
                    log.warning("transient error (%s); retrying in %.0f s", err, wait)
                    time.sleep(wait)
        try:
            verify(tmp, checksum)
        except FetchError as err:
            source = local_copy or url
            raise FetchError(
                f"{source}: wrong {algorithm} checksum ({err}); the bad copy was deleted. "
                f"The file is corrupt or not the one expected. {hint}"
            ) from None
        tmp.replace(dest)
        log.info("verified %s checksum and wrote %s", algorithm, dest)
        return dest
    finally:
        tmp.unlink(missing_ok=True)
