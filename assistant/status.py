"""The live status panel in the terminal (rich): what she is doing, a microphone level meter,
the last thing heard and said, how fast she answered, and what is pending.

Contract: `StatusPanel` is an event listener (`bus.subscribe(panel)`) plus `level(rms)`, fed
by the loop with each microphone chunk's loudness (0..1). `render()` returns the panel as a
rich renderable (tests print it to a recording console); `start()`/`stop()` run it live on
stderr, redrawn a few times a second. Plain log lines instead: `TerminalDisplay` (--quiet,
or when stderr is not a terminal).
"""

from __future__ import annotations

import math
import sys
import threading

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from assistant.events import PipelineEvent

LABELS = {
    "listening": ("listening", "say \"{wake}\"", "green"),
    "follow_up": ("follow-up", "go on, no wake word needed", "cyan"),
    "recording": ("hearing you", "", "yellow"),
    "thinking": ("thinking", "", "magenta"),
    "speaking": ("speaking", "say \"stop\" or \"{wake}\" to interrupt", "blue"),
}


class StatusPanel:
    def __init__(self, name: str = "Samantha", wake_phrase: str = "hey jarvis", console: Console | None = None) -> None:
        self.name = name
        self.wake_phrase = wake_phrase
        self.console = console or Console(stderr=True)
        self.state = "starting"
        self.level_rms = 0.0
        self.heard = ""
        self.said = ""
        self.latency: float | None = None
        self.notice = ""
        self._lock = threading.Lock()
        self._live: Live | None = None

    # ---- inputs -----------------------------------------------------------------------------
    def level(self, rms: float) -> None:
        self.level_rms = rms

    def __call__(self, event: PipelineEvent) -> None:
        d = event.data
        with self._lock:
            if event.type == "ready":
                self.state = "listening"
            elif event.type == "state":
                self.state = d["state"]
            elif event.type == "transcript":
                self.heard = d["text"]
            elif event.type == "reply":
                self.said = f"{d['heard']} ... (interrupted)" if d.get("interrupted") else d["text"]
                self.latency = d.get("response_latency_seconds")
            elif event.type in ("error", "device"):
                self.notice = d["message"]
            elif event.type == "timer_due":
                self.notice = d["text"]
            elif event.type == "tool" and not d.get("ok"):
                self.notice = d["said"]
        if self._live is not None:
            self._live.update(self.render())

    # ---- output -------------------------------------------------------------------------------
    def _meter(self, width: int = 24) -> Text:
        db = 20 * math.log10(max(self.level_rms, 1e-5))  # -100 .. 0 dBFS
        filled = max(0, min(width, round((db + 60) / 60 * width)))  # -60 dBFS = empty
        return Text("█" * filled + "·" * (width - filled), style="green" if filled < width * 0.8 else "red")

    def render(self) -> Panel:
        with self._lock:
            label, hint, colour = LABELS.get(self.state, (self.state, "", "white"))
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold", no_wrap=True)
            table.add_column()
            table.add_row("state", Text(label, style=f"bold {colour}") + Text(
                f"  {hint.format(wake=self.wake_phrase)}" if hint else "", style="dim"))
            table.add_row("mic", self._meter())
            table.add_row("you", Text(self.heard or "-"))
            table.add_row(self.name.lower(), Text(self.said or "-"))
            table.add_row("answered in", Text(f"{self.latency:.2f} s" if self.latency is not None else "-"))
            if self.notice:
                table.add_row("note", Text(self.notice, style="yellow"))
            return Panel(Group(table), title=self.name, border_style=colour, expand=False)

    def start(self) -> None:
        self._live = Live(self.render(), console=self.console, refresh_per_second=8, transient=False)
        self._live.start()

        def tick() -> None:  # the level meter moves without events
            while self._live is not None:
                self._live.update(self.render())
                threading.Event().wait(0.15)

        threading.Thread(target=tick, name="status", daemon=True).start()

    def stop(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.stop()


def wants_panel(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()
