"""Speech-to-text with faster-whisper (CTranslate2, int8, on the CPU).

Contract: `SpeechToText.transcribe(samples)` takes 16 kHz int16 (or float32) audio and
returns a `Transcript`. The lazy segment generator of faster-whisper is consumed inside
the call. Segments that look like Whisper's hallucinations on non-speech (high
`no_speech_prob` with a low average log-probability, known phrases such as "Thank you."
said with low confidence, repeated-token loops) are dropped, so noise yields "".
The model is loaded from a local folder only; there is never a download at run time.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.audio import SAMPLE_RATE_HZ, int16_to_float
from assistant.errors import ModelError, SttError

log = logging.getLogger(__name__)

# Phrases Whisper produces from silence or noise; dropped only when confidence is low too.
KNOWN_HALLUCINATIONS = {
    "thank you", "thanks for watching", "thank you for watching", "you", "bye", "okay",
    "subtitles by the amara.org community", "please subscribe", "so", "uh", "um", "hmm",
}


@dataclass(frozen=True)
class Transcript:
    text: str
    audio_seconds: float
    inference_seconds: float


def collapse_repeats(text: str, max_repeats: int = 3) -> str:
    """Cut loops like "you you you you ..." or a phrase repeated over and over."""
    words = text.split()
    for size in range(1, 6):
        i = 0
        out: list[str] = []
        while i < len(words):
            gram = words[i : i + size]
            reps = 1
            while words[i + reps * size : i + (reps + 1) * size] == gram:
                reps += 1
            keep = min(reps, max_repeats) if reps > max_repeats else reps
            for _ in range(keep):
                out.extend(gram)
            i += reps * size if len(gram) == size else len(gram)
        words = out
    return " ".join(words)


def is_hallucination(text: str, no_speech_prob: float, avg_logprob: float,
                     no_speech_threshold: float = 0.6, min_avg_logprob: float = -1.0) -> bool:
    """True for a segment that is almost certainly not what the user said."""
    if no_speech_prob > no_speech_threshold and avg_logprob < min_avg_logprob:
        return True
    normalized = re.sub(r"[^\w\s.]", "", text.lower()).strip(" .")
    if normalized in KNOWN_HALLUCINATIONS and (no_speech_prob > 0.3 or avg_logprob < -0.7):
        return True
    return not re.search(r"\w", text)


class SpeechToText:
    """faster-whisper tuned for short commands: greedy, no timestamps, no second VAD pass."""

    def __init__(self, model_path: Path, *, language: str | None = "en", beam_size: int = 1,
                 compute_type: str = "int8", threads: int = 2, no_speech_threshold: float = 0.6,
                 min_avg_logprob: float = -1.0) -> None:
        if not (model_path / "model.bin").is_file():
            raise ModelError(
                f"Speech-to-text model folder {model_path} has no model.bin (config key stt.model_path).",
                hint="Run scripts/setup (or `assistant setup-models`) to install the default models.",
            )
        from faster_whisper import WhisperModel

        try:
            self._model = WhisperModel(str(model_path), device="cpu", compute_type=compute_type,
                                       cpu_threads=threads, num_workers=1, local_files_only=True)
        except Exception as exc:
            raise ModelError(f"Speech-to-text model {model_path} could not be loaded: {exc}",
                             hint="Reinstall it with `assistant setup-models --force`.") from exc
        self.language = language
        self.beam_size = beam_size
        self.no_speech_threshold = no_speech_threshold
        self.min_avg_logprob = min_avg_logprob

    def transcribe(self, samples: np.ndarray) -> Transcript:
        audio = int16_to_float(samples) if samples.dtype == np.int16 else samples.astype(np.float32)
        seconds = len(audio) / SAMPLE_RATE_HZ
        if seconds < 0.1:
            return Transcript("", seconds, 0.0)
        started = time.perf_counter()
        try:
            segments, _info = self._model.transcribe(
                audio, language=self.language, beam_size=self.beam_size, best_of=1,
                temperature=0.0, without_timestamps=True, condition_on_previous_text=False,
                vad_filter=False, word_timestamps=False,
            )
            kept = []
            for seg in segments:
                if is_hallucination(seg.text, seg.no_speech_prob, seg.avg_logprob,
                                    self.no_speech_threshold, self.min_avg_logprob):
                    log.debug("dropped segment %r (no_speech %.2f, logprob %.2f)",
                              seg.text, seg.no_speech_prob, seg.avg_logprob)
                    continue
                kept.append(seg.text.strip())
        except Exception as exc:
            raise SttError(f"Speech-to-text failed: {exc}") from exc
        text = collapse_repeats(" ".join(kept).strip())
        return Transcript(text, seconds, time.perf_counter() - started)
