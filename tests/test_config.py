"""Pure tier: config loading, overrides and the messages for bad values."""

import pytest

from assistant.config import DEFAULT_CONFIG_PATH, load_config
from assistant.errors import ConfigError


def write(tmp_path, text):
    p = tmp_path / "config.yaml"
    p.write_text(text)
    return p


def test_repo_config_is_valid_and_matches_the_defaults():
    config = load_config(DEFAULT_CONFIG_PATH)
    assert config.wake.models == ["hey_jarvis"]
    assert config.path(config.llm.model_path).name.endswith(".gguf")
    assert config.privacy.debug_recording_dir is None  # private by default


def test_every_key_in_the_model_is_in_the_repo_config():
    import yaml

    from assistant.config import Config

    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    for section, model in Config.model_fields.items():
        if section == "base_dir":
            continue
        sub = model.annotation.model_fields
        assert set(data[section]) == set(sub), section


def test_unknown_key_suggests_the_closest(tmp_path):
    p = write(tmp_path, "wake:\n  treshold: 0.5\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    msg = str(err.value)
    assert "line 2" in msg and "wake.treshold" in msg and "Did you mean 'wake.threshold'" in msg


@pytest.mark.parametrize("text, words", [
    ("wake:\n  threshold: 1.5\n", ["wake.threshold", "1.5", "less than 1"]),
    ("listen:\n  silence_seconds: -1\n", ["listen.silence_seconds", "-1"]),
    ("llm:\n  context_tokens: fast\n", ["llm.context_tokens", "'fast'", "integer"]),
    ("stt:\n  compute_type: float64\n", ["stt.compute_type", "int8"]),
])
def test_bad_values_name_key_value_and_rule(tmp_path, text, words):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    for word in words:
        assert word in str(err.value)


def test_malformed_yaml_gives_line_and_column(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "wake:\n  models: [hey_jarvis\n"))
    assert "not valid YAML" in str(err.value) and "line" in str(err.value)


def test_overrides_with_dotted_keys(tmp_path):
    config = load_config(write(tmp_path, "stt:\n  beam_size: 5\n"),
                         ["stt.beam_size=1", "wake.models=[alexa, hey_mycroft]", "audio.input_device=room"])
    assert config.stt.beam_size == 1
    assert config.wake.models == ["alexa", "hey_mycroft"]
    assert config.audio.input_device == "room"
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, ""), ["stt.beam_size"])


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    config = load_config(write(tmp_path, "llm:\n  model_path: sub/m.gguf\n"))
    assert config.path(config.llm.model_path) == tmp_path / "sub" / "m.gguf"


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
