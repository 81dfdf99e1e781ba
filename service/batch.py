"""Batch questions from JSONL: one answer per input line, in input order."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator

from service.errors import QAError


@dataclass
class BatchLineError:
    line_no: int
    case_id: object
    message: str


def run_batch(engine, lines: Iterable[str], mode: str | None = None) -> Iterator[dict | BatchLineError]:
    """Yield the answer to the last turn of each line; a bad line yields an error and the rest go on."""
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BatchLineError(line_no, None, f"invalid JSON ({exc.msg})")
            continue
        if not isinstance(case, dict):
            yield BatchLineError(line_no, None, "each line must be a JSON object")
            continue
        case_id = case.get("id")
        turns = case.get("turns") if "turns" in case else [case.get("question")]
        if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
            yield BatchLineError(line_no, case_id, "needs a 'question' string or a non-empty 'turns' list of strings")
            continue
        try:
            conversation_id = None
            for turn in turns:
                answer = engine.ask(turn, conversation_id=conversation_id, mode=mode)
                conversation_id = answer["conversation_id"]
        except QAError as exc:
            yield BatchLineError(line_no, case_id, exc.message)
            continue
        yield {"id": case_id, **answer}
