"""Better models on request: a curated catalog pinned to exact files, and `pull` from a model hub.

Contract: every `CatalogEntry` names a repository, an exact revision (commit), a file and its
SHA-256. `pull(entry, ...)` downloads `{hub_url}/{repo}/resolve/{revision}/{file}` (the
Hugging Face layout) into `models/.partial/`, resuming an interrupted download with an HTTP
Range request, shows a progress bar (tqdm), checks the SHA-256 and only then moves the file
into `models/` with an atomic rename: a model path never holds a half-written or wrong file.
No network or a hub that refuses gives one `ModelError` line. This module is the only one
that downloads models at run time, and only when the user asks (`assistant models pull`).
Users may add their own pinned entries in a YAML file (`models.catalog_file`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

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


# Pins taken from the hub's own file pages (Git LFS SHA-256 and size at that revision).
CATALOG: tuple[CatalogEntry, ...] = (
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


def url_of(entry: CatalogEntry, hub_url: str) -> str:
    return f"{hub_url.rstrip('/')}/{entry.repo}/resolve/{entry.revision}/{entry.file}"


def pull(entry: CatalogEntry, models_dir: Path, hub_url: str, *, progress: bool = True,
         timeout_seconds: float = 30.0) -> Path:
    """Download (or resume) `entry` into `models_dir` and verify it; returns the final path."""
    from tqdm import tqdm

    final = models_dir / entry.dest
    if final.is_file() and sha256_of(final) == entry.sha256:
        return final
    partial = models_dir / ".partial" / (entry.dest.replace("/", "_") + ".part")
    partial.parent.mkdir(parents=True, exist_ok=True)
    have = partial.stat().st_size if partial.exists() else 0
    url = url_of(entry, hub_url)
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
    if sha256_of(partial) != entry.sha256:
        partial.unlink()
        raise ModelError(f"{entry.name}: the downloaded file's SHA-256 does not match the catalog; it was "
                         "deleted and nothing was installed.",
                         hint="Try again; if it keeps failing the hub's file changed, so do not use it.")
    final.parent.mkdir(parents=True, exist_ok=True)
    partial.replace(final)
    return final


def installed(models_dir: Path) -> list[tuple[str, int]]:
    """Model files under `models_dir` (relative path, bytes), not counting unfinished downloads."""
    out = []
    for path in sorted(models_dir.rglob("*")):
        rel = path.relative_to(models_dir)
        if path.is_file() and rel.parts[0] != ".partial" and path.name != "README.md":
            out.append((rel.as_posix(), path.stat().st_size))
    return out
