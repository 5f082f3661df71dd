"""A short soak through the real loop (fast file mode): every turn is answered and memory does
not keep growing. `scripts/soak` runs the long version (300 turns + an hour idle)."""

from __future__ import annotations

import pytest
from conftest import require_models

from assistant.config import load_config
from assistant.soak import format_report, run_soak

pytestmark = pytest.mark.real


def test_forty_turns_and_idle_listening_do_not_grow_memory():
    require_models()
    config = load_config(None, ["llm.model_path=models/SmolLM2-135M-Instruct.Q4_1.gguf", "llm.max_reply_tokens=24"])
    report = run_soak(config, turns=40, idle_seconds=300, progress=lambda s: None)
    print(format_report(report))
    assert report["replies"] >= 38 and report["errors"] <= 2, report
    assert report["rss_growth_over_turns_mb"] <= 50, report
    assert report["idle_rss_end_mb"] - report["idle_rss_start_mb"] <= 20, report
    assert report["idle_wakes"] == 0, report
