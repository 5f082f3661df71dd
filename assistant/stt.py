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
from assistant.errors import MODEL_FIX_HINT, ModelError, SttError

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
    """faster-whisper tuned for short commands: greedy, no timestamps, no second VAD pass.

    Whisper's encoder normally runs on a 30 s window whatever the length of the audio; for a
    2 s command that window is most of the cost. With `window_seconds` < 30 the encoder runs
    on max(window_seconds, audio + 1 s) instead (CTranslate2 accepts shorter inputs), which
    measured 0.14 s instead of 0.35 s per command here with no loss of accuracy at 15 s
    (README, "Speech-to-text window"). Shorter windows make Whisper's decoder drift, so the
    output length is capped by the audio length, and a result that looks like a loop is
    decoded again on the full 30 s window.
    """

    def __init__(self, model_path: Path, *, language: str | None = "en", beam_size: int = 1,
                 compute_type: str = "int8", threads: int = 1, no_speech_threshold: float = 0.6,
                 min_avg_logprob: float = -1.0, window_seconds: float = 15.0) -> None:
        if not (model_path / "model.bin").is_file():
            raise ModelError(
                f"Speech-to-text model folder {model_path} has no model.bin (config key stt.model_path).",
                hint=MODEL_FIX_HINT,
            )
        from faster_whisper import WhisperModel

        try:
            self._model = WhisperModel(str(model_path), device="cpu", compute_type=compute_type,
                                       cpu_threads=threads, num_workers=1, local_files_only=True)
        except Exception as exc:
            raise ModelError(f"Speech-to-text model {model_path} could not be loaded: {exc}",
                             hint=MODEL_FIX_HINT) from exc
        from faster_whisper.tokenizer import Tokenizer

        self.language = language
        self.window_seconds = window_seconds
        self._tokenizer = Tokenizer(self._model.hf_tokenizer, self._model.model.is_multilingual,
                                    task="transcribe", language=language or "en")
        self.beam_size = beam_size
        self.no_speech_threshold = no_speech_threshold
        self.min_avg_logprob = min_avg_logprob

    def transcribe(self, samples: np.ndarray, prompt: str | None = None) -> Transcript:
        """`prompt`: words that are likely (Whisper's "previous text"), e.g. the stop phrases
        while she speaks; it biases recognition towards them."""
        audio = int16_to_float(samples) if samples.dtype == np.int16 else samples.astype(np.float32)
        seconds = len(audio) / SAMPLE_RATE_HZ
        if seconds < 0.1:
            return Transcript("", seconds, 0.0)
        started = time.perf_counter()
        try:
            window = max(self.window_seconds, seconds + 1.0)
            if window < 30.0:
                text, looped = self._short_window(audio, window, prompt)
                if looped:
                    log.debug("short-window result looked like a loop; decoding on the full window")
                    text = self._full_window(audio, prompt)
            else:
                text = self._full_window(audio, prompt)
        except Exception as exc:
            raise SttError(f"Speech-to-text failed: {exc}") from exc
        return Transcript(text, seconds, time.perf_counter() - started)

    def _keep(self, text: str, no_speech_prob: float, avg_logprob: float) -> bool:
        if is_hallucination(text, no_speech_prob, avg_logprob, self.no_speech_threshold, self.min_avg_logprob):
            log.debug("dropped %r (no_speech %.2f, logprob %.2f)", text, no_speech_prob, avg_logprob)
            return False
        return True

    def _full_window(self, audio: np.ndarray, prompt: str | None = None) -> str:
        """faster-whisper's standard path (30 s windows, any length)."""
        segments, _info = self._model.transcribe(
            audio, language=self.language, beam_size=self.beam_size, best_of=1, temperature=0.0, initial_prompt=prompt,
            without_timestamps=True, condition_on_previous_text=False, vad_filter=False, word_timestamps=False,
        )
        kept = [seg.text.strip() for seg in segments if self._keep(seg.text, seg.no_speech_prob, seg.avg_logprob)]
        return collapse_repeats(" ".join(kept).strip())

    def _short_window(self, audio: np.ndarray, window_seconds: float, prompt: str | None = None) -> tuple[str, bool]:
        """One greedy decode with the encoder on a `window_seconds` window; (text, looks_like_a_loop)."""
        import ctranslate2

        frames = int(window_seconds * 100)  # 10 ms hop
        features = self._model.feature_extractor(audio, padding=frames * 160)[:, :frames]
        if features.shape[1] < frames:
            features = np.pad(features, ((0, 0), (0, frames - features.shape[1])))
        encoded = ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None], dtype=np.float32))
        previous = [self._tokenizer.sot_prev, *self._tokenizer.encode(" " + prompt.strip())[-100:]] if prompt else []
        prompt_tokens = [*previous, *self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
        # About 3 tokens a second of speech; a cap stops a drifting decoder early. CTranslate2
        # counts the prompt in max_length.
        max_tokens = int(len(audio) / SAMPLE_RATE_HZ * 6) + 8
        result = self._model.model.generate(encoded, [prompt_tokens], beam_size=self.beam_size,
                                            max_length=max_tokens + len(prompt_tokens), return_scores=True,
                                            return_no_speech_prob=True, suppress_blank=True)[0]
        tokens = [t for t in result.sequences_ids[0] if t < self._tokenizer.eot]
        text = self._tokenizer.decode(tokens).strip()
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -10.0
        if not self._keep(text, result.no_speech_prob, avg_logprob):
            return "", False
        collapsed = collapse_repeats(text)
        looped = collapsed != text or len(tokens) >= max_tokens - 1
        return collapsed, looped
