"""One event stream for logs, the terminal display, the JSONL file, metrics and tests.

Every event has a `type` and `t`, seconds on the input timeline (for a microphone: seconds
since the loop started; for file mode: the position in the input file). Listeners are
plain callables; a failing listener is logged and never breaks the loop.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)
HISTORY_EVENTS = 5000

EVENT_TYPES = (
    "ready",  # models loaded, listening starts
    "state",  # state: idle | listening | recording | thinking | speaking
    "wake",  # model, score
    "speech_start",
    "speech_end",  # last_speech_t, seconds
    "transcript",  # text, stt_seconds
    "reply",  # text, timings
    "tts_start",
    "tts_end",
    "error",  # code, message
    "interrupt",  # reason: wake | stop | speech
    "follow_up",  # open: true/false, seconds
    "tool",  # tool (timer | reminder | time | date | memory), ok, said: a request handled without the LLM
    "device",  # status (lost | back), message: the microphone watchdog
    "timer_due",  # kind (timer | reminder), label, text: an announcement is being spoken
    "guard",  # reason (echo | self_address | leak | refusal | marker | tone | empty), action (regenerated |
    #           replaced | cut), attempt, seconds (generation thrown away), text: a reply failed the guard
    "dismissed",  # heard: the request was only a stop phrase ("never mind"); she stays silent
)


@dataclass(frozen=True)
class PipelineEvent:
    type: str
    t: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"type": self.type, "t": round(self.t, 3), **self.data}, ensure_ascii=False)


Listener = Callable[[PipelineEvent], None]


class EventBus:
    """Thread-safe fan-out of events to listeners, in the order they were emitted."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        # The latest events, for tests and the bench; bounded, so a day-long run does not grow.
        self.history: deque[PipelineEvent] = deque(maxlen=HISTORY_EVENTS)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, type_: str, t: float | None = None, **data: Any) -> PipelineEvent:
        assert type_ in EVENT_TYPES, type_
        event = PipelineEvent(type_, self._clock() if t is None else t, data)
        with self._lock:
            self.history.append(event)
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:  # a display or file problem must not stop the loop
                    log.exception("event listener failed on %s", type_)
        return event


class JsonlWriter:
    """Writes each event as one JSON line, flushed so other programs can follow along."""

    def __init__(self, target: Path | str) -> None:
        import sys

        self._stream: IO[str] = sys.stdout if str(target) == "-" else open(target, "w", encoding="utf-8")
        self._owns = str(target) != "-"

    def __call__(self, event: PipelineEvent) -> None:
        self._stream.write(event.to_json() + "\n")
        self._stream.flush()

    def close(self) -> None:
        if self._owns:
            self._stream.close()
