"""Listening while she speaks: recognise a stop phrase said over her voice.

Contract: `StopListener.feed(raw_chunk, is_speech, her_words)` is given the microphone as it
is (`is_speech` comes from the VAD on the echo-cancelled signal, so only the user's voice
counts). It collects speech (at most a few seconds) and transcribes it as it grows (every
240 ms of speech and at pauses), so a short phrase like "stop" is recognised about when it
ends, without the LLM. It returns "stop" when the words, once her own recent words are set
aside, are a short utterance containing a configured stop phrase (`is_stop_phrase`).

Why the raw microphone is transcribed: WebRTC's echo canceller suppresses the onset of
speech that starts while she talks (measured: the "St" of "Stop!" came out 30-50 dB down,
and Whisper heard "Huh?"). The raw signal keeps the user's word intact with her voice
underneath; her words in the transcript are then recognised as hers by text.
"""

from __future__ import annotations

import logging
import re
from collections import deque

import numpy as np

from assistant.audio import AudioChunk

log = logging.getLogger(__name__)
PREROLL_CHUNKS = 3
MAX_PHRASE_CHUNKS = 40  # 3.2 s: stop phrases are short; longer talk is not one
CHECK_EVERY_CHUNKS = 3


def words_of(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


# What tiny.en writes for a "Stop!" said over her voice (measured: about a quarter of the time
# "Start."). Only used while she speaks, where a lone "start" means nothing else; stopping her
# by mistake costs little (she stops; the history says where), missing a stop costs more.
SOUNDS_LIKE_STOP = {"start": "stop"}


def is_stop_phrase(text: str, phrases: list[str]) -> bool:
    """True when a short utterance (at most 6 words) contains one of the phrases as whole
    words: "stop", "okay stop", "stop please", "no, wait", "let's stop". Said over her voice,
    Whisper often wraps the user's word in fragments of hers ("Stop and river."), so the
    phrase does not have to stand alone; a long sentence that merely contains it does not count."""
    words = [SOUNDS_LIKE_STOP.get(w, w) for w in words_of(text)]
    if not words or len(words) > 6:
        return False
    joined = f" {' '.join(words)} "
    return any(f" {' '.join(words_of(p))} " in joined for p in phrases if words_of(p))


def without_her_words(text: str, her_words: str) -> str:
    """The transcript without the words she said recently (her voice under the user's). A stop
    word she said herself is set aside too: by text it cannot be told from the user's."""
    recent = set(words_of(her_words)[-40:])
    return " ".join(w for w in words_of(text) if w not in recent)


def wake_words(model_name: str) -> set[str]:
    """The distinctive words of a wake model's phrase: "hey_jarvis_v0.1" -> {"jarvis"}."""
    words = re.sub(r"_v\d.*$", "", model_name.lower()).replace("-", "_").split("_")
    return {w for w in words if w and w not in {"hey", "ok", "okay", "hi"}}


class RawWake:
    """The wake word said while she speaks, listened for on the raw microphone.

    Why: the echo canceller removes her voice, but when both talk its suppressor dampens the
    user's too. Measured (file mode, her echo 40 ms at -15 dB, piper's "Hey Jarvis" 2 s into her
    answer): the echo-cancelled wake word came out 2-5 dB down and distorted, and the wake
    model missed 3 in 12; on the raw microphone the same wake words scored 0.95-0.999, and
    her voice alone scored 0.000 (also with her echo as loud as the user, 0 dB). So the pipeline
    asks this detector when the echo-cancelled one hears nothing.

    Contract: `process(raw_chunk, turn, her_words, threshold)` feeds one raw chunk of her
    speech; the detector starts afresh for each turn (another `turn` object), and gives no
    detection while her own reply contains the wake word (her "Hey Jarvis" is not the user's).
    """

    def __init__(self, wake) -> None:
        self.wake = wake
        self._turn: object | None = None

    def process(self, chunk: AudioChunk, turn: object, her_words: str, threshold: float | None = None):
        if turn is not self._turn:
            self._turn = turn
            self.wake.reset()
        detection = self.wake.process(chunk, threshold)
        if detection is not None and wake_words(detection.model) & set(words_of(her_words)):
            log.info("ignored %s on the raw microphone: she is saying it herself", detection.model)
            return None
        return detection


class StopListener:
    def __init__(self, stt, phrases: list[str]) -> None:
        self.stt = stt
        self.phrases = phrases
        self.last_heard = ""  # the words last taken as a stop phrase
        self.reset()

    def reset(self) -> None:
        self._chunks: list[AudioChunk] = []
        self._speech_chunks = 0
        self._silent_run = 0
        self._before: deque[AudioChunk] = deque(maxlen=PREROLL_CHUNKS)

    def feed(self, chunk: AudioChunk, is_speech: bool, her_words: str) -> str | None:
        if not self._chunks and not is_speech:
            self._before.append(chunk)
            return None
        if not self._chunks:  # the VAD fires a little late: keep the onset ("St-op")
            self._chunks.extend(self._before)
        self._chunks.append(chunk)
        if is_speech:
            self._speech_chunks += 1
            self._silent_run = 0
        else:
            self._silent_run += 1
        check = (is_speech and self._speech_chunks % CHECK_EVERY_CHUNKS == 0) or self._silent_run in (1, 3)
        result = None
        self.last_heard = ""
        if check and self._speech_chunks >= 2:
            hint = ". ".join(p.capitalize() for p in self.phrases) + "."
            text = self.stt.transcribe(np.concatenate([c.samples for c in self._chunks]), prompt=hint).text
            log.debug("while speaking, heard %r", text)
            if is_stop_phrase(without_her_words(text, her_words), self.phrases):
                result = "stop"
                self.last_heard = text
        if result or self._silent_run >= 6 or len(self._chunks) >= MAX_PHRASE_CHUNKS:
            self.reset()
        return result
