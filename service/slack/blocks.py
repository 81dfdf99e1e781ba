"""Answers as Block Kit messages.

Text that comes from documents or the model (answer, quotes, file names, notices) goes only into rich-text `text`
elements, which Slack shows literally: no mrkdwn formatting, no @channel, @here or user mentions, no links, however
the text is written. The notification fallback, which Slack does parse, is escaped.
"""

from __future__ import annotations

import json

MAX_TEXT = 2900  # stay under Slack's 3000-character text limits
MAX_QUOTE = 400


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: with &, < and > escaped, <!channel>, <@U123> and <url|x> are plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(text: str, bold: bool = False) -> dict:
    element = {"type": "text", "text": text}
    if bold:
        element["style"] = {"bold": True}
    return element


def _rich(*elements: dict) -> dict:
    return {"type": "rich_text", "elements": list(elements)}


def _section(*texts: dict) -> dict:
    return {"type": "rich_text_section", "elements": list(texts)}


def answer_blocks(answer: dict, feedback_ref: dict | None) -> list[dict]:
    blocks: list[dict] = [_rich(_section(_text(_clip(answer["answer"], MAX_TEXT))))]
    if answer.get("notice"):
        blocks.append({"type": "context", "elements": [{"type": "plain_text", "text": _clip(answer["notice"], MAX_TEXT)}]})
    if answer["citations"]:
        parts = [_section(_text("Sources", bold=True))]
        for c in answer["citations"]:
            parts.append(_section(_text(f"[{c['n']}] ", bold=True),
                                  _text(f"{c['source']} (chars {c['start_char']}–{c['end_char']})")))
            parts.append({"type": "rich_text_quote", "elements": [_text(_clip(c["quote"], MAX_QUOTE))]})
        blocks.append(_rich(*parts))
    if answer.get("related"):
        parts = [_section(_text("Related passages (they do not answer the question)", bold=True))]
        for c in answer["related"]:
            parts.append(_section(_text(c["source"])))
            parts.append({"type": "rich_text_quote", "elements": [_text(_clip(c["quote"], MAX_QUOTE))]})
        blocks.append(_rich(*parts))
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
    return _clip(escape(answer["answer"]), MAX_TEXT)
