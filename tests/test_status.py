"""The live status panel renders every state (text snapshots on a recording console), and
`--events -` streams valid JSON lines on stdout."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import PROJECT, require_models
from rich.console import Console
from speech import piper, session, silence

from assistant.events import PipelineEvent
from assistant.status import StatusPanel


def snapshot(panel: StatusPanel) -> str:
    console = Console(record=True, width=90, color_system=None)
    console.print(panel.render())
    return console.export_text()


@pytest.mark.parametrize(("state", "words"), [
    ("listening", "listening  say \"hey jarvis\""),
    ("follow_up", "follow-up  go on, no wake word needed"),
    ("recording", "hearing you"),
    ("thinking", "thinking"),
    ("speaking", "speaking  say \"stop\" or \"hey jarvis\" to interrupt"),
])
def test_each_state_renders(state, words):
    panel = StatusPanel("Samantha", "hey jarvis")
    panel(PipelineEvent("state", 1.0, {"state": state}))
    text = snapshot(panel)
    assert "Samantha" in text and words in text and "mic" in text


def test_the_panel_shows_the_turn_and_the_level():
    panel = StatusPanel("Samantha", "hey jarvis")
    panel.level(0.0)
    quiet = snapshot(panel)
    panel.level(0.3)
    loud = snapshot(panel)
    assert quiet.count("█") < loud.count("█")
    panel(PipelineEvent("transcript", 2.0, {"text": "What is the capital of France?"}))
    panel(PipelineEvent("reply", 3.0, {"text": "Paris.", "interrupted": False, "response_latency_seconds": 0.71}))
    panel(PipelineEvent("timer_due", 4.0, {"kind": "timer", "label": "", "text": "Your 10 minute timer is done."}))
    text = snapshot(panel)
    for expected in ("you", "What is the capital of France?", "samantha", "Paris.", "answered in  0.71 s",
                     "Your 10 minute timer is done."):
        assert expected in text, text


def test_events_dash_streams_json_lines_on_stdout(tmp_path):
    require_models()
    wav = session(tmp_path / "in.wav", [silence(0.5), piper("Hey Jarvis."), silence(0.3),
                                        piper("What time is it?"), silence(3.0)])
    result = subprocess.run([sys.executable, "-m", "assistant", "--set", f"memory.data_dir={tmp_path}", "run",
                             "--input", str(wav), "--events", "-", "--fast", "--quiet"],
                            cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]  # every line is JSON
    kinds = [e["type"] for e in events]
    assert kinds[0] == "ready" and "wake" in kinds and "tool" in kinds and "reply" in kinds
    assert all(isinstance(e["t"], float | int) for e in events)
    assert "[heard]" in result.stderr  # the plain log lines went to stderr
