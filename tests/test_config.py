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


# ---- layers: repo defaults < the user's file < --set ----------------------------------------
def test_user_file_overrides_defaults_and_set_overrides_both(tmp_path):
    from assistant.config import load_layers, set_user_value

    user = tmp_path / "samantha" / "config.yaml"
    assert not user.exists()
    assert set_user_value("llm.temperature", "0.2", user) == user  # created on first change
    set_user_value("persona.user_name", "Ana", user)
    config, sources = load_layers(None, ["llm.temperature=0.3"], user)
    assert config.llm.temperature == 0.3 and sources[("llm", "temperature")] == "--set llm.temperature=0.3"
    assert config.persona.user_name == "Ana" and sources[("persona", "user_name")].startswith(str(user))
    assert sources[("stt", "beam_size")].startswith(f"{DEFAULT_CONFIG_PATH}, line ")
    config, _ = load_layers(None, [], user)
    assert config.llm.temperature == 0.2


def test_bad_value_in_the_user_file_names_that_file_and_line(tmp_path):
    from assistant.config import load_layers

    user = tmp_path / "config.yaml"
    user.write_text("llm:\n  temperature: 9\n  tempreature: 1\n")
    with pytest.raises(ConfigError) as err:
        load_layers(None, [], user)
    msg = str(err.value)
    assert f"{user}, line 2: 'llm.temperature' = 9 is not allowed" in msg
    assert f"{user}, line 3: unknown key 'llm.tempreature'. Did you mean 'llm.temperature'?" in msg


def test_set_user_value_refuses_a_bad_value_and_keeps_the_file(tmp_path):
    from assistant.config import set_user_value

    user = tmp_path / "config.yaml"
    set_user_value("llm.temperature", "0.5", user)
    before = user.read_text()
    with pytest.raises(ConfigError, match="llm.temperature"):
        set_user_value("llm.temperature", "hot", user)
    assert user.read_text() == before


def test_config_show_and_set_from_the_command_line(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import PROJECT

    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=PROJECT, env=env,
                              capture_output=True, text=True, timeout=60)

    assert run("config", "set", "persona.user_name", "Ana").returncode == 0
    shown = run("config", "show", "--set", "llm.seed=3").stdout.splitlines()
    assert "  seed: 3    # --set llm.seed=3" in shown
    assert f"  user_name: 'Ana'    # {tmp_path / 'samantha' / 'config.yaml'}, line 3" in shown
    bad = run("config", "set", "llm.temperature", "hot")
    assert bad.returncode == 2 and "'llm.temperature' = 'hot' is not allowed" in bad.stderr
