"""The one audio type and the conversions at the edges.

Inside the program, microphone audio is always 16 kHz mono int16 in 80 ms chunks
(`AudioChunk`, 1280 samples), which is what openwakeword, Silero VAD and Whisper expect.
Conversions (sample rate, channels, dtype) happen only where audio enters or leaves.
Resampling uses soxr rather than hand-written interpolation: it is fast and band-limited.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

SAMPLE_RATE_HZ = 16_000
CHUNK_SAMPLES = 1280  # 80 ms at 16 kHz
CHUNK_SECONDS = CHUNK_SAMPLES / SAMPLE_RATE_HZ


@dataclass(frozen=True)
class AudioChunk:
    """80 ms of 16 kHz mono int16 audio; `start_seconds` is its start on the input timeline."""

    samples: np.ndarray
    start_seconds: float

    @property
    def end_seconds(self) -> float:
        return self.start_seconds + len(self.samples) / SAMPLE_RATE_HZ


def to_mono_float(audio: np.ndarray) -> np.ndarray:
    """Any (frames,) or (frames, channels) int/float array -> mono float32 in [-1, 1]."""
    a = np.asarray(audio)
    if a.dtype.kind == "i":
        a = a.astype(np.float32) / float(np.iinfo(a.dtype).max + 1)
    elif a.dtype.kind == "u":
        a = (a.astype(np.float32) - 128.0) / 128.0
    else:
        a = a.astype(np.float32, copy=False)
    if a.ndim == 2:
        a = a.mean(axis=1)
    return np.ascontiguousarray(a, dtype=np.float32)


def resample(audio: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Resample float32 mono audio; identity when the rates match."""
    if from_hz == to_hz or len(audio) == 0:
        return audio.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(audio.astype(np.float32, copy=False), from_hz, to_hz).astype(np.float32)


def float_to_int16(audio: np.ndarray) -> np.ndarray:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


def int16_to_float(audio: np.ndarray) -> np.ndarray:
    return audio.astype(np.float32) / 32768.0


def read_audio(path: Path | str) -> tuple[np.ndarray, int]:
    """Read any file libsndfile understands; returns (mono float32, original rate)."""
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=False)
    return to_mono_float(data), int(rate)


def read_audio_16k(path: Path | str) -> np.ndarray:
    """Read a file as 16 kHz mono int16, the program's internal format."""
    audio, rate = read_audio(path)
    return float_to_int16(resample(audio, rate, SAMPLE_RATE_HZ))


def write_wav(path: Path | str, audio: np.ndarray, rate_hz: int) -> None:
    """Write mono audio (float or int16) as 16-bit PCM WAV."""
    import soundfile as sf

    if audio.dtype != np.int16:
        audio = float_to_int16(audio)
    sf.write(str(path), audio, rate_hz, subtype="PCM_16")


def split_chunks(samples: np.ndarray, start_seconds: float = 0.0) -> list[AudioChunk]:
    """Cut 16 kHz int16 audio into 80 ms chunks (the last one zero-padded)."""
    chunks = []
    for i in range(0, len(samples), CHUNK_SAMPLES):
        block = samples[i : i + CHUNK_SAMPLES]
        if len(block) < CHUNK_SAMPLES:
            block = np.pad(block, (0, CHUNK_SAMPLES - len(block)))
        chunks.append(AudioChunk(block, start_seconds + i / SAMPLE_RATE_HZ))
    return chunks


def rms_dbfs(audio: np.ndarray) -> float:
    """Loudness of a float or int16 block in dBFS (-120 for silence)."""
    a = int16_to_float(audio) if audio.dtype == np.int16 else audio
    if len(a) == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(a, dtype=np.float64))))
    return 20.0 * np.log10(max(rms, 1e-6))


class PreRoll:
    """Ring buffer of the most recent chunks, so speech right after the wake word is kept."""

    def __init__(self, seconds: float) -> None:
        self._chunks: deque[AudioChunk] = deque(maxlen=max(0, round(seconds / CHUNK_SECONDS)))

    def append(self, chunk: AudioChunk) -> None:
        if self._chunks.maxlen:
            self._chunks.append(chunk)

    def drain(self) -> list[AudioChunk]:
        chunks = list(self._chunks)
        self._chunks.clear()
        return chunks


class AudioSource(Protocol):
    """Where microphone audio comes from: a real device or a file standing in for one."""

    def chunks(self) -> Iterator[AudioChunk]:
        """Yield 80 ms chunks in order until the source ends or is closed."""
        ...

    def now(self) -> float:
        """The current moment, in seconds on the input timeline."""
        ...

    def hold(self) -> None:
        """A turn is being computed: a simulated (fast) source pauses its clock. No-op for devices."""
        ...

    def release(self) -> None:
        ...

    def close(self) -> None:
        ...


class Speaker(Protocol):
    """Where Samantha's voice goes: a real device or the output file's timeline."""

    def play(self, audio: np.ndarray, rate_hz: int, cancel: threading.Event,
             on_start: Callable[[float], None] | None = None, at: float | None = None) -> float:
        """Play float32 mono audio, blocking about as long as it takes to be heard; returns
        the input-timeline time at which it starts to sound, also given to `on_start`
        before blocking. `at`: the moment it was asked for (a simulated clock may have moved
        on since; real devices play now)."""
        ...

    def close(self) -> None:
        ...


class NullSpeaker:
    """Plays nothing (file mode without --output, chat without --speak, the soak's idle phase),
    but on the clock, so the loop still goes through "speaking" and reports when each reply
    would have sounded."""

    def __init__(self, clock: Callable[[], float] = lambda: 0.0) -> None:
        self.clock = clock

    def play(self, audio: np.ndarray, rate_hz: int, cancel: threading.Event,
             on_start: Callable[[float], None] | None = None, at: float | None = None) -> float:
        start = self.clock() if at is None else at
        if on_start is not None:
            on_start(start)
        return start

    def close(self) -> None:
        pass
