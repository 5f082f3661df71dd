"""The stage Protocols of the loop and the bundle of loaded stages.

Each stage is a narrow Protocol, so fakes (tests) and other backends drop in; the real
implementations live in wake.py, vad.py, stt.py, llm.py and tts.py and are built by loading.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from assistant.audio import AudioChunk
from assistant.llm import ChatMessage
from assistant.stt import Transcript
from assistant.wake import Detection


class WakeDetector(Protocol):
    def process(self, chunk: AudioChunk, threshold: float | None = None) -> Detection | None: ...
    def reset(self) -> None: ...
    def new_session(self) -> None: ...


class SpeechProbability(Protocol):
    def probability(self, samples: np.ndarray) -> float: ...
    def reset(self) -> None: ...


class Transcriber(Protocol):
    def transcribe(self, samples: np.ndarray, prompt: str | None = None) -> Transcript: ...


class ChatStream(Protocol):
    def stream(self, messages: list[ChatMessage], *, cancel: threading.Event | None = None) -> Iterator[str]: ...


class Synthesizer(Protocol):
    sample_rate_hz: int

    def synthesize(self, text: str) -> Iterator[np.ndarray]: ...


class EchoCanceller(Protocol):
    def process(self, chunk: AudioChunk, far: np.ndarray) -> AudioChunk: ...


@dataclass
class Stages:
    """The models of the loop; `assistant chat` runs without the audio ones (None)."""

    llm: ChatStream
    tts: Synthesizer | None = None
    wake: WakeDetector | None = None
    vad: SpeechProbability | None = None
    stt: Transcriber | None = None
    echo: EchoCanceller | None = None  # None: the microphone is muted while she speaks
    # A second wake detector for the raw microphone while she speaks (see barge_in.RawWake).
    wake_raw: WakeDetector | None = None
