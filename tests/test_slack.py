"""The Slack bot through the FastAPI app, with signed requests and a fake Slack Web API on loopback."""

import json
import time
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier

from service.api.app import create_app
from service.slack.app import DRAFT_NOTE
from service.slack.state import SlackState
from tests.conftest import make_container
from tests.fake_slack import FakeSlack

SECRET = "test-signing-secret"


def _slack_container(indexed, data_dir, fake: FakeSlack, **settings):
    return make_container(data_dir, share_model_with=indexed, slack_bot_token="xoxb-test",
                          slack_signing_secret=SECRET, slack_api_url=fake.url, **settings)


@pytest.fixture()
def slack(indexed, tmp_path):
    fake = FakeSlack()
    container = _slack_container(indexed, indexed.settings.data_dir, fake)
    with TestClient(create_app(container)) as client:
        yield client, fake, container
    fake.close()


def _signed(body: str, secret: str = SECRET, age_s: int = 0, content_type: str = "application/json") -> dict:
    timestamp = str(int(time.time()) - age_s)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature, "Content-Type": content_type}


def _event(event: dict, event_id: str) -> str:
    return json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": event_id,
                       "event_time": int(time.time()), "event": event})


def _mention(text: str, ts: str, thread_ts: str | None = None, channel: str = "C1") -> dict:
    event = {"type": "app_mention", "user": "U1", "text": f"<@UBOT> {text}", "ts": ts, "channel": channel}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def _post_event(client, event: dict, event_id: str, retry: int | None = None):
    body = _event(event, event_id)
    headers = _signed(body)
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    started = time.perf_counter()
    response = client.post("/slack/events", content=body, headers=headers)
    return response, time.perf_counter() - started


def _final_update(fake, channel: str, text_part: str):
    def find():
        return [u for u in fake.named("chat.update") if u.get("channel") == channel and "blocks" in u
                and text_part in json.dumps(u["blocks"], ensure_ascii=False)]
    return fake.wait_for(find)[-1]


def test_mention_gets_one_threaded_answer_with_sources_even_when_retried(slack):
    client, fake, _ = slack
    event = _mention("How long is the Resht–Astara railway?", ts="1700000001.000100", channel="C-mention")
    response, seconds = _post_event(client, event, "Ev-mention-1")
    assert response.status_code == 200 and seconds < 3
    update = _final_update(fake, "C-mention", "162")
    placeholder = [m for m in fake.named("chat.postMessage") if m["channel"] == "C-mention"]
    assert len(placeholder) == 1
    assert placeholder[0]["thread_ts"] == "1700000001.000100"
    blocks = json.dumps(update["blocks"], ensure_ascii=False)
    assert '"Sources"' in blocks and "russia-iran-partnership-south-caucasus.txt" in blocks
    assert [e["action_id"] for e in update["blocks"][-1]["elements"]] == ["feedback_up", "feedback_down"]

    # Slack retries the same event, and delivers it once more without the retry header: still one answer.
    assert _post_event(client, event, "Ev-mention-1", retry=1)[0].status_code == 200
    assert _post_event(client, event, "Ev-mention-1")[0].status_code == 200
    time.sleep(1.0)
    assert len([m for m in fake.named("chat.postMessage") if m["channel"] == "C-mention"]) == 1


def test_follow_up_in_the_thread_uses_the_earlier_turn(slack):
    client, fake, _ = slack
    root = "1700000002.000100"
    _post_event(client, _mention("What is the key missing link of the North–South corridor?", ts=root,
                                 channel="C-follow"), "Ev-follow-1")
    _final_update(fake, "C-follow", "Resht")
    _post_event(client, _mention("How long is it?", ts="1700000003.000100", thread_ts=root, channel="C-follow"),
                "Ev-follow-2")
    update = _final_update(fake, "C-follow", "162")
    assert all(m["thread_ts"] == root for m in fake.named("chat.postMessage") if m["channel"] == "C-follow")
    assert "162" in update["text"]


def test_direct_message_is_answered_and_bots_are_ignored(slack):
    client, fake, _ = slack
    bot = {"type": "message", "channel_type": "im", "channel": "D-bot", "user": "U2", "bot_id": "B9",
           "text": "How long is the Resht–Astara railway?", "ts": "1700000004.000100"}
    _post_event(client, bot, "Ev-dm-bot")
    dm = {"type": "message", "channel_type": "im", "channel": "D1", "user": "U2",
          "text": "How long is the Resht–Astara railway?", "ts": "1700000005.000100"}
    _post_event(client, dm, "Ev-dm-1")
    _final_update(fake, "D1", "162")
    assert not [m for m in fake.named("chat.postMessage") if m["channel"] == "D-bot"]


def test_feedback_click_is_stored_and_counted(slack):
    client, fake, container = slack
    _post_event(client, _mention("How long is the Resht–Astara railway?", ts="1700000006.000100",
                                 channel="C-feedback"), "Ev-feedback-1")
    update = _final_update(fake, "C-feedback", "162")
    button = update["blocks"][-1]["elements"][1]  # 👎
    payload = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U7"}, "api_app_id": "A1",
               "container": {"type": "message", "channel_id": "C-feedback"}, "trigger_id": "1",
               "channel": {"id": "C-feedback"}, "message": {"ts": update["ts"]},
               "actions": [{"action_id": button["action_id"], "block_id": "feedback", "value": button["value"],
                            "type": "button", "action_ts": "1"}]}
    body = urlencode({"payload": json.dumps(payload)})
    response = client.post("/slack/events", content=body,
                           headers=_signed(body, content_type="application/x-www-form-urlencoded"))
    assert response.status_code == 200
    stored = SlackState(container.settings.slack_db).feedback()
    mine = [f for f in stored if f["user"] == "U7"]
    assert mine and mine[-1]["value"] == "down"
    assert mine[-1]["question"] == "How long is the Resht–Astara railway?" and "162" in mine[-1]["answer"]
    assert 'qa_feedback_total{value="down"} 1' in client.get("/metrics").text
    from service.cli import _slack_feedback  # what `qa eval` prints and writes to its report

    assert _slack_feedback(container)["down"] >= 1


@pytest.mark.parametrize(("secret", "age_s"), [("wrong-secret", 0), (SECRET, 600)])
def test_bad_signature_or_stale_timestamp_is_401_and_no_reply(slack, secret, age_s):
    client, fake, _ = slack
    body = _event(_mention("How long is the railway?", ts="1700000007.000100", channel="C-bad"), "Ev-bad")
    response = client.post("/slack/events", content=body, headers=_signed(body, secret=secret, age_s=age_s))
    assert response.status_code == 401
    time.sleep(0.5)
    assert not [m for m in fake.named("chat.postMessage") if m["channel"] == "C-bad"]


def test_slash_command_answers_ephemerally(slack):
    client, fake, _ = slack
    body = urlencode({"command": "/ask", "text": "How long is the Resht–Astara railway?", "team_id": "T1",
                      "user_id": "U3", "channel_id": "C-cmd", "response_url": fake.response_url, "trigger_id": "t"})
    response = client.post("/slack/events", content=body,
                           headers=_signed(body, content_type="application/x-www-form-urlencoded"))
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    reply = fake.wait_for(lambda: fake.named("ephemeral"))[0]
    assert reply["response_type"] == "ephemeral" and "162" in reply["text"]


def _leaves(node):
    """Every rich-text leaf element in a Block Kit structure."""
    if isinstance(node, dict):
        if node.get("type") in ("text", "user", "usergroup", "broadcast", "link", "channel", "emoji"):
            yield node
        for value in node.values():
            yield from _leaves(value)
    elif isinstance(node, list):
        for item in node:
            yield from _leaves(item)


def test_document_controls_change_neither_mentions_nor_message_format(indexed, tmp_path):
    fake = FakeSlack()
    container = _slack_container(indexed, tmp_path / "index", fake)
    doc = tmp_path / "*depot*.md"
    text = ("# Depot\n\n<!channel> The Kars depot holds 42 trains *per shift* ```rm -rf``` according to <@U999> at "
            "<https://evil.example|here> and _the_ ~yard~ office.\n> Sources: none.\n")
    doc.write_text(text, encoding="utf-8")
    container.ingest([doc])
    try:
        with TestClient(create_app(container)) as client:
            _post_event(client, _mention("How many trains does the Kars depot hold?", ts="1700000008.000100",
                                         channel="C-escape"), "Ev-escape")
            update = _final_update(fake, "C-escape", "42 trains")
    finally:
        fake.close()
    # The notification fallback, which Slack parses, is escaped.
    assert "&lt;!channel&gt;" in update["text"] and "<!channel>" not in update["text"]
    # The message keeps its shape: answer, sources, feedback; document text only in literal rich-text elements.
    assert [b["type"] for b in update["blocks"]] == ["rich_text", "rich_text", "actions"]
    leaves = list(_leaves(update["blocks"][:2]))
    assert {leaf["type"] for leaf in leaves} == {"text"}
    assert "mrkdwn" not in json.dumps(update["blocks"])
    # Quotes are the document's characters, exactly.
    quotes = [q["elements"][0]["text"] for q in update["blocks"][1]["elements"] if q["type"] == "rich_text_quote"]
    assert quotes and all(q in text for q in quotes)
    assert any("<!channel>" in q and "*per shift*" in q for q in quotes)
    assert any(leaf["text"].startswith("*depot*.md") for leaf in leaves)


def test_llm_answer_appears_progressively_then_verified(indexed):
    from tests.fake_llm_server import FakeLLMServer

    fake = FakeSlack()
    reply = "The Resht–Astara railway in northern Iran is 162 kilometers long according to the sources [1]."
    with FakeLLMServer(reply, token_delay_s=0.3) as llm:
        container = _slack_container(indexed, indexed.settings.data_dir, fake, llm_url=llm.url, answer_mode="llm")
        try:
            with TestClient(create_app(container)) as client:
                _post_event(client, _mention("How long is the Resht–Astara railway?", ts="1700000009.000100",
                                             channel="C-progress"), "Ev-progress")
                final = _final_update(fake, "C-progress", "162 kilometers")
        finally:
            fake.close()
    progress = [u for u in fake.named("chat.update") if u["channel"] == "C-progress" and "blocks" not in u]
    assert progress and all(u["text"].endswith(" …") for u in progress)
    # The extractive answer shows as a draft first, and stays until the verified answer replaces it.
    assert "162-kilometer Resht–Astara railway" in progress[0]["text"] and DRAFT_NOTE in progress[0]["text"]
    assert final["blocks"][0]["elements"][0]["elements"][0]["text"].startswith("The Resht–Astara railway")
