"""Echo handling: what the speaker plays is the reference for an acoustic echo canceller
(WebRTC AEC3 through `pywebrtc-audio`) that removes her own voice from the microphone, so
she can listen while she talks (barge-in) without hearing herself.

Chosen over speexdsp and livekit's APM wrapper because it is a small self-contained wheel
(0.4 MB) and measured here 18-27 dB of echo reduction (ERLE) for 20-60 ms echo paths at
-10 to -20 dB, at about 0.7 % of one core (README, "Echo cancellation").

Contract: `PlaybackReference.add(start_t, audio, rate)` records audio as it starts to play,
on the input timeline; `window(t, n)` returns the n samples (16 kHz int16) that were playing
from t; `cut(t)` forgets what was queued after an interruption.

The echo must come after its reference: AEC3 cancels an echo 0-400 ms behind it (measured on
a pure delay: 62 dB) but hardly one that comes first (10 ms early: 9 dB; 20 ms: 4 dB). A real
speaker's start time is an estimate (now + the reported output latency; PulseAudio here: the
echo landed 6 ms early after a quiet spell, 34 ms late while audio was queued), so a speaker
may ask for a `lead_seconds`: its audio is placed that much earlier in the reference.
`EchoCanceller.process` takes a microphone chunk and returns it with the echo of the reference removed.
"""

from __future__ import annotations

import threading

import numpy as np

from assistant.audio import SAMPLE_RATE_HZ, AudioChunk, float_to_int16, resample


class PlaybackReference:
    """What the speaker played, at 16 kHz, for the last `keep_seconds` of the timeline."""

    def __init__(self, lead_seconds: float = 0.0, keep_seconds: float = 60.0) -> None:
        self.lead_seconds = lead_seconds
        self.keep_seconds = keep_seconds
        self._segments: list[tuple[int, np.ndarray]] = []  # (start sample, int16)
        self._lock = threading.Lock()

    def add(self, start_t: float, audio: np.ndarray, rate_hz: int) -> None:
        block = float_to_int16(resample(audio, rate_hz, SAMPLE_RATE_HZ))
        start = round((start_t - self.lead_seconds) * SAMPLE_RATE_HZ)
        with self._lock:
            self._segments.append((start, block))
            horizon = start - int(self.keep_seconds * SAMPLE_RATE_HZ)
            self._segments = [(s, b) for s, b in self._segments if s + len(b) > horizon]

    def cut(self, t: float) -> None:
        """Playback stopped at t: drop what would have played after it."""
        cut = round((t - self.lead_seconds) * SAMPLE_RATE_HZ)
        with self._lock:
            self._segments = [(s, b[: max(0, cut - s)]) for s, b in self._segments if s < cut]

    def window(self, t: float, n: int) -> np.ndarray:
        start = round(t * SAMPLE_RATE_HZ)
        out = np.zeros(n, dtype=np.int16)
        with self._lock:
            for s, b in self._segments:
                lo, hi = max(start, s), min(start + n, s + len(b))
                if lo < hi:
                    out[lo - start: hi - start] = b[lo - s: hi - s]
        return out


class EchoCanceller:
    """WebRTC AEC3 on 80 ms chunks (it works internally on 10 ms frames)."""

    def __init__(self, delay_hint_ms: int = 0) -> None:
        from pywebrtc_audio import EchoCanceller as Aec3

        self._aec = Aec3(sample_rate=SAMPLE_RATE_HZ, num_channels=1, stream_delay_ms=delay_hint_ms)

    def process(self, chunk: AudioChunk, far: np.ndarray) -> AudioChunk:
        clean = self._aec.process(np.ascontiguousarray(chunk.samples, dtype=np.int16),
                                  np.ascontiguousarray(far, dtype=np.int16))
        return AudioChunk(np.asarray(clean, dtype=np.int16), chunk.start_seconds)
