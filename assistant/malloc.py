"""Keeping glibc's heap from creeping up over a day of turns.

Each reply runs on fresh threads (turn, TTS, player); glibc gives threads their own malloc
arenas (up to 8 per core) and each arena keeps the memory its thread freed, so resident
memory climbs in steps over hundreds of turns although nothing leaks (seen in scripts/soak).
`limit_arenas()` caps the arenas at start; `trim()` hands freed heap back to the system after
each turn. Both are no-ops where glibc is not the C library. ctypes because no maintained
package wraps these two calls.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_ARENA_MAX = -8  # from glibc's malloc.h


def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()


def limit_arenas(arenas: int = 2) -> None:
    if _LIBC is not None and not _LIBC.mallopt(M_ARENA_MAX, arenas):
        log.debug("mallopt(M_ARENA_MAX) refused")


def trim() -> None:
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
