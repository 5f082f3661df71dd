"""End of the user's speech: a pure segmenter fed by a speech probability, plus the
Silero VAD model that produces that probability.

`EndOfSpeech` is plain arithmetic over (chunk_seconds, is_speech) so it is tested without
audio; `SileroVad` wraps openwakeword's Silero VAD (ONNX, stateful, one thread).
"""

from __future__ import annotations

import enum
from pathlib import Path

import numpy as np

from assistant.errors import MODEL_FIX_HINT, ModelError


class Segment(enum.Enum):
    CONTINUE = "continue"  # keep listening
    END = "end"  # speech, then `silence_seconds` of silence
    NO_SPEECH = "no_speech"  # nothing said within the timeout
    MAX_LENGTH = "max_length"  # the utterance hit its length cap


class EndOfSpeech:
    """Decides when an utterance is over.

    Contract: call `process(chunk_seconds, is_speech)` for each chunk after the wake word.
    Speech counts as started after `min_speech_seconds` of speech; it ends after
    `silence_seconds` of silence (or `hesitation_silence_seconds` while `hesitating` is set,
    e.g. the words so far end in "and" or a comma). `NO_SPEECH` if nothing starts within
    `no_speech_timeout_seconds`; `MAX_LENGTH` at `max_utterance_seconds`.
    """

    def __init__(
        self,
        silence_seconds: float = 0.5,
        no_speech_timeout_seconds: float = 5.0,
        max_utterance_seconds: float = 15.0,
        min_speech_seconds: float = 0.15,
        hesitation_silence_seconds: float = 1.0,
    ) -> None:
        self.silence_seconds = silence_seconds
        self.no_speech_timeout_seconds = no_speech_timeout_seconds
        self.max_utterance_seconds = max_utterance_seconds
        self.min_speech_seconds = min_speech_seconds
        self.hesitation_silence_seconds = hesitation_silence_seconds
        self.hesitating = False
        self.elapsed = 0.0
        self.speech_seconds = 0.0
        self.silence_run = 0.0
        self.last_speech_end = 0.0  # seconds since the start, at the end of the last speech chunk

    def restart(self) -> None:
        """Forget the speech so far (it was the end of the wake phrase), keep the clock."""
        self.speech_seconds = 0.0
        self.hesitating = False

    @property
    def started(self) -> bool:
        return self.speech_seconds >= self.min_speech_seconds

    def process(self, chunk_seconds: float, is_speech: bool) -> Segment:
        self.elapsed += chunk_seconds
        if is_speech:
            self.speech_seconds += chunk_seconds
            self.silence_run = 0.0
            self.last_speech_end = self.elapsed
        else:
            self.silence_run += chunk_seconds
        if self.elapsed >= self.max_utterance_seconds:
            return Segment.MAX_LENGTH if self.started else Segment.NO_SPEECH
        if not self.started:
            if self.elapsed >= self.no_speech_timeout_seconds:
                return Segment.NO_SPEECH
            return Segment.CONTINUE
        needed = self.hesitation_silence_seconds if self.hesitating else self.silence_seconds
        # 1e-9: float sums of 0.08 must not miss the boundary by a rounding error.
        return Segment.END if self.silence_run + 1e-9 >= needed else Segment.CONTINUE


class SileroVad:
    """Speech probability per 80 ms chunk from Silero VAD (via openwakeword's wrapper)."""

    def __init__(self, model_path: Path, threads: int = 1) -> None:
        if not model_path.is_file():
            raise ModelError(
                f"VAD model {model_path} is missing (config key listen.vad_model_path).",
                hint=MODEL_FIX_HINT,
            )
        from openwakeword.vad import VAD

        try:
            self._vad = VAD(model_path=str(model_path), n_threads=threads)
        except Exception as exc:
            raise ModelError(f"VAD model {model_path} could not be loaded: {exc}", hint=MODEL_FIX_HINT) from exc

    def probability(self, samples: np.ndarray) -> float:
        """Mean speech probability of a 16 kHz int16 chunk (a multiple of 640 samples)."""
        return float(self._vad.predict(samples, frame_size=640))

    def reset(self) -> None:
        self._vad.reset_states()
