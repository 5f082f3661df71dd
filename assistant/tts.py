"""Text-to-speech with a piper voice (ONNX, on the CPU).

Contract: `TextToSpeech.synthesize(text)` yields float32 mono audio blocks at
`sample_rate_hz` for already-cleaned text; empty text yields nothing. The ONNX session is
created here (not by `PiperVoice.load`) so its thread count can be set: on 2 cores the
voice must not fight the LLM for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from assistant.errors import MODEL_FIX_HINT, ModelError, TtsError


class TextToSpeech:
    def __init__(self, voice_path: Path, *, threads: int = 1, length_scale: float = 1.0,
                 volume: float = 1.0) -> None:
        config_path = Path(f"{voice_path}.json")
        for p in (voice_path, config_path):
            if not p.is_file():
                raise ModelError(f"Voice file {p} is missing (config key tts.voice_path).", hint=MODEL_FIX_HINT)
        import onnxruntime
        from piper.config import PiperConfig, SynthesisConfig
        from piper.voice import PiperVoice

        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            # Every sentence has a new input length, and onnxruntime's CPU memory arena keeps the
            # largest blocks each length needed: measured over 300 varied sentences, resident
            # memory grew 154 -> 444 MB with the arena and stayed at 150-175 MB without it.
            options.enable_cpu_mem_arena = False
            session = onnxruntime.InferenceSession(str(voice_path), sess_options=options,
                                                   providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(f"Voice {voice_path} could not be loaded: {exc}", hint=MODEL_FIX_HINT) from exc
        self._voice = PiperVoice(session=session, config=config)
        self._syn = SynthesisConfig(length_scale=length_scale, volume=volume)
        self.sample_rate_hz = int(config.sample_rate)

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        if not text.strip():
            return
        try:
            for chunk in self._voice.synthesize(text, self._syn):
                yield chunk.audio_float_array.astype(np.float32, copy=False)
        except Exception as exc:
            raise TtsError(f"Speech synthesis failed for {text[:40]!r}: {exc}") from exc

    def synthesize_all(self, text: str) -> np.ndarray:
        blocks = list(self.synthesize(text))
        return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
