"""Sounds that are not a request start no LLM turn: after the wake word, silence, room noise,
typing, music, a cough, mains hum or knocking go through the real VAD, Whisper and the
hallucination gate, and she answers nothing (at most "I couldn't make out any words")."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_models
from speech import piper, session, silence

from assistant.config import load_config
from assistant.events import EventBus
from assistant.filemode import FileSource, FileSpeaker, Timeline
from assistant.loading import load_stages
from assistant.persona import Conversation
from assistant.pipeline import Pipeline

pytestmark = pytest.mark.real
RATE = 16000
rng = np.random.default_rng(11)


def _int16(x: np.ndarray) -> np.ndarray:
    return np.clip(x, -32768, 32767).astype(np.int16)


def typing(seconds=3.0):
    out = np.zeros(int(seconds * RATE))
    t = 0.0
    while t < seconds - 0.05:
        i = int(t * RATE)
        click = rng.normal(0, 6000, 240) * np.exp(-np.arange(240) / 30)
        out[i:i + 240] += click
        t += rng.uniform(0.08, 0.25)
    return _int16(out)


def music(seconds=4.0):
    t = np.arange(int(seconds * RATE)) / RATE
    chords = [(261.6, 329.6, 392.0), (220.0, 261.6, 329.6), (174.6, 220.0, 261.6), (196.0, 246.9, 293.7)]
    out = np.zeros_like(t)
    for k, chord in enumerate(chords):
        part = (t >= k) & (t < k + 1)
        for f in chord:
            out[part] += np.sin(2 * np.pi * f * t[part]) * np.exp(-3 * (t[part] - k))
    return _int16(out * 5000)


def cough(times=2):
    parts = []
    for _ in range(times):
        n = int(0.35 * RATE)
        burst = rng.normal(0, 1, n)
        burst = np.convolve(burst, np.ones(8) / 8, mode="same")  # darker than white noise
        env = np.minimum(1, np.arange(n) / 200) * np.exp(-np.arange(n) / (0.08 * RATE))
        parts += [burst * env * 20000, np.zeros(int(0.4 * RATE))]
    return _int16(np.concatenate(parts))


def hum(seconds=3.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return _int16(sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3, 5)) * 3000)


def knocking(times=4):
    parts = []
    for _ in range(times):
        n = int(0.12 * RATE)
        t = np.arange(n) / RATE
        parts += [np.sin(2 * np.pi * 90 * t) * np.exp(-t / 0.02) * 15000, np.zeros(int(0.3 * RATE))]
    return _int16(np.concatenate(parts))


SOUNDS = {
    "silence": lambda: silence(3.0),
    "room noise": lambda: _int16(rng.normal(0, 150, 3 * RATE)),
    "typing": typing,
    "music": music,
    "cough": cough,
    "hum": hum,
    "knocking": knocking,
}


@pytest.fixture(scope="module")
def stages():
    require_models()
    config = load_config(None, ["llm.model_path=models/SmolLM2-135M-Instruct.Q4_1.gguf"])
    return load_stages(config, prefix=[{"role": "system", "content": "You are Samantha."}])


@pytest.mark.parametrize("name", list(SOUNDS))
def test_non_speech_after_the_wake_word_starts_no_turn(tmp_path, stages, name):
    config = load_config(None, ["llm.model_path=models/SmolLM2-135M-Instruct.Q4_1.gguf", "cues.wake=false"])
    wav = session(tmp_path / "in.wav", [silence(0.5), piper("Hey Jarvis."), silence(0.3), SOUNDS[name](),
                                        silence(6.0)])
    timeline = Timeline(fast=True)
    source = FileSource(wav, timeline)
    speaker = FileSpeaker(tmp_path / "out.wav", timeline, source.rate_hz, source.duration_seconds)
    bus = EventBus(source.now)
    stages.wake._last_detection_t = float("-inf")  # a new session on the shared stages
    calls = []
    real_stream = stages.llm.stream

    def spy(messages, **kwargs):
        if messages and messages[-1]["role"] == "user":  # a turn (not the prompt pre-warm)
            calls.append(messages[-1]["content"])
        return real_stream(messages, **kwargs)

    stages.llm.stream = spy
    try:
        Pipeline(config, stages, source, speaker, bus, Conversation("You are Samantha.")).run()
    finally:
        del stages.llm.stream
        speaker.close()
    kinds = [e.type for e in bus.history]
    assert kinds.count("wake") == 1, kinds
    assert not calls and "reply" not in kinds, [(e.type, e.data) for e in bus.history]
    transcripts = [e.data["text"] for e in bus.history if e.type == "transcript"]
    assert all(not t.strip() for t in transcripts), transcripts
