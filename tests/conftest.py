"""Shared test helpers: where the project, its models and the shared fixtures are."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
MODELS = PROJECT / "models"
FIXTURES = PROJECT.parent / "shared" / "fixtures"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The tests (and the programs they start) never read or write the user's own settings,
# memories or timers: XDG folders point into a temporary folder for the whole run.
_HOME = Path(tempfile.mkdtemp(prefix="samantha-tests-"))
for _var, _sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache")):
    os.environ[_var] = str(_HOME / _sub)


def fixture(name: str) -> Path:
    """A shared real recording; fails loudly (never skips) when the folder is missing."""
    path = FIXTURES / name
    if not path.is_file():
        pytest.fail(f"shared fixture {path} is missing: tests expect ../shared/fixtures beside the project")
    return path


def require_models() -> None:
    if not (MODELS / "openwakeword" / "hey_jarvis_v0.1.onnx").is_file():
        pytest.fail("default models are not installed: run scripts/setup (or `assistant setup-models`)")
