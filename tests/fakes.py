"""Fakes that implement the stage Protocols, for the loop tier. Audio is synthetic:
a chunk whose samples are all WAKE_LEVEL is "the wake word", SPEECH_LEVEL is "speech"."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from assistant.audio import SAMPLE_RATE_HZ, AudioChunk, write_wav
from assistant.stt import Transcript
from assistant.wake import Detection

WAKE_LEVEL = 3000
SPEECH_LEVEL = 1000


def session_wav(path, parts: list[tuple[str, float]]) -> None:
    """Write a 16 kHz WAV from ("wake"|"speech"|"silence", seconds) parts."""
    level = {"wake": WAKE_LEVEL, "speech": SPEECH_LEVEL, "silence": 0}
    audio = np.concatenate([np.full(int(s * SAMPLE_RATE_HZ), level[k], dtype=np.int16) for k, s in parts])
    write_wav(path, audio, SAMPLE_RATE_HZ)


class FakeWake:
    """Fires on the first chunk after a wake tone, as a real model fires as the phrase ends."""

    def __init__(self) -> None:
        self.resets = 0
        self.in_phrase = False

    def process(self, chunk: AudioChunk) -> Detection | None:
        was, self.in_phrase = self.in_phrase, abs(int(np.median(chunk.samples)) - WAKE_LEVEL) < 50
        if was and not self.in_phrase:
            return Detection("hey_jarvis", 0.99, chunk.end_seconds)
        return None

    def reset(self) -> None:
        self.resets += 1
        self.in_phrase = False


class FakeVad:
    def probability(self, samples: np.ndarray) -> float:
        return 0.9 if np.abs(samples).mean() > 500 else 0.05

    def reset(self) -> None:
        pass


@dataclass
class FakeStt:
    texts: list[str]
    heard: list[float] = field(default_factory=list)  # seconds of audio per call

    def transcribe(self, samples: np.ndarray) -> Transcript:
        self.heard.append(len(samples) / SAMPLE_RATE_HZ)
        return Transcript(self.texts.pop(0) if self.texts else "", len(samples) / SAMPLE_RATE_HZ, 0.01)


class FakeLlm:
    """Replies from a script; with `replies=None` it echoes: "You asked: <question>"."""

    def __init__(self, replies: list[str | Exception] | None) -> None:
        self.replies = replies
        self.prompts: list[list[dict]] = []

    def stream(self, messages, *, cancel: threading.Event | None = None):
        self.prompts.append(messages)
        if self.replies is None:
            reply = f"You asked: {messages[-1]['content']}"
        else:
            reply = self.replies.pop(0) if self.replies else "Okay."
        if isinstance(reply, Exception):
            raise reply
        for word in reply.split(" "):
            yield word + " "

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class FakeTts:
    sample_rate_hz = 22050

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def synthesize(self, text: str):
        self.spoken.append(text)
        seconds = 0.05 * len(text.split())
        t = np.arange(int(seconds * self.sample_rate_hz)) / self.sample_rate_hz
        yield (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
