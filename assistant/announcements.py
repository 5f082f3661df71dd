"""Saying timers and reminders out loud when they fall due.

Contract: `Announcer.due(t)` is called by the loop on every chunk; at most every
`interval_seconds` of the timeline it looks in the store and returns the timers and
reminders that are due and not already being announced, each with the words to say (a
"While I was off, ..." form for ones that fell due before this run started). The loop then
says them: at once when she is idle, at the next pause between sentences when she is
talking (`Voice.interject`), and never over the user while they speak. `done()` marks one
as announced in the store; `retry()` hands it back to be tried at the next check.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.cues import timer_chime
from assistant.store import StorageError, Timer
from assistant.tools import Tools

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Due:
    timer: Timer
    text: str


def timeline_clock(now: Callable[[], float]) -> Callable[[], float]:
    """Unix time that follows an audio timeline (`source.now`): live, that is the wall clock;
    in file mode, the file's own time, so a timer set 10 s into a file falls due 10 s later
    in the file however fast the file is processed."""
    base = time.time() - now()
    return lambda: base + now()


class Announcer:
    def __init__(self, tools: Tools, interval_seconds: float = 0.5) -> None:
        self.tools = tools
        self.interval_seconds = interval_seconds
        self.started = tools.clock()
        self._next_check = float("-inf")
        self._busy: set[int] = set()  # ids being announced right now

    def due(self, t: float) -> list[Due]:
        if t < self._next_check:
            return []
        self._next_check = t + self.interval_seconds
        try:
            timers = [timer for timer in self.tools.due() if timer.id not in self._busy]
        except StorageError as exc:
            log.warning("cannot read timers: %s", exc)
            return []
        now = self.tools.clock()
        found = []
        for timer in timers:
            late = now - timer.due if timer.due < self.started else 0.0
            found.append(Due(timer, self.tools.announcement(timer, late)))
            self._busy.add(timer.id)
        return found

    def done(self, due: Due) -> None:
        try:
            self.tools.store.mark_announced(due.timer.id, self.tools.clock())
        except StorageError as exc:  # it will be said again after a restart: better than never
            log.warning("could not mark %s as announced: %s", due.timer.id, exc)
        self._busy.discard(due.timer.id)

    def retry(self, due: Due) -> None:
        self._busy.discard(due.timer.id)

    @staticmethod
    def chime(volume: float, rate: int) -> np.ndarray:
        """The chime before an announcement, followed by a short breath of silence."""
        return np.concatenate([timer_chime(volume, rate), np.zeros(int(0.15 * rate), np.float32)])
