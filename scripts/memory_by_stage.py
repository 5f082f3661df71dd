"""Resident memory of one stage over many varied calls, to find what grows in a long run:

    .venv/bin/python scripts/memory_by_stage.py tts 300      # or stt, llm

Each call runs on a fresh thread with the heap trimmed afterwards, as the loop runs a turn
(`assistant/malloc.py`), so growth here is the stage's own. Prints RSS (MB) after calls
1, 10, 20, 50, 100, 200, 300, ... Found this way: piper's onnxruntime memory arena grew
154 -> 444 MB over 300 sentences (now off, see assistant/tts.py).
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from assistant.malloc import limit_arenas, trim  # noqa: E402

WORDS = ("the a dragon knight castle river forest quick brown fox jumps over lazy dog morning evening tea "
         "coffee weather rain sun cloud friend sister brother music book story garden window light").split()
CHECKPOINTS = {1, 10, 20, 50, 100, 200, 300, 500, 1000}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def make_call(stage: str, rng: random.Random) -> Callable[[int], None]:
    """One call of `stage` with varied input (a new sentence length or clip each time)."""
    from assistant.config import load_config

    config = load_config(None, [])
    if stage == "tts":
        from assistant.loading import load_tts

        tts = load_tts(config)
        return lambda i: tts.synthesize_all(sentence(rng, rng.randint(3, 25)))
    if stage == "stt":
        from speech import piper

        from assistant.loading import load_stt

        stt = load_stt(config)
        clips = [piper(sentence(rng, rng.randint(3, 15))) for _ in range(20)]
        return lambda i: stt.transcribe(clips[i % len(clips)])
    from assistant.loading import load_llm
    from assistant.persona import Conversation

    llm = load_llm(config)
    llm.max_reply_tokens = 40
    conversation = Conversation("You are Samantha, a warm companion.")

    def chat(i: int) -> None:
        question = sentence(rng, rng.randint(4, 12))
        conversation.record(question, "".join(llm.stream(conversation.messages(question)))[:200])

    return chat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=["tts", "stt", "llm"])
    parser.add_argument("calls", type=int, nargs="?", default=300)
    args = parser.parse_args()
    limit_arenas()  # as `assistant run` does, before any thread exists
    call = make_call(args.stage, random.Random(1))
    print(f"{args.stage}: loaded, RSS {rss_mb():.1f} MB", flush=True)
    for i in range(args.calls):
        worker = threading.Thread(target=call, args=(i,))
        worker.start()
        worker.join()
        trim()
        if i + 1 in CHECKPOINTS or i + 1 == args.calls:
            print(f"after {i + 1:5d} calls: RSS {rss_mb():.1f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
