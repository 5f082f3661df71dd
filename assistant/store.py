"""What Samantha keeps between runs: remembered facts and timers/reminders, in SQLite.

Contract: every write is one SQLite transaction with `synchronous=FULL`, committed before the
method returns, so a fact or timer confirmed to the user survives a crash or SIGKILL at any
moment after that; a failed write (full disk, read-only folder) raises `StorageError` and
leaves what was saved before untouched (SQLite's journal rolls the transaction back).
The database lives in the user's data directory (`platformdirs`) unless `memory.data_dir`
says otherwise. Times are Unix seconds (UTC); the caller converts for speech.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

from assistant.errors import AssistantError

DB_NAME = "samantha.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS facts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS timers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('timer', 'reminder')),
    label TEXT NOT NULL,
    seconds REAL NOT NULL,
    created REAL NOT NULL,
    due REAL NOT NULL,
    announced REAL
);
"""


class StorageError(AssistantError):
    code = "storage"


@dataclass(frozen=True)
class Fact:
    id: int
    text: str
    created: float


@dataclass(frozen=True)
class Timer:
    id: int
    kind: str  # "timer" or "reminder"
    label: str  # what it is for ("" for a plain timer; the task for a reminder)
    seconds: float  # the duration asked for (timers); 0 for a reminder at a clock time
    created: float
    due: float
    announced: float | None


def default_data_dir() -> Path:
    return Path(user_data_dir("samantha", appauthor=False))


class Store:
    """The SQLite file; safe to use from the loop's threads (one lock around each call)."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.dir = data_dir or default_data_dir()
        self.path = self.dir / DB_NAME
        self._lock = threading.Lock()
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"Cannot open the memory file {self.path}: {exc}.",
                               hint="Check that the folder exists and is writable, or set memory.data_dir "
                                    "in config.yaml.") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                cursor = self._db.execute(sql, args)
                self._db.execute("COMMIT")
                return cursor
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StorageError(f"Could not save to {self.path}: {exc}.",
                                   hint="Free some disk space or make the folder writable; "
                                        "what was saved before is kept.") from exc

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(f"Could not read {self.path}: {exc}.") from exc

    # ---- facts ---------------------------------------------------------------------------
    def add_fact(self, text: str, now: float) -> Fact:
        cursor = self._write("INSERT INTO facts (text, created) VALUES (?, ?)", (text, now))
        return Fact(int(cursor.lastrowid or 0), text, now)

    def facts(self) -> list[Fact]:
        return [Fact(*row) for row in self._read("SELECT id, text, created FROM facts ORDER BY id")]

    def forget_fact(self, fact_id: int) -> bool:
        return self._write("DELETE FROM facts WHERE id = ?", (fact_id,)).rowcount > 0

    # ---- timers and reminders ------------------------------------------------------------
    def add_timer(self, kind: str, label: str, seconds: float, now: float, due: float) -> Timer:
        cursor = self._write("INSERT INTO timers (kind, label, seconds, created, due) VALUES (?, ?, ?, ?, ?)",
                             (kind, label, seconds, now, due))
        return Timer(int(cursor.lastrowid or 0), kind, label, seconds, now, due, None)

    def pending(self) -> list[Timer]:
        """Timers and reminders not yet announced, soonest first."""
        return [Timer(*row) for row in self._read(
            "SELECT id, kind, label, seconds, created, due, announced FROM timers "
            "WHERE announced IS NULL ORDER BY due, id")]

    def mark_announced(self, timer_id: int, now: float) -> None:
        self._write("UPDATE timers SET announced = ? WHERE id = ?", (now, timer_id))

    def cancel_timer(self, timer_id: int) -> bool:
        return self._write("DELETE FROM timers WHERE id = ? AND announced IS NULL", (timer_id,)).rowcount > 0
