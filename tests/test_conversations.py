import pytest

from service.conversations import ConversationStore, UnknownConversation


def test_turns_are_kept_in_order_and_survive_reopening(tmp_path):
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    cid = store.create()
    for n in range(3):
        store.add_turn(cid, f"question {n}", {"answer": f"answer {n}"})
    store.close()
    reopened = ConversationStore(path)
    assert reopened.questions(cid, last=2) == ["question 1", "question 2"]
    assert [t["answer"]["answer"] for t in reopened.turns(cid)] == ["answer 0", "answer 1", "answer 2"]


def test_delete_and_unknown(tmp_path):
    store = ConversationStore(tmp_path / "c.sqlite3")
    cid = store.create("chosen-id")
    assert cid == "chosen-id" and store.exists(cid)
    assert store.delete(cid) is True
    assert store.delete(cid) is False
    with pytest.raises(UnknownConversation):
        store.turns(cid)
