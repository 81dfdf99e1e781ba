"""Conversations persist in SQLite so follow-ups work across processes and restarts."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from service.errors import StorageFull, is_disk_full

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (conversation_id, n)
);
"""


class UnknownConversation(KeyError):
    pass


class ConversationStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()
        with self._writing():
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)

    @contextmanager
    def _writing(self):
        try:
            yield
        except (sqlite3.OperationalError, OSError) as exc:
            if is_disk_full(exc):
                raise StorageFull(f"no space left to save conversations ({self._path.parent})") from exc
            raise

    def create(self, conversation_id: str | None = None) -> str:
        conversation_id = conversation_id or uuid.uuid4().hex
        with self._lock, self._writing():
            self._db.execute(
                "INSERT OR IGNORE INTO conversations (id, created) VALUES (?, ?)", (conversation_id, time.time())
            )
        return conversation_id

    def exists(self, conversation_id: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return row is not None

    def questions(self, conversation_id: str, last: int) -> list[str]:
        """The last `last` questions of the conversation, oldest first."""
        if last <= 0:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT question FROM turns WHERE conversation_id = ? ORDER BY n DESC LIMIT ?",
                (conversation_id, last),
            ).fetchall()
        return [r[0] for r in reversed(rows)]

    def add_turn(self, conversation_id: str, question: str, answer: dict) -> None:
        with self._lock, self._writing():
            self._db.execute(
                "INSERT INTO turns (conversation_id, n, question, answer, created) VALUES "
                "(?, (SELECT COALESCE(MAX(n), 0) + 1 FROM turns WHERE conversation_id = ?), ?, ?, ?)",
                (conversation_id, conversation_id, question, json.dumps(answer, ensure_ascii=False), time.time()),
            )

    def turns(self, conversation_id: str) -> list[dict]:
        if not self.exists(conversation_id):
            raise UnknownConversation(conversation_id)
        with self._lock:
            rows = self._db.execute(
                "SELECT n, question, answer, created FROM turns WHERE conversation_id = ? ORDER BY n",
                (conversation_id,),
            ).fetchall()
        return [{"n": n, "question": q, "answer": json.loads(a), "created": c} for n, q, a, c in rows]

    def delete(self, conversation_id: str) -> bool:
        with self._lock, self._writing():
            cur = self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        return cur.rowcount > 0

    def close(self) -> None:
        self._db.close()
