"""Speech-to-text window: time and word error rate per encoder window, on 40 espeak-ng clips
(8 questions x 5 voices) plus the real `jfk.flac`. Prints one line per window.

    .venv/bin/python scripts/bench_stt_window.py
"""

from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.audio import read_audio_16k
from assistant.stt import SpeechToText

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ["What is the capital of France?", "How many legs does a spider have?",
             "Can you suggest a name for a cat?", "Set a timer for ten minutes.",
             "What's the weather like tomorrow morning?", "Tell me a joke about computers.",
             "Who wrote Romeo and Juliet?", "Remind me to call my sister at five."]
VOICES = ["en-us", "en-gb", "en-us+f3", "en-us+m3", "en-gb+f2"]
JFK = ("and so my fellow americans ask not what your country can do for you "
       "ask what you can do for your country")


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def wer(ref: str, hyp: str) -> float:
    r, h = words(ref), words(hyp)
    d = np.zeros((len(r) + 1, len(h) + 1))
    d[:, 0], d[0, :] = range(len(r) + 1), range(len(h) + 1)
    for i in range(1, len(r) + 1):
        for j in range(1, len(h) + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (r[i - 1] != h[j - 1]))
    return d[-1, -1] / len(r)


def main() -> None:
    clips = []
    for q in QUESTIONS:
        for v in VOICES:
            with tempfile.NamedTemporaryFile(suffix=".wav") as f:
                subprocess.run(["espeak-ng", "-v", v, "-w", f.name, q], check=True)
                audio = read_audio_16k(f.name)
            pad = np.zeros(3200, np.int16)
            clips.append((q, np.concatenate([pad, audio, pad])))
    jfk = read_audio_16k(ROOT.parent / "shared" / "fixtures" / "jfk.flac")
    for window in (30.0, 20.0, 15.0, 10.0):
        stt = SpeechToText(ROOT / "models" / "whisper-tiny.en", threads=2, window_seconds=window)
        times, errors = [], []
        for q, audio in clips:
            started = time.perf_counter()
            text = stt.transcribe(audio).text
            times.append(time.perf_counter() - started)
            errors.append(wer(q, text))
        jfk_wer = wer(JFK, stt.transcribe(jfk).text)
        print(f"window {window:4.0f} s: median {statistics.median(times):.3f} s per command, "
              f"WER {np.mean(errors):.3f} on {len(clips)} espeak clips, JFK WER {jfk_wer:.3f}", flush=True)


if __name__ == "__main__":
    main()
