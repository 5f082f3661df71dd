"""`scripts/soak`: a long run through the real loop, watching memory and CPU over time.

Phase 1 speaks `turns` requests ("Hey Jarvis." + a question) to the real pipeline in fast file
mode (the clock waits while she thinks, so hundreds of turns take minutes, not hours); phase 2
feeds `idle_seconds` of quiet room noise, as a long idle stretch of listening for the wake word.
Every half second the resident memory (RSS) and CPU time of this process are sampled, with the
number of replies so far. Nothing is asserted here (`tests/test_soak.py` does, on a short run);
the report prints the figures for the README.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.audio import SAMPLE_RATE_HZ, NullSpeaker, write_wav
from assistant.config import Config


@dataclass
class Sample:
    phase: str
    wall_s: float
    audio_s: float  # position in the input (the timeline)
    replies: int
    rss_mb: float
    cpu_s: float


def _run_phase(name: str, config: Config, stages, wav: Path, talk: bool, samples: list[Sample],
               progress) -> dict[str, int]:
    import psutil

    from assistant.events import EventBus
    from assistant.filemode import FileSource, FileSpeaker, Timeline
    from assistant.persona import conversation_for
    from assistant.pipeline import Pipeline

    timeline = Timeline(fast=True)
    source = FileSource(wav, timeline)
    # Her replies are placed on the timeline as in file mode, but not kept (that would be a
    # recording growing by design, not a leak).
    speaker = FileSpeaker(None, timeline, source.rate_hz, source.duration_seconds) if talk else NullSpeaker(source.now)
    bus = EventBus(source.now)
    counts = {"reply": 0, "error": 0, "wake": 0, "interrupt": 0}

    def count(event) -> None:  # noqa: ANN001
        if event.type in counts:
            counts[event.type] += 1

    bus.subscribe(count)
    conversation = conversation_for(config, stages.llm)
    pipeline = Pipeline(config, stages, source, speaker, bus, conversation)
    proc = psutil.Process()
    started = time.monotonic()
    done = threading.Event()

    def sample() -> None:
        last_report = 0.0
        while not done.wait(0.5):
            cpu = proc.cpu_times()
            samples.append(Sample(name, time.monotonic() - started, timeline.now(), counts["reply"],
                                  proc.memory_info().rss / 2**20, cpu.user + cpu.system))
            if time.monotonic() - last_report > 30:
                last_report = time.monotonic()
                progress(f"  {name}: {timeline.now():7.0f} s of audio, {counts['reply']} replies, "
                         f"RSS {samples[-1].rss_mb:.0f} MB")

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    pipeline.run()
    done.set()
    watcher.join()
    speaker.close()
    cpu = proc.cpu_times()
    samples.append(Sample(name, time.monotonic() - started, timeline.now(), counts["reply"],
                          proc.memory_info().rss / 2**20, cpu.user + cpu.system))
    return counts


def run_soak(config: Config, turns: int = 300, idle_seconds: float = 3600.0, gap_seconds: float = 10.0,
             progress=print) -> dict:
    from assistant.bench import build_session
    from assistant.loading import load_stages
    from assistant.persona import conversation_for

    if config.llm.seed < 0:
        config.llm.seed = 7
    config.follow_up.seconds = 0.0  # every turn starts with the wake word, as scripted
    config.follow_up.question_seconds = 0.0
    tmp = Path(tempfile.mkdtemp(prefix="samantha-soak-"))
    try:
        progress(f"Generating {turns} spoken turns and {idle_seconds:.0f} s of room noise...")
        build_session(config, tmp / "turns.wav", turns, gap_seconds)
        rng = np.random.default_rng(3)
        idle = np.zeros(int(idle_seconds * SAMPLE_RATE_HZ), np.int16)
        for start in range(0, len(idle), SAMPLE_RATE_HZ * 60):  # quiet room noise, about -60 dBFS
            n = min(SAMPLE_RATE_HZ * 60, len(idle) - start)
            idle[start:start + n] = rng.normal(0, 30, n).astype(np.int16)
        write_wav(tmp / "idle.wav", idle, SAMPLE_RATE_HZ)
        del idle
        progress("Loading models...")
        stages = load_stages(config, prefix=conversation_for(config).prefix())
        samples: list[Sample] = []
        progress(f"Phase 1: {turns} turns, fast file mode...")
        talk = _run_phase("turns", config, stages, tmp / "turns.wav", True, samples, progress)
        progress(f"Phase 2: {idle_seconds:.0f} s of idle listening, fast file mode...")
        quiet = _run_phase("idle", config, stages, tmp / "idle.wav", False, samples, progress)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summarise(samples, talk, quiet, turns, idle_seconds)


def _rss_at_reply(samples: list[Sample], replies: int) -> float:
    """RSS when the `replies`-th reply had been given (the first sample at or after it)."""
    for s in samples:
        if s.phase == "turns" and s.replies >= replies:
            return s.rss_mb
    return samples[-1].rss_mb


def summarise(samples: list[Sample], talk: dict, quiet: dict, turns: int, idle_seconds: float) -> dict:
    t = [s for s in samples if s.phase == "turns"]
    i = [s for s in samples if s.phase == "idle"]
    # Memory ramps up over the first turns and then stays flat: llama-cpp-python's logits buffer
    # (n_batch x vocabulary floats) is touched row by row as longer prompts are evaluated, and
    # the history window fills up (llm.history_turns). Growth is measured after that.
    warm = min(20, max(1, talk["reply"] // 2))
    growth_from = _rss_at_reply(samples, warm)
    timeline = [(n, round(_rss_at_reply(samples, n), 1)) for n in range(0, talk["reply"] + 1, max(1, turns // 12))]
    idle_cpu = (i[-1].cpu_s - i[0].cpu_s) / max(1e-9, i[-1].audio_s - i[0].audio_s) * 100 if len(i) > 1 else None
    # Idle growth is measured from a tenth of the way in (at least 30 s of audio): a new loop's
    # first allocations (echo canceller, buffers) are not a leak, and inside a shared test
    # process they moved the first sample by 20+ MB (CI, 2026-11-26 and 2026-12-02).
    settled = [s for s in i if s.audio_s >= max(30.0, 0.1 * idle_seconds)] or i
    return {
        "turns": turns, "replies": talk["reply"], "errors": talk["error"], "interrupts": talk["interrupt"],
        "turn_wall_seconds": round(t[-1].wall_s, 1),
        "cpu_seconds_per_turn": round((t[-1].cpu_s - t[0].cpu_s) / max(1, talk["reply"]), 2),
        "rss_after_warmup_mb": round(growth_from, 1), "rss_end_of_turns_mb": round(t[-1].rss_mb, 1),
        "rss_growth_over_turns_mb": round(t[-1].rss_mb - growth_from, 1), "warmup_replies": warm,
        "rss_after_first_reply_mb": round(_rss_at_reply(samples, 1), 1),
        "rss_by_reply": timeline,
        "idle_audio_seconds": round(i[-1].audio_s, 1) if i else 0.0,
        "idle_wall_seconds": round(i[-1].wall_s, 1) if i else 0.0,
        "idle_cpu_percent_of_one_core_per_audio_second": round(idle_cpu, 1) if idle_cpu is not None else None,
        "idle_rss_start_mb": round(settled[0].rss_mb, 1) if i else None,
        "idle_rss_end_mb": round(i[-1].rss_mb, 1) if i else None,
        "idle_wakes": quiet["wake"],
    }


def format_report(r: dict) -> str:
    lines = [
        f"turns: {r['replies']}/{r['turns']} answered, {r['errors']} errors, {r['interrupts']} interruptions, "
        f"{r['turn_wall_seconds']:.0f} s wall, {r['cpu_seconds_per_turn']:.2f} CPU s per turn",
        f"RSS after the first reply: {r['rss_after_first_reply_mb']:.0f} MB; after {r['warmup_replies']} (warm): "
        f"{r['rss_after_warmup_mb']:.0f} MB; after the last: {r['rss_end_of_turns_mb']:.0f} MB; growth since warm "
        f"{r['rss_growth_over_turns_mb']:+.1f} MB (limit +50 MB)",
        "RSS by reply: " + ", ".join(f"{n}: {mb:.0f}" for n, mb in r["rss_by_reply"]),
        f"idle: {r['idle_audio_seconds']:.0f} s of listening in {r['idle_wall_seconds']:.0f} s wall, "
        f"{r['idle_cpu_percent_of_one_core_per_audio_second']} % of one core per second of audio, "
        f"RSS {r['idle_rss_start_mb']} -> {r['idle_rss_end_mb']} MB, {r['idle_wakes']} false wakes",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    from assistant.config import load_config
    from assistant.loading import offline_mode
    from assistant.malloc import limit_arenas

    offline_mode()
    limit_arenas()  # as `assistant run` does
    parser = argparse.ArgumentParser(prog="scripts/soak", description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--idle-seconds", type=float, default=3600.0)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", type=Path, help="also write the report (and samples) here")
    args = parser.parse_args(argv)
    config = load_config(None, args.overrides)
    report = run_soak(config, args.turns, args.idle_seconds, progress=lambda s: print(s, flush=True))
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
