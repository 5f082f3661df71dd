"""Fakes that implement the stage Protocols, for the loop tier. Audio is synthetic: a loud
1 kHz tone (RMS about WAKE_RMS) is "the wake word", a softer 300 Hz tone is "speech".
Tones, not constant levels, because the echo canceller's high-pass filter removes DC."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from assistant.audio import SAMPLE_RATE_HZ, AudioChunk, write_wav
from assistant.stt import Transcript
from assistant.wake import Detection

TONES = {"wake": (1000.0, 3000.0), "speech": (300.0, 1000.0), "stop": (500.0, 1000.0), "silence": (0.0, 0.0),
         "soft": (300.0, 250.0)}  # a soft last sound: 12 dB under speech, below FakeVad's threshold
WAKE_RMS = 3000.0 / np.sqrt(2)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def session_wav(path, parts: list[tuple[str, float]]) -> None:
    """Write a 16 kHz WAV from ("wake"|"speech"|"soft"|"silence", seconds) parts."""
    pieces = []
    for kind, seconds in parts:
        freq, amplitude = TONES[kind]
        t = np.arange(int(seconds * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
        pieces.append((amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16))
    write_wav(path, np.concatenate(pieces), SAMPLE_RATE_HZ)


class FakeWake:
    """Fires on the first chunk after a wake tone, as a real model fires as the phrase ends."""

    def __init__(self) -> None:
        self.resets = 0
        self.in_phrase = False
        self.cut = False

    def process(self, chunk: AudioChunk, threshold: float | None = None) -> Detection | None:
        was, self.in_phrase = self.in_phrase, abs(rms(chunk.samples) - WAKE_RMS) < 0.15 * WAKE_RMS
        if self.cut and self.in_phrase:  # the real model's buffer was cleared mid-phrase
            self.in_phrase = False
            return None
        self.cut = False
        if was and not self.in_phrase:
            return Detection("hey_jarvis", 0.99, chunk.end_seconds)
        return None

    def reset(self) -> None:
        """Like the real model: a phrase under way is forgotten; only the next one can fire."""
        self.resets += 1
        self.cut = self.in_phrase
        self.in_phrase = False

    def new_session(self) -> None:
        self.in_phrase = self.cut = False


class RisingFakeWake(FakeWake):
    """Scores like the real model: 0.6 on the chunk after the phrase, 0.95 on the next; a
    score under the threshold is no detection and leaves the phrase pending."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[float] = []

    def process(self, chunk: AudioChunk, threshold: float | None = None) -> Detection | None:
        if super().process(chunk) is not None:
            self.pending = [0.6, 0.95]
        if not self.pending:
            return None
        score = self.pending.pop(0)
        if score < (0.5 if threshold is None else threshold):
            return None
        self.reset()
        return Detection("hey_jarvis", score, chunk.end_seconds)

    def reset(self) -> None:
        super().reset()
        self.pending = []


class FakeVad:
    def probability(self, samples: np.ndarray) -> float:
        return 0.9 if rms(samples) > 300 else 0.05

    def reset(self) -> None:
        pass


def band_share(samples: np.ndarray, hz: float) -> float:
    """Share of the energy within 30 Hz of `hz`."""
    if not len(samples):
        return 0.0
    power = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE_HZ)
    return float(power[np.abs(freqs - hz) < 30].sum() / max(power.sum(), 1e-9))


@dataclass
class FakeStt:
    """Pops scripted texts for requests; audio that is mostly the 500 Hz "stop" tone says "Stop."."""

    texts: list[str]
    heard: list[float] = field(default_factory=list)  # seconds of audio per request transcribed

    def transcribe(self, samples: np.ndarray, prompt: str | None = None) -> Transcript:
        seconds = len(samples) / SAMPLE_RATE_HZ
        if band_share(samples, 500.0) > 0.5:
            return Transcript("Stop.", seconds, 0.01)
        if band_share(samples, 300.0) < 0.05:
            return Transcript("", seconds, 0.01)  # no speech tone: nothing said
        if threading.current_thread().name != "turn":  # listening for a stop phrase: peek, do not consume
            return Transcript(self.texts[0] if self.texts else "", seconds, 0.01)
        self.heard.append(seconds)
        return Transcript(self.texts.pop(0) if self.texts else "", seconds, 0.01)


class FakeLlm:
    """Replies from a script; with `replies=None` it counts the words: "That was a 6 word question."
    (not an echo of the question: the reply guard would rightly stop a parrot)."""

    def __init__(self, replies: list[str | Exception] | None) -> None:
        self.replies = replies
        self.prompts: list[list[dict]] = []

    def stream(self, messages, *, cancel: threading.Event | None = None):
        self.prompts.append(messages)
        if self.replies is None:
            reply = f"That was a {len(messages[-1]['content'].split())} word question."
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


class PassThroughEcho:
    """An echo canceller for sessions without echo: passes the microphone through. (The real
    AEC3 suppresses pure test tones during playback, which no voice would be; it is tested
    on real speech in the real-model tier.)"""

    def process(self, chunk: AudioChunk, far: np.ndarray) -> AudioChunk:
        return chunk
