"""One request being answered, and the small text rules about what the user said."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from assistant.events import EventBus


def strip_wake_words(text: str, wake_model: str) -> str:
    """Drop the wake phrase (e.g. "Hey Jarvis,") that the pre-roll may put at the start."""
    words = {w for w in re.split(r"[_\W\d]+", wake_model.lower()) if w and w != "v"}
    tokens = text.split()
    while tokens and re.sub(r"\W", "", tokens[0].lower()) in words:
        tokens.pop(0)
    return " ".join(tokens).lstrip(" ,.!?")


_CONTINUATIONS = {"and", "but", "or", "so", "because", "the", "a", "an", "to", "of", "with", "um", "uh",
                  "like", "if", "then", "my", "your", "for", "in", "on", "at"}


def ends_mid_sentence(text: str) -> bool:
    """True when a transcript looks unfinished ("...and", a trailing comma or ellipsis)."""
    stripped = text.strip()
    if not stripped:
        return False
    if stripped.endswith((",", "...", "…", "-", "—")):
        return True
    last = re.sub(r"[^\w']", "", stripped.split()[-1].lower())
    return last in _CONTINUATIONS


# Words that may come with a stop phrase said as a whole request ("okay, never mind",
# "stop, please", "just be quiet"): the request is then nothing but the stop.
_STOP_COMPANY = {"okay", "ok", "oh", "no", "please", "just", "now", "thanks", "thank", "you", "that's", "all", "it",
                 "fine", "forget", "alright", "right", "um", "uh", "hey", "well", "actually", "so", "for", "sorry",
                 "and", "then", "talking", "there", "a", "second", "sec", "minute", "moment", "today", "me"}


def said_words(text: str) -> list[str]:
    """Lower-case words of a transcript, apostrophes kept ("that's"), curly ones made straight."""
    return re.sub(r"[^a-z' ]", " ", text.lower().replace("\u2019", "'")).split()


def is_stop_request(text: str, phrases: list[str]) -> bool:
    """True when the whole request is a stop phrase ("Stop.", "Never mind.", "Stop, stop!",
    "Okay, be quiet please."): she answers with silence. A request that merely contains one
    ("stop the timer", "how do I stop worrying?") is a request like any other."""
    said = said_words(text.replace("nevermind", "never mind"))
    if not said or len(said) > 8:
        return False
    joined = " ".join(said)
    found = False
    for phrase in sorted((" ".join(said_words(p)) for p in phrases), key=len, reverse=True):
        if phrase:
            joined, n = re.subn(rf"(?<!\S){re.escape(phrase)}(?!\S)", " ", joined)
            found = found or n > 0
    return found and all(w in _STOP_COMPANY for w in joined.split())


_HELLO = {"hi", "hello", "hey", "hiya", "heya", "howdy", "morning", "evening", "afternoon", "yo"}
_HELLO_COMPANY = {"good", "morning", "afternoon", "evening", "there", "again", "how", "are", "you", "doing", "today",
                  "how's", "it", "going", "what's", "up", "i'm", "back", "so", "well", "oh", "all", "is", "everything"}


def is_greeting(text: str, name: str = "samantha") -> bool:
    """ "Hi.", "Good morning, Samantha!", "Hey, how are you?": a hello and nothing more."""
    said = [w for w in said_words(text) if w != name.lower()]
    if not said or len(said) > 7 or not (said[0] in _HELLO or said[:2] in (["good", "morning"],
                                                                          ["good", "afternoon"], ["good", "evening"])):
        return False
    return all(w in _HELLO or w in _HELLO_COMPANY for w in said)


def greeting_for(moment: datetime) -> str:
    """A hello that fits the time of day."""
    return "Good morning!" if 5 <= moment.hour < 12 else "Good evening!" if moment.hour >= 18 else "Hi!"


@dataclass
class Turn:
    """One request being answered. `confirmed` is set when the end of speech is certain;
    until then the turn is speculative and must stay invisible and silent."""

    audio: np.ndarray
    last_speech_t: float
    cancel: threading.Event = field(default_factory=threading.Event)
    confirmed: threading.Event = field(default_factory=threading.Event)
    # Set by the turn's thread when its work is over, before it lets a held clock go on: from
    # then on the loop listens again (the thread itself may take a moment longer to end).
    done: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread = field(default=None)  # type: ignore[assignment]
    interrupted_at: float | None = None  # set when barge-in stopped it
    reply: str = ""  # the reply as spoken ("" when none, or when it was interrupted)
    spoken_so_far: str = ""  # the LLM text streamed so far (for the echo backstop)
    hesitant: bool = False
    dismissed: bool = False  # the request was a stop phrase: silence, and the follow-up window closes
    held: bool = False  # this turn paused a simulated clock (fast file mode) and must release it
    _text: str | None = None
    _stt_seconds: float = 0.0
    _emitted: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def track(self, deltas: Iterator[str]) -> Iterator[str]:
        """Pass the LLM's deltas through, remembering the text so far. Closing this closes
        `deltas` (which releases the LLM), without waiting for garbage collection."""
        try:
            for delta in deltas:
                self.spoken_so_far += delta
                yield delta
        finally:
            close = getattr(deltas, "close", None)
            if close is not None:
                close()

    def wait_confirmed(self) -> bool:
        """Block until confirmed (True) or cancelled (False)."""
        while not self.confirmed.wait(0.01):
            if self.cancel.is_set():
                return False
        return True

    def set_transcript(self, text: str, stt_seconds: float, bus: EventBus) -> None:
        with self._lock:
            self._text, self._stt_seconds = text, stt_seconds
        self.emit_transcript(bus)

    def emit_transcript(self, bus: EventBus) -> None:
        """Emit the transcript once, when it is both known and confirmed (either thread)."""
        with self._lock:
            if self._emitted or self._text is None or not self.confirmed.is_set():
                return
            self._emitted = True
        bus.emit("transcript", text=self._text, stt_seconds=round(self._stt_seconds, 3))
