"""Wake-word detection with openwakeword on ONNX.

Contract: `WakeWord.process(chunk)` takes one 80 ms 16 kHz int16 chunk and returns a
`Detection` at most once per spoken phrase: after a detection the model is `reset()` and
further detections are ignored for `refractory_seconds` (on the input timeline).
Models are given by name (looked up in `wake.model_dir` as `<name>_v0.1.onnx` or
`<name>.onnx`) or by path to a custom `.onnx` file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.audio import AudioChunk
from assistant.errors import MODEL_FIX_HINT, ModelError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Detection:
    model: str
    score: float
    t: float  # end of the chunk that fired, on the input timeline


def resolve_wake_model(name_or_path: str, model_dir: Path) -> Path:
    """Turn a configured wake model (a name like "hey_jarvis" or a path) into an .onnx path."""
    p = Path(name_or_path)
    if p.suffix == ".onnx":
        return p if p.is_absolute() else model_dir / p
    for candidate in (model_dir / f"{name_or_path}_v0.1.onnx", model_dir / f"{name_or_path}.onnx"):
        if candidate.is_file():
            return candidate
    return model_dir / f"{name_or_path}_v0.1.onnx"


def _check_onnx(path: Path, key: str) -> None:
    if not path.is_file():
        raise ModelError(f"Wake model file {path} is missing (config key {key}).", hint=MODEL_FIX_HINT)
    if path.stat().st_size < 1024:
        raise ModelError(f"Wake model file {path} is truncated or empty (config key {key}).", hint=MODEL_FIX_HINT)


class WakeWord:
    """openwakeword with a threshold, a refractory period and a reset after each detection."""

    def __init__(
        self,
        models: list[str],
        model_dir: Path,
        threshold: float = 0.5,
        refractory_seconds: float = 2.0,
        threads: int = 1,
    ) -> None:
        paths = [resolve_wake_model(m, model_dir) for m in models]
        melspec = model_dir / "melspectrogram.onnx"
        embedding = model_dir / "embedding_model.onnx"
        for p in paths:
            _check_onnx(p, "wake.models")
        for p in (melspec, embedding):
            _check_onnx(p, "wake.model_dir")
        from openwakeword.model import Model

        try:
            self._model = Model(
                wakeword_models=[str(p) for p in paths],
                inference_framework="onnx",
                melspec_model_path=str(melspec),
                embedding_model_path=str(embedding),
                ncpu=threads,
            )
        except Exception as exc:
            raise ModelError(f"Wake models {', '.join(map(str, paths))} could not be loaded: {exc}",
                             hint=MODEL_FIX_HINT) from exc
        self.names = list(self._model.models.keys())
        self.threshold = threshold
        self.refractory_seconds = refractory_seconds
        self._last_detection_t = float("-inf")
        self._reset_features: np.ndarray | None = None  # see reset()

    def process(self, chunk: AudioChunk, threshold: float | None = None) -> Detection | None:
        """Feed one chunk; a `Detection` when a wake word scores at least `threshold` (default:
        the configured one). A score under it leaves the model as it is, so the phrase can
        still reach the threshold in the next chunks."""
        scores = self._model.predict(np.asarray(chunk.samples, dtype=np.int16))
        name, score = max(scores.items(), key=lambda kv: kv[1])
        if score < (self.threshold if threshold is None else threshold):
            return None
        if 0.0 <= chunk.end_seconds - self._last_detection_t < self.refractory_seconds:
            log.debug("ignoring %s at %.2f s: within the refractory period", name, chunk.end_seconds)
            return None
        self._last_detection_t = chunk.end_seconds
        self.reset()
        return Detection(name, float(score), chunk.end_seconds)

    def reset(self) -> None:
        """Clear the model's audio buffers so an old phrase cannot fire again.

        Does what openwakeword 0.6.0's `Model.reset()` does, except one step: that refills the
        feature buffer by running the embedding model on 4 s of fresh random noise, which cost
        55 ms of CPU per reset here (on the audio thread, several times per turn, one of them as
        her answer starts while the LLM needs the cores) and made scores differ from one reset
        to the next. The embedding of one fixed noise, computed once, is restored instead."""
        model = self._model
        pre = model.preprocessor
        if self._reset_features is None:
            noise = np.random.default_rng(0).integers(-1000, 1000, 16000 * 4).astype(np.int16)
            self._reset_features = pre._get_embeddings(noise)
        model.prediction_buffer.clear()
        pre.raw_data_buffer.clear()
        pre.melspectrogram_buffer = np.ones((76, 32))
        pre.accumulated_samples = 0
        pre.raw_data_remainder = np.empty(0)
        pre.feature_buffer = self._reset_features.copy()

    def new_session(self) -> None:
        """A new input timeline starts (it counts from 0 again): forget the last detection too,
        or a wake word at about the same time as the last session's would seem a repeat."""
        self.reset()
        self._last_detection_t = float("-inf")
