"""State that API replicas must share, in Redis (QA_REDIS_URL): conversations, Slack event
de-duplication and feedback. Same interface as the SQLite stores used on one machine."""

from __future__ import annotations

import json
import time
import uuid

from service.conversations import UnknownConversation

# Keys expire so an abandoned conversation does not live forever (30 days after its last turn).
CONVERSATION_TTL_S = 30 * 24 * 3600
EVENT_TTL_S = 24 * 3600


def connect(url: str):
    import redis

    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)


class RedisConversationStore:
    def __init__(self, client, prefix: str = "qa"):
        self._r = client
        self._p = prefix

    def _key(self, conversation_id: str) -> str:
        return f"{self._p}:conversation:{conversation_id}"

    def create(self, conversation_id: str | None = None) -> str:
        conversation_id = conversation_id or uuid.uuid4().hex
        key = self._key(conversation_id)
        if self._r.set(f"{key}:created", time.time(), nx=True, ex=CONVERSATION_TTL_S) is None:
            self._r.expire(f"{key}:created", CONVERSATION_TTL_S)
        return conversation_id

    def exists(self, conversation_id: str) -> bool:
        return bool(self._r.exists(f"{self._key(conversation_id)}:created"))

    def questions(self, conversation_id: str, last: int) -> list[str]:
        if last <= 0:
            return []
        return [json.loads(t)["question"] for t in self._r.lrange(f"{self._key(conversation_id)}:turns", -last, -1)]

    def add_turn(self, conversation_id: str, question: str, answer: dict) -> None:
        key = self._key(conversation_id)
        turn = {"question": question, "answer": answer, "created": time.time()}
        with self._r.pipeline() as pipe:  # MULTI/EXEC: the turn and the expiry go together
            pipe.rpush(f"{key}:turns", json.dumps(turn, ensure_ascii=False))
            pipe.expire(f"{key}:turns", CONVERSATION_TTL_S)
            pipe.expire(f"{key}:created", CONVERSATION_TTL_S)
            pipe.execute()

    def turns(self, conversation_id: str) -> list[dict]:
        if not self.exists(conversation_id):
            raise UnknownConversation(conversation_id)
        raw = self._r.lrange(f"{self._key(conversation_id)}:turns", 0, -1)
        return [{"n": n, **json.loads(t)} for n, t in enumerate(raw, start=1)]

    def delete(self, conversation_id: str) -> bool:
        key = self._key(conversation_id)
        return self._r.delete(f"{key}:created", f"{key}:turns") > 0

    def close(self) -> None:
        self._r.close()


class RedisSlackState:
    def __init__(self, client, prefix: str = "qa"):
        self._r = client
        self._p = prefix

    def first_delivery(self, event_id: str) -> bool:
        # SET NX is atomic: of two replicas receiving the same event, exactly one wins.
        return bool(self._r.set(f"{self._p}:slack-event:{event_id}", 1, nx=True, ex=EVENT_TTL_S))

    def add_feedback(self, conversation_id: str, turn: int | None, question: str, answer: str, user: str, value: str) -> None:
        if value not in ("up", "down"):
            raise ValueError(f"feedback value must be 'up' or 'down', not {value!r}")
        record = {"conversation_id": conversation_id, "turn": turn, "question": question, "answer": answer,
                  "user": user, "value": value, "created": time.time()}
        self._r.rpush(f"{self._p}:feedback", json.dumps(record, ensure_ascii=False))

    def feedback(self) -> list[dict]:
        return [json.loads(r) for r in self._r.lrange(f"{self._p}:feedback", 0, -1)]

    def feedback_counts(self) -> dict[str, int]:
        counts = {"up": 0, "down": 0}
        for record in self.feedback():
            counts[record["value"]] += 1
        return counts
