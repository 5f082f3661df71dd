"""The terminal view of the event stream: one line per state change, what was heard and said.

Printed to stderr so stdout stays free for `--events -` and for `assistant chat` replies.
"""

from __future__ import annotations

import sys
from typing import TextIO

from assistant.events import PipelineEvent


class TerminalDisplay:
    def __init__(self, assistant_name: str = "Samantha", wake_phrase: str = "hey jarvis",
                 stream: TextIO | None = None) -> None:
        self.name = assistant_name
        self.wake_phrase = wake_phrase
        self.stream = stream or sys.stderr

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def __call__(self, event: PipelineEvent) -> None:
        d = event.data
        stamp = f"{event.t:7.2f}s"
        if event.type == "state":
            label = {
                "listening": f"listening (say \"{self.wake_phrase}\")",
                "recording": "listening to you...",
                "thinking": "thinking...",
                "speaking": "speaking...",
                "follow_up": "still listening: go on without the wake word",
            }.get(d["state"], d["state"])
            self._line(f"{stamp}  [{d['state']}] {label}")
        elif event.type == "wake":
            self._line(f"{stamp}  [wake] {d['model']} ({d['score']:.2f})")
        elif event.type == "transcript":
            self._line(f"{stamp}  [heard] \"{d['text']}\"")
        elif event.type == "reply":
            latency = d.get("response_latency_seconds")
            tail = f"   (answered in {latency:.2f} s)" if latency is not None else ""
            said = f"{d['heard']} ... (interrupted)" if d.get("interrupted") else d["text"]
            self._line(f"{stamp}  [{self.name}] {said}{tail}")
        elif event.type == "interrupt":
            self._line(f"{stamp}  [interrupted] by {'the wake word' if d['reason'] == 'wake' else d['reason']}")
        elif event.type == "follow_up" and not d.get("open"):
            self._line(f"{stamp}  [follow-up window closed] say \"{self.wake_phrase}\" to talk")
        elif event.type == "device":
            self._line(f"{stamp}  [{'!' if d['status'] == 'lost' else 'ok'}] {d['message']}")
        elif event.type == "timer_due":
            self._line(f"{stamp}  [{d['kind']}] {d['text']}")
        elif event.type == "tool" and not d.get("ok"):
            self._line(f"{stamp}  [{d['tool']}] not done: {d['said']}")
        elif event.type == "error":
            self._line(f"{stamp}  [!] {d['message']}")
