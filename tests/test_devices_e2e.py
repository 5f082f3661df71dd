"""End to end through real audio devices: PulseAudio null sinks stand in for the room.

A session is played into the `samantha_room` sink; the assistant records its monitor as
the microphone (PULSE_SOURCE) and speaks into `samantha_speaker` (PULSE_SINK), whose
monitor is recorded and checked for her voice. PulseAudio is started here when needed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import PROJECT, require_models
from speech import piper, session, silence

from assistant.audio import read_audio

pytestmark = [pytest.mark.real, pytest.mark.devices]
ROOM, SPEAKER = "samantha_room", "samantha_speaker"


def _pactl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10)


@pytest.fixture(scope="module")
def pulse():
    for tool in ("pulseaudio", "pactl", "paplay", "parecord"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is not installed: run scripts/setup (it installs pulseaudio)")
    if _pactl("info").returncode != 0:
        subprocess.run(["pulseaudio", "-D", "--exit-idle-time=-1"], check=True, capture_output=True)
        for _ in range(50):
            if _pactl("info").returncode == 0:
                break
            time.sleep(0.1)
    sinks = _pactl("list", "short", "sinks").stdout
    for name in (ROOM, SPEAKER):
        if name not in sinks:
            assert _pactl("load-module", "module-null-sink", f"sink_name={name}").returncode == 0
    yield


def _wait_for(path, kind, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for line in path.read_text().splitlines():
                event = json.loads(line)
                if event["type"] == kind:
                    return event
        time.sleep(0.2)
    raise AssertionError(f"no {kind} event within {timeout} s")


def test_live_loop_through_pulseaudio(tmp_path, pulse):
    require_models()
    wav = session(tmp_path / "in.wav", [silence(0.5), piper("Hey Jarvis."), silence(0.4),
                                        piper("What is the capital of France?"), silence(3.0)], 44100)
    events = tmp_path / "events.jsonl"
    env = {**os.environ, "PULSE_SOURCE": f"{ROOM}.monitor", "PULSE_SINK": SPEAKER}
    assistant = subprocess.Popen(
        [sys.executable, "-m", "assistant", "--set", "llm.model_path=models/SmolLM2-135M-Instruct.Q4_1.gguf",
         "run", "--events", str(events)], cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    recorder = None
    try:
        _wait_for(events, "ready", 120)
        recorded = tmp_path / "spoken.wav"
        recorder = subprocess.Popen(["parecord", f"--device={SPEAKER}.monitor", "--file-format=wav",
                                     "--rate=16000", "--channels=1", str(recorded)])
        subprocess.run(["paplay", f"--device={ROOM}", str(wav)], check=True, timeout=60)
        reply = _wait_for(events, "tts_end", 120)
        time.sleep(1.0)
        assert reply
        started = time.monotonic()
        assistant.send_signal(signal.SIGINT)
        assert assistant.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
    finally:
        if assistant.poll() is None:
            assistant.kill()
        if recorder is not None:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(timeout=10)
    stderr = assistant.stderr.read()
    assert "Traceback" not in stderr
    kinds = [json.loads(line)["type"] for line in events.read_text().splitlines()]
    assert kinds.count("wake") == 1 and "transcript" in kinds and "reply" in kinds
    audio, rate = read_audio(recorded)
    window = rate // 10
    loud = [np.sqrt(np.mean(audio[i:i + window] ** 2)) > 0.02 for i in range(0, len(audio) - window, window)]
    assert sum(loud) >= 5, "her reply was not heard on the speaker sink"
