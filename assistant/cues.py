"""Short, soft sounds that tell the user what she is doing without looking: a rising
two-note chime on the wake word, a three-note chime before a timer or reminder, and gentle
single tones when the follow-up window opens and closes. Generated here (a few sine partials
with smooth envelopes), no sound files."""

from __future__ import annotations

import numpy as np

CUE_RATE_HZ = 22050


def _note(freq_hz: float, seconds: float, rate: int = CUE_RATE_HZ) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    tone = np.sin(2 * np.pi * freq_hz * t) + 0.3 * np.sin(2 * np.pi * 2 * freq_hz * t)
    envelope = np.minimum(1.0, t / 0.01) * np.exp(-t / (seconds / 3))  # soft attack, bell-like decay
    return (tone * envelope / 1.3).astype(np.float32)


def wake_chime(volume: float) -> np.ndarray:
    """Two rising notes (E5, A5), 0.16 s."""
    return volume * np.concatenate([_note(659.3, 0.07), _note(880.0, 0.09)])


def follow_up_tone(opening: bool, volume: float) -> np.ndarray:
    """One quiet note: higher when the window opens, lower when it closes."""
    return 0.6 * volume * _note(784.0 if opening else 523.3, 0.08)


def timer_chime(volume: float, rate: int = CUE_RATE_HZ) -> np.ndarray:
    """Three bright falling-then-rising notes (A5, E5, A5), 0.45 s: something is due."""
    return volume * np.concatenate([_note(880.0, 0.12, rate), _note(659.3, 0.12, rate), _note(880.0, 0.21, rate)])
