"""What the bot must remember: which Slack events it has handled (exactly one answer per question)
and the 👍/👎 feedback on its answers. SQLite in the data directory."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS slack_events (event_id TEXT PRIMARY KEY, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    turn INTEGER,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    user TEXT NOT NULL,
    value TEXT NOT NULL CHECK (value IN ('up', 'down')),
    created REAL NOT NULL
);
"""
# Slack retries for at most a few minutes; older records can go.
_KEEP_EVENTS_S = 24 * 3600


class SlackState:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def first_delivery(self, event_id: str) -> bool:
        """True the first time an event id is seen (atomically: two deliveries cannot both win)."""
        now = time.time()
        with self._lock:
            cur = self._db.execute("INSERT OR IGNORE INTO slack_events (event_id, created) VALUES (?, ?)", (event_id, now))
            self._db.execute("DELETE FROM slack_events WHERE created < ?", (now - _KEEP_EVENTS_S,))
        return cur.rowcount == 1

    def add_feedback(self, conversation_id: str, turn: int | None, question: str, answer: str, user: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO feedback (conversation_id, turn, question, answer, user, value, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, turn, question, answer, user, value, time.time()),
            )

    def feedback(self) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                "SELECT conversation_id, turn, question, answer, user, value, created FROM feedback ORDER BY id"
            ).fetchall()
        keys = ("conversation_id", "turn", "question", "answer", "user", "value", "created")
        return [dict(zip(keys, row)) for row in rows]

    def feedback_counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT value, COUNT(*) FROM feedback GROUP BY value").fetchall()
        return {"up": 0, "down": 0, **dict(rows)}
