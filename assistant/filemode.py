"""File mode: a recording stands in for the microphone, a WAV file for the speaker.

Both share one `Timeline`, so sample i of the output is the moment of sample i of the input:
the gap between the end of the user's speech and the first reply sample in the output is
the real response latency.

- Real-time (default): chunks are released at wall-clock pace, exactly as a microphone
  delivers them; the timeline is wall time since the start, and playback takes real time.
- Fast (`--fast`): chunks come as fast as the loop takes them. The clock is the input
  position, and it stands still while a turn is being computed (`hold()`), so computing
  costs no input time; while audio plays, input advances in step with it. Deterministic,
  for tests; latency in fast mode is not meaningful.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from assistant.aec import PlaybackReference
from assistant.audio import (
    SAMPLE_RATE_HZ,
    AudioChunk,
    float_to_int16,
    read_audio,
    resample,
    split_chunks,
    write_wav,
)


class Timeline:
    """The shared clock of a file session (see the module docstring)."""

    def __init__(self, fast: bool) -> None:
        self.fast = fast
        self.cond = threading.Condition()
        self.position = 0.0  # seconds of input consumed
        self.play_until = 0.0  # end of the audio queued for playing
        self.held = False
        self.finished = False  # no more input: waits for input time return at once
        self._t0: float | None = None

    def start(self) -> None:
        if self._t0 is None:
            self._t0 = time.monotonic()

    def now(self) -> float:
        if self.fast:
            return self.position
        return 0.0 if self._t0 is None else time.monotonic() - self._t0

    def wall_at(self, t: float) -> float:
        """The monotonic time at which timeline moment `t` happens (real-time mode)."""
        assert self._t0 is not None
        return self._t0 + t


class FileSource:
    """A WAV/FLAC/... file (any rate, mono or stereo) fed as 80 ms chunks.

    `echo_from(speaker, delay, gain)` simulates a speaker and microphone on the same desk:
    what the speaker plays is mixed back into the input with that delay and attenuation."""

    def __init__(self, path: Path, timeline: Timeline) -> None:
        audio, self.rate_hz = read_audio(path)
        self.samples = float_to_int16(resample(audio, self.rate_hz, SAMPLE_RATE_HZ))
        self.duration_seconds = len(self.samples) / SAMPLE_RATE_HZ
        self.timeline = timeline
        self._closed = threading.Event()
        self._echo: tuple[FileSpeaker, float, float] | None = None

    def echo_from(self, speaker: FileSpeaker, delay_seconds: float, gain_db: float) -> None:
        self._echo = (speaker, delay_seconds, 10 ** (gain_db / 20))

    def _with_echo(self, chunk: AudioChunk) -> AudioChunk:
        if self._echo is None:
            return chunk
        speaker, delay, gain = self._echo
        leak = speaker.rendered_16k(chunk.start_seconds - delay, len(chunk.samples)).astype(np.float32) * gain
        mixed = np.clip(chunk.samples.astype(np.float32) + leak, -32768, 32767).astype(np.int16)
        return AudioChunk(mixed, chunk.start_seconds)

    def chunks(self) -> Iterator[AudioChunk]:
        tl = self.timeline
        tl.start()
        try:
            for chunk in split_chunks(self.samples):
                if self._closed.is_set():
                    return
                if tl.fast:
                    with tl.cond:
                        tl.cond.wait_for(lambda: self._closed.is_set() or not tl.held
                                         or tl.play_until > tl.position + 1e-9)
                        tl.position = chunk.end_seconds
                        tl.cond.notify_all()
                else:
                    delay = tl.wall_at(chunk.end_seconds) - time.monotonic()
                    if delay > 0 and self._closed.wait(delay):
                        return
                    with tl.cond:
                        tl.position = chunk.end_seconds
                yield self._with_echo(chunk)
        finally:
            with tl.cond:
                tl.finished = True
                tl.cond.notify_all()

    def now(self) -> float:
        return self.timeline.now()

    def hold(self) -> None:
        with self.timeline.cond:
            self.timeline.held = True

    def release(self) -> None:
        with self.timeline.cond:
            self.timeline.held = False
            self.timeline.cond.notify_all()

    def close(self) -> None:
        self._closed.set()
        with self.timeline.cond:
            self.timeline.cond.notify_all()


class FileSpeaker:
    """Collects what the speaker would play, placed on the input's timeline."""

    # Real devices buffer ahead; hand over the next block this long before the current one ends.
    LEAD_SECONDS = 0.05

    def __init__(self, path: Path | None, timeline: Timeline, rate_hz: int, min_seconds: float) -> None:
        self.path = path  # None: place the audio on the timeline but keep no recording (long runs)
        self.timeline = timeline
        self.rate_hz = rate_hz
        self.min_seconds = min_seconds
        self._segments: list[tuple[int, np.ndarray]] = []  # at rate_hz, for the output file
        self._sound = PlaybackReference()  # the same at 16 kHz, for echo simulation
        self._end = 0.0
        self._lock = threading.Lock()  # the reply and a cue may play from different threads

    def play(self, audio: np.ndarray, rate_hz: int, cancel: threading.Event,
             on_start: Callable[[float], None] | None = None, at: float | None = None) -> float:
        tl = self.timeline
        block = resample(audio, rate_hz, self.rate_hz)
        with self._lock:
            start = max(tl.now() if at is None else at, self._end)
            end = self._end = start + len(block) / self.rate_hz
            if self.path is not None:
                self._segments.append((round(start * self.rate_hz), float_to_int16(block)))
            self._sound.add(start, audio, rate_hz)
        if on_start is not None:
            on_start(start)
        with tl.cond:
            tl.play_until = max(tl.play_until, end)
            tl.cond.notify_all()
            if tl.fast:
                tl.cond.wait_for(lambda: cancel.is_set() or tl.finished or tl.position >= end - 1e-9)
        if not tl.fast:
            cancel.wait(max(0.0, tl.wall_at(end - self.LEAD_SECONDS) - time.monotonic()))
        if cancel.is_set():
            self.stop_at(tl.now())
        return start

    def stop_at(self, t: float) -> None:
        """Playback was stopped at t: nothing after it is heard."""
        with self._lock:
            cut = round(t * self.rate_hz)
            self._segments = [(s, b[: max(0, cut - s)]) for s, b in self._segments if s < cut]
            self._sound.cut(t)
            self._end = min(self._end, max(t, 0.0))
        with self.timeline.cond:
            self.timeline.play_until = min(self.timeline.play_until, max(t, self.timeline.position))
            self.timeline.cond.notify_all()

    def rendered_16k(self, t: float, n: int) -> np.ndarray:
        """What the speaker sounds like from t for n samples, at 16 kHz (zeros where silent)."""
        return self._sound.window(t, n)

    def close(self) -> None:
        if self.path is None:
            return
        total = max(round(self.min_seconds * self.rate_hz), *(s + len(b) for s, b in self._segments), 0)
        out = np.zeros(total, dtype=np.int16)
        for start, block in self._segments:
            out[start : start + len(block)] = block
        write_wav(self.path, out, self.rate_hz)
