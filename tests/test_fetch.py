"""Download behaviour, on file:// URLs and a loopback HTTP server only (never the network)."""

import hashlib
import http.server
import threading

import pytest
from conftest import closed_port

from dd2424.data import fetch

PAYLOAD = b"not really cifar " * 5000


def md5(data: bytes) -> str:
    return "md5:" + hashlib.md5(data).hexdigest()


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "src" / "archive.tar.gz"
    path.parent.mkdir()
    path.write_bytes(PAYLOAD)
    return path


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir())


def test_download_verifies_and_writes(tmp_path, source):
    dest = tmp_path / "out" / "a.tar.gz"
    fetch.fetch(source.as_uri(), dest, md5(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD
    assert leftovers(dest.parent) == ["a.tar.gz"]


def test_sha256_checksums_work(tmp_path, source):
    digest = "sha256:" + hashlib.sha256(PAYLOAD).hexdigest()
    fetch.fetch(source.as_uri(), tmp_path / "a", digest)
    assert (tmp_path / "a").exists()


def test_wrong_checksum_deletes_the_download_and_says_so(tmp_path, source):
    dest = tmp_path / "out" / "a.tar.gz"
    with pytest.raises(fetch.FetchError, match="wrong md5 checksum.*deleted"):
        fetch.fetch(source.as_uri(), dest, md5(b"something else"))
    assert leftovers(dest.parent) == []


def test_local_copy_is_verified_and_used(tmp_path, source):
    dest = tmp_path / "a.tar.gz"
    fetch.fetch("https://example.invalid/never-used", dest, md5(PAYLOAD), local_copy=source)
    assert dest.read_bytes() == PAYLOAD


def test_missing_local_copy_is_a_clear_error(tmp_path):
    with pytest.raises(fetch.FetchError, match="local copy .* does not exist"):
        fetch.fetch("https://example.invalid/x", tmp_path / "a", md5(b""), local_copy="/nope.tgz")
    assert leftovers(tmp_path) == []


def test_unreachable_server_fails_after_retries_with_a_hint(tmp_path, caplog):
    url = f"http://127.0.0.1:{closed_port()}/cifar-10-python.tar.gz"
    with caplog.at_level("INFO"), pytest.raises(fetch.FetchError) as err:
        fetch.fetch(url, tmp_path / "a", md5(PAYLOAD), retries=2, backoff=0.0)
    message = str(err.value)
    assert "could not download" in message and "local_copy" in message
    assert sum("attempt" in r.message for r in caplog.records) == 3
    assert leftovers(tmp_path) == []


class FlakyHandler(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first ``failures`` requests, then serves PAYLOAD (or 404)."""

    failures = 1
    calls = 0

    def do_GET(self):  # noqa: N802 - http.server's naming
        type(self).calls += 1
        if self.path != "/file":
            self.send_error(404)
        elif type(self).calls <= self.failures:
            self.send_error(503)
        else:
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    FlakyHandler.calls = 0
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FlakyHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_transient_http_error_is_retried(tmp_path, server, caplog):
    with caplog.at_level("INFO"):
        fetch.fetch(f"{server}/file", tmp_path / "a", md5(PAYLOAD), retries=2, backoff=0.0)
    assert (tmp_path / "a").read_bytes() == PAYLOAD
    assert FlakyHandler.calls == 2
    assert any("retrying" in r.message for r in caplog.records)
    assert any("downloaded" in r.message and "100%" in r.message for r in caplog.records)


def test_permanent_http_error_is_not_retried(tmp_path, server):
    with pytest.raises(fetch.FetchError, match="404"):
        fetch.fetch(f"{server}/missing", tmp_path / "a", md5(PAYLOAD), retries=3, backoff=0.0)
    assert FlakyHandler.calls == 1


@pytest.mark.parametrize("bad", ["c58f30108f718f92721af3b95e74349a", "md5:", "crc32:abcd"])
def test_malformed_checksum_spec(bad, tmp_path, source):
    with pytest.raises(ValueError, match="checksum must look like"):
        fetch.fetch(source.as_uri(), tmp_path / "a", bad)


def test_a_name_that_does_not_resolve_fails_at_once_naming_the_url_and_the_key(
    tmp_path, monkeypatch
):
    """DNS failure (issue 21): waiting does not make a name resolve, so there is one attempt
    and no backoff, and the message names the URL and the local_copy key.  urlopen is
    replaced (a real lookup would touch the network)."""
    calls = []

    def unresolvable(url, timeout):
        calls.append(url)
        raise fetch.urllib.error.URLError(fetch.socket.gaierror(-2, "Name or service not known"))

    def no_sleep(seconds):
        raise AssertionError(f"slept {seconds} s before retrying a DNS failure")

    monkeypatch.setattr(fetch.urllib.request, "urlopen", unresolvable)
    monkeypatch.setattr(fetch.time, "sleep", no_sleep)
    url = "https://cifar.example.invalid/cifar-10-python.tar.gz"
    hints = fetch.hints(url, "data.cifar10", "")
    with pytest.raises(fetch.FetchError) as caught:
        fetch.fetch(url, tmp_path / "a", md5(b""), retries=3, hints=hints)
    assert calls == [url]
    message = str(caught.value)
    assert f"could not download {url}" in message and "Name or service not known" in message
    assert "set data.cifar10.local_copy" in message and "\n" not in message
    assert leftovers(tmp_path) == []
