"""Build the stages from the config: load every model once, warm each with a dummy
inference, and set every library's thread count explicitly (on 2 cores, oversubscribed
threads collapse throughput). Also puts the model libraries in offline mode.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

import numpy as np

from assistant.config import Config

log = logging.getLogger(__name__)


def offline_mode() -> None:
    """Model libraries must never try a hub or send telemetry at run time. Must run before
    onnxruntime is imported: onnxruntime (1.2x-1.32 on Linux) starts Microsoft's 1DS telemetry
    at import and looks up its collector's address (seen with strace as DNS queries), unless
    ORT_DISABLE_TELEMETRY is set first."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"


def load_wake(config: Config):
    from assistant.wake import WakeWord

    c = config.wake
    return WakeWord(c.models, config.path(c.model_dir), c.threshold, c.refractory_seconds, c.threads)


def load_vad(config: Config):
    from assistant.vad import SileroVad

    return SileroVad(config.path(config.listen.vad_model_path))


def load_stt(config: Config):
    from assistant.stt import SpeechToText

    c = config.stt
    return SpeechToText(config.path(c.model_path), language=c.language, beam_size=c.beam_size,
                        compute_type=c.compute_type, threads=c.threads,
                        no_speech_threshold=c.no_speech_threshold, min_avg_logprob=c.min_avg_logprob,
                        window_seconds=c.window_seconds)


def load_llm(config: Config):
    c = config.llm
    if c.backend == "openai":
        return load_server_llm(config)
    return load_local_llm(config)


def load_server_llm(config: Config):
    """An OpenAI-compatible server, checked now (not at the first question)."""
    from assistant.errors import LlmError
    from assistant.llm_openai import FallbackChat, OpenAIChat, is_local

    c = config.llm
    server = OpenAIChat(c.base_url, c.model, api_key_env=c.api_key_env, max_reply_tokens=c.max_reply_tokens,
                        temperature=c.temperature, top_p=c.top_p, timeout_seconds=c.timeout_seconds)
    if not is_local(c.base_url):
        log.warning("llm.base_url is %s: what you say is sent there as text.", c.base_url)
    try:
        server.check()
    except LlmError as exc:
        if not c.fallback_to_local:
            raise
        log.warning("%s Using the local model until it answers.", exc.message)
    return FallbackChat(server, load_local_llm(config)) if c.fallback_to_local else server


def load_local_llm(config: Config):
    from assistant.llm import LlamaChat

    c = config.llm
    return LlamaChat(config.path(c.model_path), context_tokens=c.context_tokens, threads=c.threads,
                     max_reply_tokens=c.max_reply_tokens, temperature=c.temperature, top_p=c.top_p,
                     timeout_seconds=c.timeout_seconds, seed=c.seed)


def load_tts(config: Config):
    from assistant.tts import TextToSpeech

    c = config.tts
    return TextToSpeech(config.path(c.voice_path), threads=c.threads, length_scale=c.length_scale,
                        volume=config.audio.volume)


def load_echo(config: Config):
    """The echo canceller, or None when it is off (then the mic is muted while she speaks)."""
    if not config.echo.cancellation:
        return None
    try:
        from assistant.aec import EchoCanceller

        return EchoCanceller(config.echo.delay_hint_ms)
    except ImportError:
        log.warning("pywebrtc-audio is not installed: the microphone is muted while she speaks "
                    "(no barge-in). Install it with: .venv/bin/pip install pywebrtc-audio")
        return None


LOADERS: dict[str, Callable[[Config], object]] = {
    "wake": load_wake, "vad": load_vad, "stt": load_stt, "llm": load_llm, "tts": load_tts, "echo": load_echo,
}


def load_stages(config: Config, roles: tuple[str, ...] = ("wake", "vad", "stt", "llm", "tts", "echo"),
                progress: Callable[[str], None] = lambda s: None, prefix: list | None = None):
    """Load and warm the given roles; raises the first `ModelError` (each names file and key)."""
    from assistant.audio import CHUNK_SAMPLES, AudioChunk
    from assistant.pipeline import Stages

    offline_mode()
    loaded: dict[str, object] = {}
    for role in roles:
        started = time.perf_counter()
        loaded[role] = LOADERS[role](config)
        progress(f"loaded {role} in {time.perf_counter() - started:.1f} s")
    if "wake" in loaded and loaded.get("echo") is not None and config.barge_in.enabled:
        # Her voice is cancelled from what the wake model hears, but so is part of the user's
        # when both talk: a second detector on the raw microphone (barge_in.RawWake).
        loaded["wake_raw"] = load_wake(config)
    # Warm-up: the first inference of each library allocates and is slow; do it now, not per turn.
    started = time.perf_counter()
    silence = np.zeros(CHUNK_SAMPLES, dtype=np.int16)
    for wake in (loaded[r] for r in ("wake", "wake_raw") if r in loaded):
        for i in range(3):
            wake.process(AudioChunk(silence, i * 0.08))
        wake.reset()
    if "vad" in loaded:
        loaded["vad"].probability(silence)
        loaded["vad"].reset()
    if "stt" in loaded:
        loaded["stt"].transcribe(np.zeros(16000, dtype=np.int16))
    if "tts" in loaded:
        loaded["tts"].synthesize_all("Hello.")
    if "llm" in loaded and prefix:
        # Evaluates the persona and its examples once, so the first turn only pays for its own words.
        for _ in loaded["llm"].stream([*prefix, {"role": "user", "content": "Hi"}], max_tokens=1):
            pass
    progress(f"warmed up in {time.perf_counter() - started:.1f} s")
    return Stages(**loaded)
