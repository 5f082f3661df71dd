"""Settings: `config.yaml` -> one validated `Config` object.

Contract:
- `load_config(path, overrides)` merges three layers: the defaults file (the repo's
  config.yaml, or `--config PATH`), the user's own file (`user_config_path()`, XDG, written by
  `assistant config set` / `assistant models use`), then `--set KEY=VALUE` overrides (dotted
  keys, values parsed as YAML scalars); validates everything with pydantic and resolves
  relative paths against the defaults file's folder. `load_layers` also says where each
  value came from (`assistant config show`).
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
    threads: int = Field(1, ge=1, le=16)  # measured: 2 threads were slower here (README)
    no_speech_threshold: float = Field(0.6, ge=0.0, le=1.0)
    min_avg_logprob: float = Field(-1.0, le=0.0)
    window_seconds: float = Field(15.0, ge=5.0, le=30.0)


class LlmConfig(_Section):
    backend: Literal["local", "openai"] = "local"
    model_path: str = "models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
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


class PersonaExample(_Section):
    user: str = Field(min_length=1)
    reply: str = Field(min_length=1)


class PersonaConfig(_Section):
    name: str = Field("Samantha", min_length=1)
    user_name: str | None = None
    prompt: str = Field(
        "You are {name}, a warm, curious and slightly witty companion who talks with {user} out loud.",
        min_length=1,
    )
    examples: list[PersonaExample] = Field(default_factory=list)


class ModelsConfig(_Section):
    hub_url: str = "https://huggingface.co"
    catalog_file: str | None = None


class MemoryConfig(_Section):
    data_dir: str | None = None
    facts_in_prompt: int = Field(20, ge=0, le=200)
    keep_conversation: bool = True  # what the user says in passing, with its dates (journal.py)
    retention_days: int = Field(90, ge=0, le=36500)  # 0 = keep forever


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
    models: ModelsConfig = Field(default_factory=ModelsConfig)
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


def _describe(error: dict[str, Any], sources: dict[tuple[str, ...], str]) -> str:
    loc = tuple(str(p) for p in error["loc"])
    key = ".".join(loc)
    where = next((sources[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in sources), "config")
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


def user_config_path() -> Path:
    """The user's own settings file (XDG: ~/.config/samantha/config.yaml), created on first change."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("samantha", appauthor=False)) / "config.yaml"


def _read_yaml(path: Path) -> tuple[dict[str, Any], str]:
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
        raise ConfigError(f"{path}{where}: not valid YAML: {problem}.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections (audio:, wake:, ...).")
    return data, text


def _merge(into: dict[str, Any], layer: dict[str, Any], where: str, lines: dict[tuple[str, ...], int],
           sources: dict[tuple[str, ...], str], prefix: tuple[str, ...] = ()) -> None:
    """Deep-merge `layer` into `into`, remembering where each leaf came from ("file, line N")."""
    for key, value in layer.items():
        loc = (*prefix, str(key))
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, where, lines, sources, loc)
            continue
        into[key] = value
        line = lines.get(loc)
        sources[loc] = f"{where}, line {line}" if line else where
        if isinstance(value, dict):  # a new section: its leaves come from here too
            for sub in _leaves(value, loc):
                sources[sub] = f"{where}, line {lines[sub]}" if sub in lines else where


def _leaves(node: dict[str, Any], prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    out = []
    for k, v in node.items():
        loc = (*prefix, str(k))
        out += _leaves(v, loc) if isinstance(v, dict) else [loc]
    return out


def load_layers(path: Path | None = None, overrides: list[str] | None = None,
                user_file: Path | None = None) -> tuple[Config, dict[tuple[str, ...], str]]:
    """The merged configuration and, for every key set anywhere, where its value came from:
    the defaults file (the repo's config.yaml, or --config), then the user's file, then --set."""
    path = Path(path) if path else DEFAULT_CONFIG_PATH
    if not path.exists():
        raise ConfigError(
            f"Config file {path} does not exist.",
            hint=f"Pass an existing file with --config, or copy {DEFAULT_CONFIG_PATH}.",
        )
    data: dict[str, Any] = {}
    sources: dict[tuple[str, ...], str] = {}
    base, text = _read_yaml(path)
    _merge(data, base, str(path), _key_lines(text), sources)
    user = user_file if user_file is not None else user_config_path()
    if user.is_file():
        layer, text = _read_yaml(user)
        _merge(data, layer, str(user), _key_lines(text), sources)
    for item in overrides or []:
        keys, value = _parse_override(item)
        node = data
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item}: '{k}' is not a section.")
        node[keys[-1]] = value
        sources[tuple(keys)] = f"--set {item}"
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(_describe(e, sources) for e in exc.errors())) from None
    config.base_dir = path.resolve().parent
    return config, sources


def load_config(path: Path | None = None, overrides: list[str] | None = None,
                user_file: Path | None = None) -> Config:
    """Load, merge and validate the configuration (see the module docstring)."""
    return load_layers(path, overrides, user_file)[0]


def set_user_value(key: str, value: str, user_file: Path | None = None) -> Path:
    """Write one setting into the user's file (created if needed) after checking it is valid;
    the file is replaced atomically, so a crash never leaves half a config."""
    user = user_file if user_file is not None else user_config_path()
    data = _read_yaml(user)[0] if user.is_file() else {}
    keys, parsed = _parse_override(f"{key}={value}")
    load_layers(None, [f"{key}={value}"], user)  # raises ConfigError naming the key and value
    node = data
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = parsed
    user.parent.mkdir(parents=True, exist_ok=True)
    tmp = user.with_suffix(".yaml.tmp")
    tmp.write_text("# Your settings for Samantha; they override the repo's config.yaml.\n"
                   + yaml.safe_dump(data, sort_keys=True), encoding="utf-8")
    tmp.replace(user)
    return user


def flatten(config: Config) -> dict[tuple[str, ...], Any]:
    """Every setting as (section, key) -> value."""
    dumped = config.model_dump()
    return {loc: _get(dumped, loc) for loc in _leaves(dumped, ())}


def _get(node: dict[str, Any], loc: tuple[str, ...]) -> Any:
    for k in loc:
        node = node[k]
    return node
