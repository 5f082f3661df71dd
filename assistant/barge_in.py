"""Listening while she speaks: recognise a stop phrase on the echo-cancelled microphone.

Contract: `StopListener.feed(chunk, is_speech, reply_so_far)` collects speech (at most a few
seconds) and transcribes it as it grows (every 240 ms of speech and at the first pause), so
a short phrase like "stop" is recognised about when it ends, without the LLM. It returns
"stop" when the words are a configured stop phrase and are not simply her own words leaking
through the echo canceller (a text check against what she is saying, as a backstop).
"""

from __future__ import annotations

import re

import numpy as np

from assistant.audio import AudioChunk

MAX_PHRASE_CHUNKS = 40  # 3.2 s: stop phrases are short; longer talk is not one
CHECK_EVERY_CHUNKS = 3


def words_of(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def is_stop_phrase(text: str, phrases: list[str]) -> bool:
    """True when the words are one of the phrases, alone or with a polite word or two
    ("okay stop", "stop please", "wait wait"), but not a sentence that merely contains one."""
    words = words_of(text)
    if not words or len(words) > 5:
        return False
    filler = {"ok", "okay", "please", "now", "just", "hey", "oh", "um", "uh", "samantha", "it", "that's", "thats"}
    joined = " ".join(w for w in words if w not in filler)
    if not joined:
        return False
    for phrase in phrases:
        p = " ".join(words_of(phrase))
        if joined == p or joined.replace(p, "").strip() == "" or re.fullmatch(rf"({re.escape(p)} ?)+", joined):
            return True
    return False


def sounds_like_her(text: str, her_words: str) -> bool:
    """True when every word heard is among the last words she said: residual echo."""
    heard = words_of(text)
    recent = set(words_of(her_words)[-30:])
    return bool(heard) and all(w in recent for w in heard)


class StopListener:
    def __init__(self, stt, phrases: list[str]) -> None:
        self.stt = stt
        self.phrases = phrases
        self.reset()

    def reset(self) -> None:
        self._chunks: list[AudioChunk] = []
        self._speech_chunks = 0
        self._silent_run = 0

    def feed(self, chunk: AudioChunk, is_speech: bool, her_words: str) -> str | None:
        if not self._chunks and not is_speech:
            return None
        self._chunks.append(chunk)
        if is_speech:
            self._speech_chunks += 1
            self._silent_run = 0
        else:
            self._silent_run += 1
        check = (is_speech and self._speech_chunks % CHECK_EVERY_CHUNKS == 0) or self._silent_run == 1
        result = None
        if check and self._speech_chunks >= 2:
            text = self.stt.transcribe(np.concatenate([c.samples for c in self._chunks])).text
            if is_stop_phrase(text, self.phrases) and not sounds_like_her(text, her_words):
                result = "stop"
        if result or self._silent_run >= 6 or len(self._chunks) >= MAX_PHRASE_CHUNKS:
            self.reset()
        return result
