"""What Samantha keeps between runs: remembered facts, timers/reminders and the journal of what
the user said in passing (journal.py decides what goes in), in SQLite.

Contract: every write is one SQLite transaction with `synchronous=FULL`, committed before the
method returns, so a fact or timer confirmed to the user survives a crash or SIGKILL at any
moment after that; a failed write (full disk, read-only folder) raises `StorageError` and
leaves what was saved before untouched (SQLite's journal rolls the transaction back).
The database lives in the user's data directory (`platformdirs`) unless `memory.data_dir`
says otherwise. Times are Unix seconds (UTC); the caller converts for speech. The file is the
user's alone: created 0600 in a 0700 folder, and group/other bits are taken away on every open.
Deleted rows are overwritten (`secure_delete`) and forgotten journal words are purged from the
full-text index in the same transaction, so "forget" leaves no copy in the file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
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
-- What the user said in passing (journal.py): their sentence, when it was said (Unix seconds and
-- the local day), and the days it is about ("on Saturday" -> that date; NULL when it names none).
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    said REAL NOT NULL,
    said_day TEXT NOT NULL,
    day_from TEXT,
    day_to TEXT,
    kind TEXT NOT NULL,
    asked REAL
);
CREATE INDEX IF NOT EXISTS journal_days ON journal (day_from, day_to);
CREATE VIRTUAL TABLE IF NOT EXISTS journal_words USING fts5(
    text, content='journal', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER IF NOT EXISTS journal_added AFTER INSERT ON journal BEGIN
    INSERT INTO journal_words (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS journal_deleted AFTER DELETE ON journal BEGIN
    INSERT INTO journal_words (journal_words, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_ENTRY_COLUMNS = "id, text, said, said_day, day_from, day_to, kind, asked"


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


@dataclass(frozen=True)
class Entry:
    """One thing the user said in passing."""

    id: int
    text: str  # their sentence, neutralised
    said: float  # when (Unix seconds)
    said_day: date  # the local day it was said on
    day_from: date | None  # the days it is about ("on Saturday"), None when it names none
    day_to: date | None
    kind: str  # "plan", "feeling", "preference", "person" or "life" (journal.py)
    asked: float | None  # when she asked about it (journal.due_question), None if never

    @staticmethod
    def from_row(row: tuple) -> Entry:
        i, text, said, said_day, day_from, day_to, kind, asked = row
        return Entry(int(i), text, said, date.fromisoformat(said_day),
                     date.fromisoformat(day_from) if day_from else None,
                     date.fromisoformat(day_to) if day_to else None, kind, asked)


def _private(path: Path) -> None:
    """Take group and other permissions away (the owner's own bits stay: a file the user made
    read-only stays read-only). Not the owner: left as it is."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, mode & ~0o077)
    except OSError:
        pass


def default_data_dir() -> Path:
    return Path(user_data_dir("samantha", appauthor=False))


class Store:
    """The SQLite file; safe to use from the loop's threads (one lock around each call)."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.dir = data_dir or default_data_dir()
        self.path = self.dir / DB_NAME
        self._lock = threading.Lock()
        try:
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            _private(self.dir)
            if not self.path.exists():  # created private, never readable by others for a moment
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            _private(self.path)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"Cannot open the memory file {self.path}: {exc}.",
                               hint="Check that the folder exists and is writable, or set memory.data_dir "
                                    "in config.yaml.") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock: committed on leaving, rolled back on an error
        (raised as StorageError, what was saved before is kept)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StorageError(f"Could not save to {self.path}: {exc}.",
                                   hint="Free some disk space or make the folder writable; "
                                        "what was saved before is kept.") from exc

    def _write(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._transaction() as db:
            return db.execute(sql, args)

    def _write_all(self, statements: list[tuple[str, tuple]]) -> int:
        """Several statements in one transaction (all or nothing); the rows the first changed."""
        with self._transaction() as db:
            changed = db.execute(*statements[0]).rowcount
            for sql, args in statements[1:]:
                db.execute(sql, args)
            return changed

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

    # ---- the journal: what the user said in passing ----------------------------------------
    def add_entry(self, text: str, said: float, said_day: date, day_from: date | None, day_to: date | None,
                  kind: str) -> Entry:
        cursor = self._write("INSERT INTO journal (text, said, said_day, day_from, day_to, kind) VALUES "
                             "(?, ?, ?, ?, ?, ?)",
                             (text, said, said_day.isoformat(), day_from.isoformat() if day_from else None,
                              day_to.isoformat() if day_to else None, kind))
        return Entry(int(cursor.lastrowid or 0), text, said, said_day, day_from, day_to, kind, None)

    def entries(self, ids: set[int] | None = None) -> list[Entry]:
        """Journal entries, oldest first (only those in `ids` when given)."""
        rows = self._read(f"SELECT {_ENTRY_COLUMNS} FROM journal ORDER BY said, id")
        found = [Entry.from_row(row) for row in rows]
        return found if ids is None else [e for e in found if e.id in ids]

    def entry_ids_matching(self, fts_query: str) -> set[int]:
        """Ids of entries whose words match an FTS5 query (the caller quotes its terms)."""
        return {row[0] for row in self._read("SELECT rowid FROM journal_words WHERE journal_words MATCH ?",
                                             (fts_query,))}

    def entry_ids_on(self, first: date, last: date) -> set[int]:
        """Ids of entries about a day in first..last, or said then without naming a day."""
        a, b = first.isoformat(), last.isoformat()
        return {row[0] for row in self._read(
            "SELECT id FROM journal WHERE (day_from <= ? AND day_to >= ?) "
            "OR (day_from IS NULL AND said_day BETWEEN ? AND ? AND kind != 'preference')", (b, a, a, b))}

    def forget_entries(self, ids: list[int]) -> int:
        """Delete entries and purge their words from the full-text index, in one transaction."""
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        return self._write_all([(f"DELETE FROM journal WHERE id IN ({marks})", tuple(ids)),
                                ("INSERT INTO journal_words (journal_words) VALUES ('optimize')", ())])

    def entry_ids_said_before(self, said: float) -> list[int]:
        return [row[0] for row in self._read("SELECT id FROM journal WHERE said < ?", (said,))]

    def mark_entry_asked(self, entry_id: int, now: float) -> None:
        self._write("UPDATE journal SET asked = ? WHERE id = ?", (now, entry_id))

    def meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
