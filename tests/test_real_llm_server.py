"""`llm.backend: openai` against a real OpenAI-compatible server: llama.cpp's own
(`python -m llama_cpp.server`) started here on loopback with the small default GGUF."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest
import requests
from conftest import PROJECT, require_models
from speech import piper, session, silence

pytestmark = pytest.mark.real
SMOL = "models/SmolLM2-135M-Instruct.Q4_1.gguf"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_models()
    port = _free_port()
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")  # a pipe would fill up and block it
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", SMOL, "--host", "127.0.0.1",
                             "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--model_alias", "smol"],
                            cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {open(log.name).read()[-2000:]}")
            try:
                if requests.get(f"{url}/models", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            pytest.fail("llama_cpp.server did not start within 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _run(tmp_path, *sets):
    wav = session(tmp_path / "in.wav", [silence(0.5), piper("Hey Jarvis."), silence(0.3),
                                        piper("What is the capital of France?"), silence(5.0)])
    ev = tmp_path / "events.jsonl"
    args = [a for s in sets for a in ("--set", s)]
    result = subprocess.run([sys.executable, "-m", "assistant", *args, "run", "--input", str(wav), "--output",
                             str(tmp_path / "out.wav"), "--events", str(ev), "--fast"],
                            cwd=PROJECT, capture_output=True, text=True, timeout=300)
    events = [json.loads(line) for line in ev.read_text().splitlines()] if ev.exists() else []
    return result, events


def test_voice_loop_answers_through_the_server(tmp_path, server):
    result, events = _run(tmp_path, "llm.backend=openai", f"llm.base_url={server}", "llm.model=smol",
                          "llm.max_reply_tokens=30", "memory.data_dir=" + str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    reply = next(e for e in events if e["type"] == "reply")
    assert reply["text"].strip() and reply["llm_first_token_seconds"] is not None
    start, end = (next(e["t"] for e in events if e["type"] == kind) for kind in ("tts_start", "tts_end"))
    assert start < end


def test_server_down_is_one_clear_line_at_start(tmp_path):
    require_models()
    port = _free_port()  # nothing listens there
    result, _ = _run(tmp_path, "llm.backend=openai", f"llm.base_url=http://127.0.0.1:{port}/v1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"The LLM server at http://127.0.0.1:{port}/v1 is not reachable" in result.stderr
    assert "llm.fallback_to_local" in result.stderr


def test_server_down_falls_back_to_the_local_model(tmp_path):
    require_models()
    port = _free_port()
    result, events = _run(tmp_path, "llm.backend=openai", f"llm.base_url=http://127.0.0.1:{port}/v1",
                          "llm.fallback_to_local=true", f"llm.model_path={SMOL}", "llm.max_reply_tokens=30",
                          "memory.data_dir=" + str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert "Using the local model" in result.stderr
    assert next(e for e in events if e["type"] == "reply")["text"].strip()
