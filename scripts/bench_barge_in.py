"""Echo cancellation and barge-in, measured:

    .venv/bin/python scripts/bench_barge_in.py

1. Echo reduction (ERLE) of the WebRTC AEC3 canceller on the project's voice for desk-like echo
   paths (delay, attenuation), how much of a user's word survives double-talk, and its CPU cost.
2. Interruption stop time through the real loop, paced in real time with the real models and
   her voice leaking back at -15 dB: from the end of "Hey Jarvis" / "Stop!" said over her long
   answer to the last sample of her voice in the output.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from speech import piper, silence  # noqa: E402

from assistant.aec import EchoCanceller, PlaybackReference  # noqa: E402
from assistant.audio import int16_to_float, read_audio, split_chunks  # noqa: E402


def rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(a.astype(np.float64) ** 2))) + 1e-9


def echo_reduction() -> None:
    far = piper("Once upon a time there was a dragon who lived in the mountains and loved to read books "
                "all day long, and every evening she told the stars what she had read.")
    user = piper("Stop!")
    ref = PlaybackReference()
    ref.add(0.0, int16_to_float(far), 16000)
    for delay_ms, gain_db in ((20, -10.0), (40, -15.0), (60, -20.0)):
        d = delay_ms * 16
        echo = np.zeros(len(far))
        echo[d:] = far[:-d] * 10 ** (gain_db / 20)
        at = 16000 * 5
        near = echo.copy()
        near[at: at + len(user)] += user
        near = np.clip(near, -32768, 32767).astype(np.int16)
        aec = EchoCanceller()
        started = time.process_time()
        out = np.concatenate([aec.process(c, ref.window(c.start_seconds, 1280)).samples for c in split_chunks(near)])
        cpu = time.process_time() - started
        settled = slice(16000 * 2, at)  # after 2 s of convergence, before the user speaks
        erle = 20 * np.log10(rms(echo[settled]) / rms(out[settled]))
        kept = 20 * np.log10(rms(out[at: at + len(user)]) / rms(user))
        print(f"echo {delay_ms} ms at {gain_db:.0f} dB: reduced by {erle:.1f} dB; a word said over her keeps "
              f"{kept:+.1f} dB; CPU {100 * cpu / (len(near) / 16000):.2f} % of one core")


def interruption_stop_times() -> None:
    from test_real_barge_in import STORY, run

    from assistant.config import load_config
    from assistant.loading import load_stages

    config = load_config(None, ["llm.model_path=models/SmolLM2-135M-Instruct.Q4_1.gguf"])
    stages = load_stages(config, prefix=[{"role": "system", "content": "You are Samantha."}])
    wake, stop = piper("Hey Jarvis."), piper("Stop!")
    parts = [silence(0.5), wake, silence(0.3), piper(STORY), silence(4.0),
             wake, silence(0.3), piper("Tell me another long story about a princess."), silence(4.0),
             stop, silence(3.0)]
    ends = {"wake": sum(len(p) for p in parts[:6]) / 16000, "stop": sum(len(p) for p in parts[:10]) / 16000}
    tmp = Path(tempfile.mkdtemp())
    events, _ = run(tmp, stages, parts, fast=False, **{"follow_up.seconds": 0})
    out, rate = read_audio(tmp / "out.wav")
    for kind, t, data in events:
        if kind == "interrupt":
            phrase_end = ends[data["reason"]]
            window = out[int((phrase_end - 1.0) * rate): int((phrase_end + 1.0) * rate)]
            loud = np.nonzero(np.abs(window) > 0.01)[0]
            last = phrase_end - 1.0 + (loud[-1] / rate if len(loud) else 0.0)
            print(f"interrupt by {data['reason']}: detected {t - phrase_end:+.2f} s after the phrase ended; "
                  f"her voice stopped {last - phrase_end:+.2f} s after it")


if __name__ == "__main__":
    echo_reduction()
    interruption_stop_times()
