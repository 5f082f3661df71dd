"""Real-model tier: `assistant run --fast` in file mode on generated sessions, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import PROJECT, require_models
from speech import espeak, piper, session, silence

from assistant.audio import read_audio

pytestmark = pytest.mark.real
SMOL = "llm.model_path=models/SmolLM2-135M-Instruct.Q4_1.gguf"


def run_assistant(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=PROJECT, capture_output=True,
                          text=True, timeout=timeout)


def events_of(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("voice, rate_hz, question, words", [
    ("piper", 16000, "What is the capital of France?", ["capital", "france"]),
    ("espeak", 44100, "What is the largest planet?", ["largest", "planet"]),
])
def test_file_mode_session_answers(tmp_path, voice, rate_hz, question, words):
    require_models()
    say = piper if voice == "piper" else espeak
    wav = session(tmp_path / "in.wav", [silence(1.0), say("Hey Jarvis."), silence(0.4),
                                        say(question), silence(4.0)], rate_hz)
    out, ev = tmp_path / "out.wav", tmp_path / "events.jsonl"
    result = run_assistant("--set", SMOL, "run", "--input", str(wav), "--output", str(out), "--events", str(ev),
                           "--fast")
    assert result.returncode == 0, result.stderr
    events = events_of(ev)
    kinds = [e["type"] for e in events]
    assert kinds.count("wake") == 1
    transcript = next(e["text"] for e in events if e["type"] == "transcript")
    assert all(word in transcript.lower() for word in words), transcript
    reply = next(e for e in events if e["type"] == "reply")
    assert reply["text"].strip()
    for key in ("stt_seconds", "llm_first_token_seconds", "tts_first_audio_seconds"):
        assert reply[key] is not None and reply[key] >= 0
    # The output is on the input's timeline: silent before tts_start, speech between tts_start and tts_end.
    audio, out_rate = read_audio(out)
    assert out_rate == rate_hz
    in_audio, _ = read_audio(wav)
    assert len(audio) >= len(in_audio)
    start = next(e["t"] for e in events if e["type"] == "tts_start")
    end = next(e["t"] for e in events if e["type"] == "tts_end")
    speech_end = next(e for e in events if e["type"] == "speech_end")
    assert speech_end["t"] <= start < end
    wake_t = next(e["t"] for e in events if e["type"] == "wake")
    assert np.abs(audio[: int(wake_t * out_rate) - 1]).max() == 0  # silent until the wake word...
    assert np.abs(audio[int(wake_t * out_rate): int((wake_t + 0.3) * out_rate)]).max() > 0.05  # ...its chime
    assert np.abs(audio[int((wake_t + 0.3) * out_rate): int(start * out_rate) - 1]).max() == 0
    spoken = audio[int(start * out_rate): int(end * out_rate)]
    assert np.sqrt(np.mean(spoken**2)) > 0.02  # speech, not silence


def test_noise_only_session_starts_no_turn(tmp_path):
    require_models()
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 200, 16000 * 3).astype(np.int16)
    wav = session(tmp_path / "in.wav", [silence(0.5), piper("Hey Jarvis."), noise, silence(6.0)])
    ev = tmp_path / "events.jsonl"
    result = run_assistant("--set", SMOL, "run", "--input", str(wav), "--events", str(ev), "--fast")
    assert result.returncode == 0, result.stderr
    kinds = [e["type"] for e in events_of(ev)]
    assert "wake" in kinds and "reply" not in kinds and "error" in kinds


def test_clear_errors_without_traceback(tmp_path):
    result = run_assistant("--set", "llm.model_path=models/nope.gguf", "check", "--models-only")
    assert result.returncode == 1 and "nope.gguf" in result.stdout and "llm.model_path" in result.stdout
    bad = tmp_path / "c.yaml"
    bad.write_text("wake:\n  treshold: 2\n")
    result = run_assistant("--config", str(bad), "check")
    assert result.returncode == 2 and "Did you mean 'wake.threshold'" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_assistant("run", "--input", str(tmp_path / "missing.wav"))
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_small_tools(tmp_path):
    out = tmp_path / "say.wav"
    result = run_assistant("say", "Hello from Samantha.", "--output", str(out))
    assert result.returncode == 0, result.stderr
    result = run_assistant("transcribe", str(out))
    assert result.returncode == 0 and "hello" in result.stdout.lower()
    result = subprocess.run([sys.executable, "-m", "assistant", "--set", SMOL, "chat"], cwd=PROJECT,
                            input="Hello!\nHow are you?\n", capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert len([line for line in result.stdout.splitlines() if line.strip()]) >= 2
