"""Conversations, feedback and Slack de-duplication: SQLite on one machine, Redis across replicas.
The Redis tests run a real redis-server on loopback."""

import shutil
import subprocess
import threading
import time

import pytest

from eval.local_servers import free_port
from service.conversations import ConversationStore, UnknownConversation
from service.shared_state import RedisConversationStore, RedisSlackState, connect
from service.slack.state import SlackState


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    server = shutil.which("redis-server")
    assert server, "redis-server is installed by `make test` (Debian package redis-server)"
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 20
    while True:
        try:
            connect(url).ping()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=["sqlite", "redis"])
def stores(request, tmp_path):
    """Two handles on the same shared state, as two replicas would have."""
    if request.param == "sqlite":
        return (ConversationStore(tmp_path / "c.sqlite3"), ConversationStore(tmp_path / "c.sqlite3"),
                SlackState(tmp_path / "s.sqlite3"), SlackState(tmp_path / "s.sqlite3"))
    url = request.getfixturevalue("redis_url")
    prefix = f"test-{time.time_ns()}"
    return (RedisConversationStore(connect(url), prefix), RedisConversationStore(connect(url), prefix),
            RedisSlackState(connect(url), prefix), RedisSlackState(connect(url), prefix))


def test_conversation_continues_on_another_replica(stores):
    one, two, _, _ = stores
    cid = one.create()
    one.add_turn(cid, "What is the missing link?", {"answer": "The Resht–Astara railway."})
    assert two.exists(cid)
    assert two.questions(cid, last=2) == ["What is the missing link?"]
    two.add_turn(cid, "How long is it?", {"answer": "162 km."})
    assert [(t["n"], t["question"]) for t in one.turns(cid)] == [(1, "What is the missing link?"), (2, "How long is it?")]
    assert one.create(cid) == cid and len(two.turns(cid)) == 2  # creating an existing id keeps its turns
    assert two.delete(cid) is True
    with pytest.raises(UnknownConversation):
        one.turns(cid)


def test_exactly_one_replica_answers_an_event(stores):
    _, _, one, two = stores
    winners = []

    def deliver(state):
        if state.first_delivery("Ev-shared-1"):
            winners.append(state)

    threads = [threading.Thread(target=deliver, args=(s,)) for s in (one, two, one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert one.first_delivery("Ev-shared-2") is True


def test_feedback_is_shared(stores):
    _, _, one, two = stores
    one.add_feedback("c1", 1, "How long is it?", "162 km.", "U1", "up")
    two.add_feedback("c1", 1, "How long is it?", "162 km.", "U2", "down")
    assert one.feedback_counts() == two.feedback_counts() == {"up": 1, "down": 1}
    assert [f["user"] for f in two.feedback()] == ["U1", "U2"]


def test_container_uses_redis_when_configured(indexed, redis_url, tmp_path):
    from tests.conftest import make_container

    a = make_container(indexed.settings.data_dir, share_model_with=indexed, redis_url=redis_url)
    b = make_container(indexed.settings.data_dir, share_model_with=indexed, redis_url=redis_url)
    first = a.engine.ask("What is the key missing link of the North–South corridor?")
    follow = b.engine.ask("How long is it?", conversation_id=first["conversation_id"], create_conversation=False)
    assert "162" in follow["answer"]
    assert isinstance(a.slack_state, RedisSlackState)
