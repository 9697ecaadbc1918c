"""Model downloads against a local HTTP file server (never a model hub)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from llm import BackendUnavailable
from llm.__main__ import main
from llm.download import download

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class FileHandler(BaseHTTPRequestHandler):
    """Serves PAYLOAD at /model.gguf with Range support, like a CDN; counts requests."""

    requests: list[str | None] = []
    cut_after: int | None = None  # send only this many bytes, then drop the connection

    def do_GET(self) -> None:
        FileHandler.requests.append(self.headers.get("Range"))
        if self.path != "/model.gguf":
            self.send_error(404)
            return
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].removeprefix("bytes=").rstrip("-"))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        else:
            self.send_response(200)
        body = PAYLOAD[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if FileHandler.cut_after is not None:
            self.wfile.write(body[: FileHandler.cut_after])
            self.wfile.flush()
            self.connection.close()
            return
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    FileHandler.requests, FileHandler.cut_after = [], None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FileHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_downloads_and_verifies_the_checksum(server: str, tmp_path: Path):
    path = download(f"{server}/model.gguf", tmp_path, sha256=DIGEST)
    assert path == tmp_path / "model.gguf" and path.read_bytes() == PAYLOAD


def test_a_wrong_checksum_keeps_nothing(server: str, tmp_path: Path):
    with pytest.raises(BackendUnavailable, match="checksum mismatch"):
        download(f"{server}/model.gguf", tmp_path, sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_download_resumes_where_it_stopped(server: str, tmp_path: Path):
    FileHandler.cut_after = 300_000
    with pytest.raises(BackendUnavailable, match="run it again to resume"):
        download(f"{server}/model.gguf", tmp_path, sha256=DIGEST)
    assert (tmp_path / "model.gguf.partial").stat().st_size == 300_000
    assert not (tmp_path / "model.gguf").exists()
    FileHandler.cut_after = None
    path = download(f"{server}/model.gguf", tmp_path, sha256=DIGEST)
    assert path.read_bytes() == PAYLOAD
    assert FileHandler.requests == [None, "bytes=300000-"]


def test_a_complete_file_is_not_downloaded_again(server: str, tmp_path: Path):
    download(f"{server}/model.gguf", tmp_path, sha256=DIGEST)
    download(f"{server}/model.gguf", tmp_path, sha256=DIGEST)
    assert len(FileHandler.requests) == 1


def test_http_errors_are_clear(server: str, tmp_path: Path):
    with pytest.raises(BackendUnavailable, match="HTTP 404"):
        download(f"{server}/missing.gguf", tmp_path)


def test_the_command_line_prints_the_path(server: str, tmp_path: Path, capsys):
    status = main(["download", f"{server}/model.gguf", "--models-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert status == 0 and out.strip() == str(tmp_path / "model.gguf")
    assert DIGEST in err
