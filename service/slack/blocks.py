"""Answers as Block Kit messages. All document and model text is escaped: a quote can never
trigger @channel, @here or a user mention, nor inject a link."""

from __future__ import annotations

import json

MAX_SECTION = 2900  # Slack's section text limit is 3000 characters
MAX_QUOTE = 400


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: with &, < and > escaped, <!channel>, <@U123> and <url|x> are plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def answer_blocks(answer: dict, feedback_ref: dict | None) -> list[dict]:
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": _clip(escape(answer["answer"]), MAX_SECTION)}}]
    if answer.get("notice"):
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"_{escape(answer['notice'])}_"}]})
    if answer["citations"]:
        lines = [
            f"*[{c['n']}]* {escape(c['source'])} (chars {c['start_char']}–{c['end_char']})\n>{_clip(escape(c['quote']), MAX_QUOTE)}"
            for c in answer["citations"]
        ]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip("*Sources*\n" + "\n".join(lines), MAX_SECTION)}})
    if feedback_ref is not None:
        value = json.dumps(feedback_ref)
        blocks.append({
            "type": "actions",
            "block_id": "feedback",
            "elements": [
                {"type": "button", "action_id": "feedback_up", "text": {"type": "plain_text", "text": "👍"}, "value": value},
                {"type": "button", "action_id": "feedback_down", "text": {"type": "plain_text", "text": "👎"}, "value": value},
            ],
        })
    return blocks


def plain_text(answer: dict) -> str:
    """Notification fallback text of the message (escaped too)."""
    return _clip(escape(answer["answer"]), MAX_SECTION)
