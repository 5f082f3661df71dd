"""Errors with a stable code and a message a user can act on.

Every stage wraps its library's exceptions in one of these, so the CLI can print one
readable line (and a hint) instead of a traceback, and the loop can recover.
"""

from __future__ import annotations

MODEL_FIX_HINT = ("Run scripts/setup (or `assistant setup-models --force`) to reinstall the default models, "
                  "or point the config key at a good file.")


class AssistantError(Exception):
    """An error the user can understand: `code` is stable, `message` says what and how to fix."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class ConfigError(AssistantError):
    code = "config_invalid"


class ModelError(AssistantError):
    code = "model_missing"


class AudioDeviceError(AssistantError):
    code = "audio_device"


class SttError(AssistantError):
    code = "stt_failed"


class LlmError(AssistantError):
    code = "llm_failed"


class TtsError(AssistantError):
    code = "tts_failed"
