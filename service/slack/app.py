"""The slack-bolt app. Listeners acknowledge at once (Bolt acks events before the listener runs in
its thread pool), post a short placeholder, then update it with the answer."""

from __future__ import annotations

import json
import logging
import re
import threading
import time

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from service.errors import QAError
from service.slack.blocks import answer_blocks, escape, plain_text
from service.slack.state import SlackState

log = logging.getLogger(__name__)

PLACEHOLDER = "Looking… :mag:"
SORRY = "Sorry, something went wrong while answering. Please try again in a moment."
EMPTY = "Ask me a question about the documents, e.g. “How long is the Resht–Astara railway?”"
# Slack allows about one chat.update per second per message: stay below it while the LLM writes.
UPDATE_EVERY_S = 1.5
# Below a draft answer while the LLM's verified answer is on its way.
DRAFT_NOTE = "(draft from the documents; checking the written answer)"
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def build_slack_app(container, state: SlackState, metrics=None) -> App:
    settings = container.settings
    client_args = {"token": settings.slack_bot_token.get_secret_value()}
    if settings.slack_api_url:
        client_args["base_url"] = settings.slack_api_url.rstrip("/") + "/"
    app = App(
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None,
        client=WebClient(**client_args),
        token_verification_enabled=False,  # no call to Slack at start-up; auth.test runs on the first event
        logger=logging.getLogger("service.slack.bolt"),
    )

    @app.middleware
    def deliver_once(body, next):
        # Slack retries an event it thinks was missed (X-Slack-Retry-Num) and may deliver one twice:
        # answer only the first delivery of each event_id, on every replica sharing the data directory.
        event_id = body.get("event_id")
        if event_id and not state.first_delivery(event_id):
            log.info("slack duplicate event_id=%s ignored", event_id)
            return BoltResponse(status=200, body="")
        return next()

    @app.event("app_mention")
    def on_mention(event, client, context):
        _answer_in_thread(container, event, client, context.get("team_id") or "", metrics)

    @app.event("message")
    def on_message(event, client, context):
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # only people's direct messages; channel messages come as app_mention
        _answer_in_thread(container, event, client, context.get("team_id") or "", metrics)

    @app.action(re.compile(r"^feedback_(up|down)$"))
    def on_feedback(ack, body, action):
        ack()
        ref = json.loads(action["value"])
        value = action["action_id"].removeprefix("feedback_")
        turn = next((t for t in container.conversations.turns(ref["c"]) if t["n"] == ref["n"]), None)
        if turn is None:
            return
        user = body.get("user", {}).get("id", "")
        state.add_feedback(ref["c"], ref["n"], turn["question"], turn["answer"]["answer"], user, value)
        if metrics is not None:
            metrics.observe_feedback(value)
        log.info("slack feedback value=%s conversation=%s turn=%s", value, ref["c"], ref["n"])

    def ack_command(ack):
        ack(text=PLACEHOLDER, response_type="ephemeral")

    def answer_command(body, respond):
        question = (body.get("text") or "").strip()
        if not question:
            respond(text=EMPTY, response_type="ephemeral", replace_original=True)
            return
        conversation_id = f"slack-cmd-{body.get('team_id', '')}-{body.get('user_id', '')}-{time.time_ns()}"
        try:
            answer = container.engine.ask(question, conversation_id=conversation_id)
        except QAError as exc:
            respond(text=exc.message, response_type="ephemeral", replace_original=True)
            return
        except Exception:
            log.exception("slack /ask failed")
            respond(text=SORRY, response_type="ephemeral", replace_original=True)
            return
        if metrics is not None:
            metrics.observe_answer(answer)
        respond(text=plain_text(answer), blocks=answer_blocks(answer, None), response_type="ephemeral",
                replace_original=True)

    app.command("/ask")(ack=ack_command, lazy=[answer_command])
    return app


def _answer_in_thread(container, event: dict, client, team: str, metrics) -> None:
    if event.get("bot_id") or event.get("subtype") == "bot_message":
        return  # never answer bots, including ourselves
    channel = event["channel"]
    thread_ts = event.get("thread_ts") or event["ts"]
    question = _MENTION.sub("", event.get("text") or "").strip()
    if not question:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=EMPTY)
        return
    conversation_id = f"slack-{team}-{channel}-{thread_ts}"
    placeholder = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=PLACEHOLDER)
    ts = placeholder["ts"]
    progress = _ProgressiveUpdate(client, channel, ts)
    try:
        answer = container.engine.ask(question, conversation_id=conversation_id, on_token=progress.add,
                                      on_draft=progress.draft)
    except QAError as exc:  # a user-facing message (too long, busy): safe to show
        client.chat_update(channel=channel, ts=ts, text=escape(exc.message))
        return
    except Exception:
        log.exception("slack answer failed channel=%s", channel)
        client.chat_update(channel=channel, ts=ts, text=SORRY)
        return
    finally:
        progress.stop()
    if metrics is not None:
        metrics.observe_answer(answer)
    turn = container.conversations.turns(conversation_id)[-1]["n"]
    client.chat_update(
        channel=channel, ts=ts, text=plain_text(answer), blocks=answer_blocks(answer, {"c": conversation_id, "n": turn})
    )


class _ProgressiveUpdate:
    """Shows a draft while the LLM writes: the extractive answer when there is one (it stays until the verified
    answer replaces it), else the LLM's text as it is written, at most one chat.update per UPDATE_EVERY_S."""

    def __init__(self, client, channel: str, ts: str):
        self._client, self._channel, self._ts = client, channel, ts
        self._parts: list[str] = []
        self._last = time.monotonic()
        self._lock = threading.Lock()
        self._stopped = False
        self._drafted = False

    def draft(self, answer: dict) -> None:
        with self._lock:
            if self._stopped or answer.get("abstained"):
                return
            self._drafted = True
            text = escape(answer["answer"]) + f"\n{DRAFT_NOTE} …"
        self._update(text)

    def add(self, token: str) -> None:
        with self._lock:
            self._parts.append(token)
            if self._stopped or self._drafted or time.monotonic() - self._last < UPDATE_EVERY_S:
                return
            self._last = time.monotonic()
            text = escape("".join(self._parts)) + " …"
        self._update(text)

    def _update(self, text: str) -> None:
        try:
            self._client.chat_update(channel=self._channel, ts=self._ts, text=text)
        except Exception:  # a missed progress update is harmless; the final one follows
            log.warning("slack progress update failed", exc_info=True)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
