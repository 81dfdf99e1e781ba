"""Pure scoring functions: no model, no LLM judge."""

from __future__ import annotations

import re
import statistics
from typing import Iterable, Sequence

from service.rag.text import prose


def answer_correct(answer: str, patterns: Sequence[str]) -> bool:
    """All key-fact patterns appear in the answer (case-insensitive regexes)."""
    return bool(patterns) and all(re.search(p, answer, re.IGNORECASE) for p in patterns)


def key_points_cited(answer: str, citations: Iterable[dict], patterns: Sequence[str]) -> bool:
    """Every key point of a broad question is in the answer and in a passage it cites: a digest that names a point
    without the passage that states it has not shown it."""
    quotes = [prose(c["quote"]) for c in citations]
    return answer_correct(answer, patterns) and all(any(re.search(p, q, re.IGNORECASE) for q in quotes) for p in patterns)


def citation_exact(citation: dict, document_text: str | None) -> bool:
    """The quote is exactly the document's text between its offsets."""
    if document_text is None:
        return False
    start, end = citation["start_char"], citation["end_char"]
    return 0 <= start < end <= len(document_text) and document_text[start:end] == citation["quote"]


def spans_overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def citation_supported(citations: Iterable[dict], gold: Iterable[dict]) -> bool:
    """Some cited span overlaps some gold span of the same source."""
    gold = list(gold)
    return any(
        c["source"] == g["source"] and spans_overlap(c["start_char"], c["end_char"], g["start_char"], g["end_char"])
        for c in citations
        for g in gold
    )


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1] if 0 < q < 100 else ordered[-1]


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None
