"""A missing, truncated or corrupt model file is reported at start (not at the first turn),
naming the file and the command that fixes it, with no traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import PROJECT, require_models

pytestmark = pytest.mark.real
MODELS = PROJECT / "models"
FIX = "setup-models"


def _copy(src, dst):
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copyfile(src, dst)
    return dst


def _truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _garble(path):
    data = bytearray(path.read_bytes())
    for i in range(64, len(data), 997):  # keep the header, spoil the body
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _role_setup(tmp_path, role, damage):
    """A copy of one role's model, damaged; returns the --set override and the damaged file."""
    if role == "llm":
        f = _copy(MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf", tmp_path / "model.gguf")
        key, target = f"llm.model_path={f}", f
    elif role == "stt":
        d = _copy(MODELS / "whisper-tiny.en", tmp_path / "whisper")
        key, target = f"stt.model_path={d}", d / "model.bin"
    elif role == "tts":
        f = _copy(MODELS / "piper" / "en_US-joe-medium.onnx", tmp_path / "voice.onnx")
        _copy(MODELS / "piper" / "en_US-joe-medium.onnx.json", tmp_path / "voice.onnx.json")
        key, target = f"tts.voice_path={f}", f
    elif role == "wake":
        d = _copy(MODELS / "openwakeword", tmp_path / "oww")
        key, target = f"wake.model_dir={d}", d / "hey_jarvis_v0.1.onnx"
    else:  # vad
        f = _copy(MODELS / "openwakeword" / "silero_vad.onnx", tmp_path / "vad.onnx")
        key, target = f"listen.vad_model_path={f}", f
    if damage == "missing":
        target.unlink()
    elif damage == "truncated":
        _truncate(target)
    else:
        _garble(target)
    return key, target


@pytest.mark.parametrize("damage", ["missing", "truncated", "corrupt"])
@pytest.mark.parametrize("role", ["llm", "stt", "tts", "wake", "vad"])
def test_a_damaged_model_is_reported_at_start(tmp_path, role, damage):
    require_models()
    key, target = _role_setup(tmp_path, role, damage)
    wav = tmp_path / "in.wav"
    from speech import session, silence

    session(wav, [silence(1.0)])
    result = subprocess.run([sys.executable, "-m", "assistant", "--set", key, "run", "--input", str(wav), "--fast"],
                            cwd=PROJECT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    named = str(target) in result.stderr or str(target.parent) in result.stderr
    assert named and FIX in result.stderr, result.stderr
