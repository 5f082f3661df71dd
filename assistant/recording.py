"""Opt-in debug recording (`privacy.debug_recording_dir`). Off by default: nothing the user
says is written anywhere unless this folder is configured, and the CLI says so at start.

Contract: `save_utterance(audio, t)` writes the request audio as a WAV (write to a temp
file, then rename: never a half-written file); as an event listener it appends transcripts
and replies to `transcripts.jsonl`. A failed save is logged once per call and never stops
the loop.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.audio import SAMPLE_RATE_HZ, write_wav
from assistant.events import PipelineEvent

log = logging.getLogger(__name__)


class DebugRecorder:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._stamp = time.strftime("%Y%m%d-%H%M%S")

    def save_utterance(self, audio: np.ndarray, t: float) -> Path | None:
        target = self.directory / f"{self._stamp}-{t:08.2f}s.wav"
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(suffix=".wav", dir=self.directory, prefix=".part-")
            os.close(fd)
            write_wav(tmp, audio, SAMPLE_RATE_HZ)
            os.replace(tmp, target)
            return target
        except OSError as exc:
            log.warning("debug recording: could not save %s: %s", target, exc)
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            return None

    def __call__(self, event: PipelineEvent) -> None:
        if event.type in ("transcript", "reply"):
            try:
                with open(self.directory / "transcripts.jsonl", "a", encoding="utf-8") as f:
                    f.write(event.to_json() + "\n")
            except OSError as exc:
                log.warning("debug recording: could not append the transcript: %s", exc)
