"""Settings: `config.yaml` -> one validated `Config` object.

Contract:
- `load_config(path, overrides)` reads the YAML file, applies `--set KEY=VALUE` overrides
  (dotted keys, values parsed as YAML scalars), validates everything with pydantic and
  resolves relative paths against the config file's folder.
- Any problem raises `ConfigError` whose message names the file, the key (with its line when
  known), the bad value and what is allowed; unknown keys get a "did you mean" suggestion.
- Units are part of every name (`_seconds`, `_hz`, ...). Nothing else in the program reads YAML.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_DIR / "config.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class AudioConfig(_Section):
    input_device: str | int | None = None
    output_device: str | int | None = None
    volume: float = Field(1.0, ge=0.0, le=2.0)
    max_queue_seconds: float = Field(10.0, gt=0, le=120)
    stall_seconds: float = Field(2.0, ge=0.5, le=60)


class WakeConfig(_Section):
    models: list[str] = Field(default_factory=lambda: ["hey_jarvis"], min_length=1)
    model_dir: str = "models/openwakeword"
    threshold: float = Field(0.5, gt=0.0, lt=1.0)
    refractory_seconds: float = Field(2.0, ge=0.0, le=30.0)
    preroll_seconds: float = Field(0.3, ge=0.0, le=2.0)
    threads: int = Field(1, ge=1, le=16)


class ListenConfig(_Section):
    vad_model_path: str = "models/openwakeword/silero_vad.onnx"
    speech_threshold: float = Field(0.5, gt=0.0, lt=1.0)
    silence_seconds: float = Field(0.5, ge=0.1, le=5.0)
    hesitation_silence_seconds: float = Field(1.0, ge=0.1, le=5.0)
    speculative_silence_seconds: float = Field(0.08, ge=0.0, le=5.0)
    no_speech_timeout_seconds: float = Field(5.0, ge=0.5, le=60.0)
    max_utterance_seconds: float = Field(15.0, ge=1.0, le=120.0)
    min_speech_seconds: float = Field(0.15, ge=0.0, le=5.0)
    mute_tail_seconds: float = Field(0.4, ge=0.0, le=5.0)


class SttConfig(_Section):
    model_path: str = "models/whisper-tiny.en"
    language: str | None = "en"
    beam_size: int = Field(1, ge=1, le=10)
    compute_type: Literal["int8", "int8_float32", "float32"] = "int8"
    threads: int = Field(2, ge=1, le=16)
    no_speech_threshold: float = Field(0.6, ge=0.0, le=1.0)
    min_avg_logprob: float = Field(-1.0, le=0.0)
    window_seconds: float = Field(15.0, ge=5.0, le=30.0)


class LlmConfig(_Section):
    backend: Literal["local", "openai"] = "local"
    model_path: str = "models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    base_url: str = "http://127.0.0.1:11434/v1"
    model: str = ""
    api_key_env: str = ""
    fallback_to_local: bool = False
    context_tokens: int = Field(2048, ge=256, le=131072)
    max_reply_tokens: int = Field(160, ge=8, le=4096)
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(0.9, gt=0.0, le=1.0)
    threads: int = Field(2, ge=1, le=64)
    history_turns: int = Field(8, ge=0, le=200)
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    seed: int = -1


class TtsConfig(_Section):
    voice_path: str = "models/piper/en_US-joe-medium.onnx"
    threads: int = Field(2, ge=1, le=16)
    length_scale: float = Field(1.0, ge=0.3, le=3.0)
    sentence_pause_seconds: float = Field(0.15, ge=0.0, le=2.0)
    first_chunk_min_words: int = Field(3, ge=1, le=50)
    first_chunk_max_words: int = Field(4, ge=0, le=50)
    max_chunk_chars: int = Field(300, ge=40, le=2000)


class BargeInConfig(_Section):
    enabled: bool = True
    stop_phrases: list[str] = Field(default_factory=lambda: [
        "stop", "wait", "never mind", "cancel", "be quiet", "quiet", "enough", "shut up", "hold on", "pause"])
    on_speech: bool = False
    min_speech_seconds: float = Field(0.3, ge=0.08, le=3.0)


class EchoConfig(_Section):
    cancellation: bool = True
    delay_hint_ms: int = Field(0, ge=0, le=1000)


class FollowUpConfig(_Section):
    seconds: float = Field(6.0, ge=0.0, le=60.0)
    question_seconds: float = Field(10.0, ge=0.0, le=60.0)
    min_speech_seconds: float = Field(0.3, ge=0.08, le=3.0)


class CuesConfig(_Section):
    wake: bool = True
    follow_up: bool = False
    volume: float = Field(0.3, ge=0.0, le=1.0)


class PersonaConfig(_Section):
    name: str = Field("Samantha", min_length=1)
    user_name: str | None = None
    prompt: str = Field(
        "You are {name}, a warm, curious and slightly witty companion who talks with {user} out loud.",
        min_length=1,
    )


class MemoryConfig(_Section):
    data_dir: str | None = None
    facts_in_prompt: int = Field(20, ge=0, le=200)


class ToolsConfig(_Section):
    enabled: bool = True
    timezone: str = ""


class PrivacyConfig(_Section):
    debug_recording_dir: str | None = None


class Config(_Section):
    audio: AudioConfig = Field(default_factory=AudioConfig)
    wake: WakeConfig = Field(default_factory=WakeConfig)
    listen: ListenConfig = Field(default_factory=ListenConfig)
    stt: SttConfig = Field(default_factory=SttConfig)
    llm: LlmConfig = Field(default_factory=LlmConfig)
    tts: TtsConfig = Field(default_factory=TtsConfig)
    barge_in: BargeInConfig = Field(default_factory=BargeInConfig)
    echo: EchoConfig = Field(default_factory=EchoConfig)
    follow_up: FollowUpConfig = Field(default_factory=FollowUpConfig)
    cues: CuesConfig = Field(default_factory=CuesConfig)
    persona: PersonaConfig = Field(default_factory=PersonaConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    tools: ToolsConfig = Field(default_factory=ToolsConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)

    # Not a setting: the folder relative paths are resolved against.
    base_dir: Path = Field(default=PROJECT_DIR, exclude=True)

    def path(self, value: str) -> Path:
        """Resolve a path setting: `~` and `$VARS` expanded, relative to the config file's folder."""
        import os

        p = Path(os.path.expandvars(os.path.expanduser(value)))
        return p if p.is_absolute() else (self.base_dir / p).resolve()


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map each dotted key path in the YAML text to its 1-based line number."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, prefix: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                path = (*prefix, str(key.value))
                lines[path] = key.start_mark.line + 1
                walk(value, path)

    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return lines
    if root is not None:
        walk(root, ())
    return lines


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The valid keys of the section that `loc` (the unknown key's location) lives in."""
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [k for k in model.model_fields if k != "base_dir"]


def _describe(error: dict[str, Any], source: str, lines: dict[tuple[str, ...], int]) -> str:
    loc = tuple(str(p) for p in error["loc"])
    key = ".".join(loc)
    line = lines.get(loc)
    where = f"{source}, line {line}" if line else source
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(Config, loc)
        guess = difflib.get_close_matches(loc[-1], allowed, n=1)
        hint = f" Did you mean '{'.'.join((*loc[:-1], guess[0]))}'?" if guess else ""
        return f"{where}: unknown key '{key}'.{hint} Allowed here: {', '.join(allowed)}."
    return f"{where}: '{key}' = {error.get('input')!r} is not allowed: {error['msg']}."


def _parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, for example --set stt.beam_size=1")
    key, raw = item.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def load_config(path: Path | None = None, overrides: list[str] | None = None) -> Config:
    """Load, override and validate the configuration (see the module docstring)."""
    path = Path(path) if path else DEFAULT_CONFIG_PATH
    source = str(path)
    if not path.exists():
        raise ConfigError(
            f"Config file {path} does not exist.",
            hint=f"Pass an existing file with --config, or copy {DEFAULT_CONFIG_PATH}.",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror}.") from exc
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{source}{where}: not valid YAML: {problem}.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections (audio:, wake:, ...).")

    for item in overrides or []:
        keys, value = _parse_override(item)
        node = data
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item}: '{k}' is not a section.")
        node[keys[-1]] = value

    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        lines = _key_lines(text)
        messages = [_describe(e, source, lines) for e in exc.errors()]
        raise ConfigError("\n".join(messages)) from None
    config.base_dir = path.resolve().parent
    return config
