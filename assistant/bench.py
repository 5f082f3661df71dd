"""`assistant bench`: a scripted spoken conversation through the real loop, paced in real time.

The session is generated with the project's own voice: an idle stretch (for idle CPU), then
for each turn "Hey Jarvis.", a question and a pause long enough for the answer. It is fed to
the real pipeline in file mode at real-time pace, exactly like a microphone, and the reply
audio is collected on the same timeline. Response latency is measured on that audio: from
the last speech sample of each question to the first audible sample of her answer. Stage
times come from the `reply` events. Nothing here is asserted: compare the numbers with the
previous run (README's table) to catch regressions.
"""

from __future__ import annotations

import json
import resource
import statistics
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from assistant.audio import SAMPLE_RATE_HZ, float_to_int16, read_audio, resample, write_wav
from assistant.config import Config

QUESTIONS = [
    "What is the capital of France?",
    "How many legs does a spider have?",
    "Can you suggest a name for a cat?",
    "What colour is the sky on a clear day?",
    "Tell me a fun fact about the moon.",
    "What is two plus three?",
    "Is it healthy to drink water every day?",
    "What should I cook for dinner tonight?",
    "Which ocean is the largest?",
    "Say something nice to me.",
]
IDLE_SECONDS = 10.0
AUDIBLE = 0.01  # |sample| above this (-40 dBFS) counts as sound


@dataclass
class TurnResult:
    question: str
    transcript: str | None
    reply: str | None
    end_of_speech_wait_s: float | None
    stt_s: float | None
    llm_first_token_s: float | None
    first_sentence_s: float | None
    tts_first_audio_s: float | None
    response_latency_s: float | None  # measured on the output audio


def _speech_bounds(audio: np.ndarray) -> tuple[int, int]:
    loud = np.nonzero(np.abs(audio.astype(np.float32) / 32768) > AUDIBLE)[0]
    return (int(loud[0]), int(loud[-1]) + 1) if len(loud) else (0, 0)


def build_session(config: Config, path: Path, turns: int, gap_seconds: float):
    """Write the session WAV; returns (wake phrase ends, question ends) in seconds."""
    from assistant.loading import load_tts

    tts = load_tts(config)

    def say(text: str) -> np.ndarray:
        audio = float_to_int16(resample(tts.synthesize_all(text), tts.sample_rate_hz, SAMPLE_RATE_HZ))
        start, end = _speech_bounds(audio)
        return audio[start:end]

    parts: list[np.ndarray] = [np.zeros(int(IDLE_SECONDS * SAMPLE_RATE_HZ), np.int16)]
    wake = say("Hey Jarvis.")
    wake_ends, question_ends = [], []
    position = len(parts[0])
    for i in range(turns):
        question = say(QUESTIONS[i % len(QUESTIONS)])
        pause = np.zeros(int(0.35 * SAMPLE_RATE_HZ), np.int16)
        gap = np.zeros(int(gap_seconds * SAMPLE_RATE_HZ), np.int16)
        for part in (wake, pause, question, gap):
            parts.append(part)
            position += len(part)
            if part is wake:
                wake_ends.append(position / SAMPLE_RATE_HZ)
            if part is question:
                question_ends.append(position / SAMPLE_RATE_HZ)
    write_wav(path, np.concatenate(parts), SAMPLE_RATE_HZ)
    return wake_ends, question_ends


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(np.floor(k)), int(np.ceil(k))
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def run_bench(config: Config, turns: int = 8, gap_seconds: float = 14.0, fast: bool = False,
              progress=print, save_session: Path | None = None) -> dict:
    import psutil

    from assistant.events import EventBus
    from assistant.filemode import FileSource, FileSpeaker, Timeline
    from assistant.loading import load_stages
    from assistant.persona import conversation_for
    from assistant.pipeline import Pipeline

    if config.llm.seed < 0:
        config.llm.seed = 7  # repeatable replies, so runs compare (override with --set llm.seed=N)
    tmp = Path(tempfile.mkdtemp(prefix="samantha-bench-"))
    session_path, output_path = tmp / "session.wav", tmp / "spoken.wav"
    progress(f"Generating a {turns}-turn spoken session...")
    wake_ends, question_ends = build_session(config, session_path, turns, gap_seconds)
    if save_session is not None:
        import shutil

        shutil.copyfile(session_path, save_session)
    progress("Loading models...")
    load_started = time.perf_counter()
    stages = load_stages(config, prefix=conversation_for(config).prefix())
    load_seconds = time.perf_counter() - load_started

    timeline = Timeline(fast=fast)
    source = FileSource(session_path, timeline)
    speaker = FileSpeaker(output_path, timeline, source.rate_hz, source.duration_seconds)
    bus = EventBus(source.now)
    conversation = conversation_for(config, stages.llm)
    pipeline = Pipeline(config, stages, source, speaker, bus, conversation)

    proc = psutil.Process()
    idle: dict[str, float] = {}

    def watch_idle() -> None:  # CPU time of this process while it only listens for the wake word
        while timeline.now() < 1.0:
            time.sleep(0.05)
        idle["cpu0"], idle["wall0"] = proc.cpu_times().user + proc.cpu_times().system, time.monotonic()
        while timeline.now() < IDLE_SECONDS - 1.0:
            time.sleep(0.05)
        idle["cpu1"], idle["wall1"] = proc.cpu_times().user + proc.cpu_times().system, time.monotonic()

    peak = {"rss": proc.memory_info().rss}

    def watch_memory() -> None:
        while not timeline.finished:
            peak["rss"] = max(peak["rss"], proc.memory_info().rss)
            time.sleep(0.2)

    watchers = [threading.Thread(target=watch_idle, daemon=True), threading.Thread(target=watch_memory, daemon=True)]
    for w in watchers:
        w.start()
    progress(f"Running {source.duration_seconds:.0f} s of conversation {'fast' if fast else 'in real time'}...")
    pipeline.run()
    speaker.close()
    for w in watchers:
        w.join(timeout=1.0)

    out, out_rate = read_audio(output_path)
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)  # nothing is left on disk (save it with --save-session)
    events = [e for e in bus.history]
    results: list[TurnResult] = []
    for i, q_end in enumerate(question_ends):
        window_end = question_ends[i + 1] - 1.0 if i + 1 < len(question_ends) else len(out) / out_rate
        segment = out[int(q_end * out_rate): int(window_end * out_rate)]
        loud = np.nonzero(np.abs(segment) > AUDIBLE)[0]
        latency = float(loud[0]) / out_rate if len(loud) else None
        # This turn's events: from the speech_end that closes this question to the next speech_end.
        ends = [k for k, e in enumerate(events) if e.type == "speech_end"]
        mine = [k for k in ends if abs(events[k].data["last_speech_t"] - q_end) < 0.6]
        turn_events = []
        if mine:
            later = [k for k in ends if k > mine[0]]
            turn_events = events[mine[0]: later[0] if later else len(events)]
        transcript = next((e.data["text"] for e in turn_events if e.type == "transcript"), None)
        reply = next((e.data for e in turn_events if e.type == "reply"), None)
        speech_end = turn_events[0] if turn_events else None
        if speech_end is None:
            latency = None  # not heard (e.g. she was still talking when the wake word came)
        results.append(TurnResult(
            question=QUESTIONS[i % len(QUESTIONS)], transcript=transcript,
            reply=reply["text"] if reply else None,
            end_of_speech_wait_s=round(speech_end.t - q_end, 3) if speech_end else None,
            stt_s=reply.get("stt_seconds") if reply else None,
            llm_first_token_s=reply.get("llm_first_token_seconds") if reply else None,
            first_sentence_s=reply.get("first_sentence_seconds") if reply else None,
            tts_first_audio_s=reply.get("tts_first_audio_seconds") if reply else None,
            response_latency_s=round(latency, 3) if latency is not None else None,
        ))
    wakes = [e for e in events if e.type == "wake"]
    wake_latencies = []
    for w_end in wake_ends:
        match = [e.t - w_end for e in wakes if -1.0 <= e.t - w_end <= 2.0]
        if match:
            wake_latencies.append(round(match[0], 3))
    latencies = [r.response_latency_s for r in results if r.response_latency_s is not None]

    def summary(values: list[float | None]) -> dict[str, float | None]:
        vals = [v for v in values if v is not None]
        med, p90 = (statistics.median(vals) if vals else None), _percentile(vals, 0.9)
        return {"median": round(med, 3) if med is not None else None,
                "p90": round(p90, 3) if p90 is not None else None}

    idle_cpu = None
    if "cpu1" in idle:
        idle_cpu = 100.0 * (idle["cpu1"] - idle["cpu0"]) / max(1e-6, idle["wall1"] - idle["wall0"])
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB",
        "models": {"stt": config.stt.model_path, "llm": config.llm.model_path, "tts": config.tts.voice_path,
                   "wake": config.wake.models},
        "paced": "fast" if fast else "real time",
        "turns": [asdict(r) for r in results],
        "answered": f"{len(latencies)}/{len(results)}",
        "response_latency_s": summary(latencies),
        "end_of_speech_wait_s": summary([r.end_of_speech_wait_s for r in results]),
        "stt_s": summary([r.stt_s for r in results]),
        "llm_first_token_s": summary([r.llm_first_token_s for r in results]),
        "first_sentence_s": summary([r.first_sentence_s for r in results]),
        "tts_first_audio_s": summary([r.tts_first_audio_s for r in results]),
        "wake_latency_s": summary(wake_latencies),
        "idle_cpu_percent_of_one_core": round(idle_cpu, 1) if idle_cpu is not None else None,
        "peak_rss_mb": round(max(peak["rss"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024) / 2**20),
        "load_seconds": round(load_seconds, 2),
        "tts_speed_x_real_time": _tts_speed(stages.tts),
    }
    return report


def _tts_speed(tts) -> float:
    """Seconds of audio synthesised per second of compute, on a typical reply."""
    text = "Sure. The moon is slowly drifting away from the Earth, about four centimetres every year."
    started = time.perf_counter()
    audio = tts.synthesize_all(text)
    return round(len(audio) / tts.sample_rate_hz / (time.perf_counter() - started), 1)


def format_report(report: dict) -> str:
    cols = [("end_of_speech_wait_s", "eos wait"), ("stt_s", "stt"), ("llm_first_token_s", "llm 1st tok"),
            ("first_sentence_s", "1st sentence"), ("tts_first_audio_s", "tts 1st audio"),
            ("response_latency_s", "RESPONSE")]

    def fmt(v) -> str:
        return f"{v:.3f}" if isinstance(v, float) else ("-" if v is None else str(v))

    lines = [f"Samantha bench, {report['date']}, {report['machine']}, paced {report['paced']}",
             f"models: {report['models']}", ""]
    lines.append(f"{'turn':<5}" + "".join(f"{name:>14}" for _, name in cols) + "   heard / replied")
    for i, t in enumerate(report["turns"], 1):
        lines.append(f"{i:<5}" + "".join(f"{fmt(t[key]):>14}" for key, _ in cols)
                     + f"   {t['transcript']!r} -> {(t['reply'] or '')[:60]!r}")
    for stat in ("median", "p90"):
        lines.append(f"{stat:<5}" + "".join(f"{fmt(report[key][stat]):>14}" for key, _ in cols))
    lines += [
        "",
        f"answered:                       {report['answered']}",
        f"response latency (s):           median {fmt(report['response_latency_s']['median'])}, "
        f"p90 {fmt(report['response_latency_s']['p90'])}",
        f"wake latency (s, phrase end -> wake event): median {fmt(report['wake_latency_s']['median'])}, "
        f"p90 {fmt(report['wake_latency_s']['p90'])}",
        f"idle CPU (% of one core):       {fmt(report['idle_cpu_percent_of_one_core'])}",
        f"peak resident memory (MB):      {report['peak_rss_mb']}",
        f"TTS speed (x real time):        {report['tts_speed_x_real_time']}",
        f"model load + warm-up (s):       {report['load_seconds']}",
    ]
    return "\n".join(lines)


def save_json(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def latencies_from_files(input_path: Path, output_path: Path, min_gap_seconds: float = 0.3) -> list[float]:
    """Response latencies measured from outside on a file-mode run: for each reply onset in the
    output (first audible sample after >= 1 s of silence), the time since the last speech in
    the input before it. Speech regions are audible stretches merged across gaps < min_gap."""
    inp, in_rate = read_audio(input_path)
    out, out_rate = read_audio(output_path)
    hop = 0.01

    def loud_frames(audio: np.ndarray, rate: int) -> np.ndarray:
        n = int(rate * hop)
        frames = audio[: len(audio) // n * n].reshape(-1, n)
        return np.abs(frames).max(axis=1) > AUDIBLE

    speech_ends: list[float] = []
    loud = loud_frames(inp, in_rate)
    idx = np.nonzero(loud)[0]
    for a, b in zip(idx, np.append(idx[1:], 10**9), strict=False):
        if (b - a) * hop >= min_gap_seconds:
            speech_ends.append((a + 1) * hop)
    onsets: list[float] = []
    out_loud = loud_frames(out, out_rate)
    out_idx = np.nonzero(out_loud)[0]
    previous = -10**9
    for i in out_idx:
        # A reply: sound after >= 1 s of silence that goes on (the 0.16 s wake chime does not).
        if (i - previous) * hop >= 1.0 and out_loud[i: i + 50].sum() >= 30:
            onsets.append(i * hop)
        previous = i
    result = []
    for onset in onsets:
        before = [e for e in speech_ends if e <= onset]
        if before:
            result.append(round(onset - before[-1], 3))
    return result


# Figures compared with a previous run; all are "lower is better" except the TTS speed.
COMPARED = ["response_latency_s", "end_of_speech_wait_s", "stt_s", "llm_first_token_s", "first_sentence_s",
            "tts_first_audio_s", "wake_latency_s"]


def compare(report: dict, previous: dict, tolerance: float = 0.2) -> list[str]:
    """Lines comparing this run with a previous JSON report; a figure more than `tolerance`
    (20 %) worse is marked REGRESSION. Noisy machines make single runs vary by ~10 %."""
    lines = [f"compared with the run of {previous.get('date', '?')}:"]

    def line(name: str, now: float | None, before: float | None, higher_is_better: bool = False) -> None:
        if now is None or before is None or before == 0:
            return
        change = (now - before) / abs(before)
        worse = -change if higher_is_better else change
        mark = "  REGRESSION" if worse > tolerance else ""
        lines.append(f"  {name:<38} {before:>8.3f} -> {now:>8.3f} ({change:+.0%}){mark}")

    for key in COMPARED:
        for stat in ("median", "p90"):
            line(f"{key} {stat}", report.get(key, {}).get(stat), previous.get(key, {}).get(stat))
    line("idle_cpu_percent_of_one_core", report.get("idle_cpu_percent_of_one_core"),
         previous.get("idle_cpu_percent_of_one_core"))
    line("peak_rss_mb", report.get("peak_rss_mb"), previous.get("peak_rss_mb"))
    line("tts_speed_x_real_time", report.get("tts_speed_x_real_time"), previous.get("tts_speed_x_real_time"),
         higher_is_better=True)
    return lines
