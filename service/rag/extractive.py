"""Extractive answers: choose the retrieved sentences that best answer the question, or abstain.

No model writes anything here: the answer is made of verbatim sentences, so every citation is
exact by construction. This is the fallback of every other mode and the baseline they must beat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from service.rag import answer_types
from service.rag.retrieve import Candidate, Corpus
from service.rag.store import Chunk
from service.rag.text import content_terms, terms_match

# Credit for a question term found next to the sentence (neighbour, heading, title) rather than in it:
# context often carries the subject ("it", "the project") of the sentence.
CONTEXT_CREDIT = 0.5
# Bonus for holding the kind of value asked for, and for ranking high in retrieval.
TYPE_BONUS = 0.25
RANK_BONUS = 0.15
# A further sentence joins the answer only if it adds this much coverage and covers this much alone.
MIN_GAIN = 0.2
MIN_EXTRA_COVERAGE = 0.3
# Competing figures from another document are reported when that source is about this well supported.
CONFLICT_MARGIN = 0.1

_ENUMERATION = re.compile(
    r"\b(?:two|three|four|five|six|several|\d)\s+(?:\w+\s+){0,2}?(?:\w+s)\b", re.I
)
_ORDINAL_START = re.compile(r"^(?:first|second|third|fourth|fifth|finally|lastly|the (?:first|second|third|fourth|fifth|last))\b", re.I)


@dataclass
class Scored:
    candidate: Candidate
    coverage: float
    covered: set[str]
    typed: bool
    score: float = 0.0

    @property
    def chunk(self) -> Chunk:
        return self.candidate.chunk


@dataclass
class Selection:
    chunks: list[Chunk] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    abstained: bool = False
    reason: str = ""
    conflict: bool = False
    support: float = 0.0


def question_terms(question: str, history: Sequence[str], history_weight: float = 0.5) -> dict[str, float]:
    """Content terms of the question (weight 1) and of earlier turns (lower weight)."""
    terms = {t: 1.0 for t in content_terms(question)}
    for turn in history:
        for t in content_terms(turn):
            terms.setdefault(t, history_weight)
    return terms


def _has(term: str, chunk_terms: set[str]) -> bool:
    return term in chunk_terms or any(terms_match(term, t) for t in chunk_terms)


def score_candidate(
    candidate: Candidate, terms: dict[str, float], corpus: Corpus, kind: str | None, question: str
) -> Scored:
    chunk = candidate.chunk
    own = set(content_terms(chunk.text))
    context_text = " ".join(
        [corpus.heading_of.get(chunk.chunk_id, ""), corpus.titles.get(chunk.doc_id, "")]
        + [n.text for n in (corpus.neighbour(chunk, -1), corpus.neighbour(chunk, 1)) if n is not None]
    )
    around = set(content_terms(context_text))
    total = gained = 0.0
    covered = set()
    for term, weight in terms.items():
        w = weight * corpus.weights.idf(term)
        total += w
        if _has(term, own):
            gained += w
            covered.add(term)
        elif _has(term, around):
            gained += CONTEXT_CREDIT * w
    coverage = gained / total if total else 0.0
    return Scored(candidate, coverage, covered, answer_types.holds_type(chunk.text, kind, question))


def select(
    question: str,
    history: Sequence[str],
    candidates: Sequence[Candidate],
    corpus: Corpus,
    abstain_below: float,
    max_sentences: int = 3,
) -> Selection:
    answerable = [c for c in candidates if c.chunk.kind == "sentence"]
    if not answerable:
        return Selection(abstained=True, reason="nothing relevant was retrieved")
    kind = answer_types.expected_type(question)
    terms = question_terms(question, history)
    top_fused = max(c.score for c in answerable)
    scored = [score_candidate(c, terms, corpus, kind, question) for c in answerable]
    for s in scored:
        s.score = s.coverage + TYPE_BONUS * s.typed + RANK_BONUS * s.candidate.score / top_fused
    scored.sort(key=lambda s: s.score, reverse=True)
    best = scored[0]
    if kind is not None and not best.typed:
        return Selection(abstained=True, reason=f"no passage holds the {kind} asked for", support=best.coverage)
    if best.coverage < abstain_below:
        return Selection(abstained=True, reason="no passage covers the question", support=best.coverage)

    chosen = [best]
    conflict = _conflicting(best, scored, kind)
    if conflict is not None:
        chosen.append(conflict)
    else:
        covered = set(best.covered)
        for s in scored[1:]:
            if len(chosen) >= max_sentences:
                break
            gain = sum(corpus.weights.idf(t) * terms[t] for t in s.covered - covered) / max(
                sum(corpus.weights.idf(t) * w for t, w in terms.items()), 1e-9
            )
            if gain >= MIN_GAIN and s.coverage >= MIN_EXTRA_COVERAGE and (kind is None or s.typed):
                chosen.append(s)
                covered |= s.covered
    chunks = [s.chunk for s in chosen]
    scores = [s.coverage for s in chosen]
    if conflict is None and kind is None:
        for item in _enumerated_items(best.chunk, corpus, max_sentences + 2 - len(chunks)):
            if item.chunk_id not in {c.chunk_id for c in chunks}:
                chunks.append(item)
                scores.append(best.coverage)
    return Selection(chunks=chunks, scores=scores, conflict=conflict is not None, support=best.coverage)


def _conflicting(best: Scored, scored: list[Scored], kind: str | None) -> Scored | None:
    """A well-supported sentence from another document giving a different value of the asked-for kind."""
    best_values = answer_types.values(best.chunk.text, kind)
    if not best_values:
        return None
    for s in scored[1:]:
        if (
            s.chunk.doc_id != best.chunk.doc_id
            and s.typed
            and s.coverage >= best.coverage - CONFLICT_MARGIN
            and (values := answer_types.values(s.chunk.text, kind))
            and not values & best_values
        ):
            return s
    return None


def _enumerated_items(chunk: Chunk, corpus: Corpus, limit: int) -> list[Chunk]:
    """For a sentence announcing a list ("Three possible scenarios..."), the sentences that give its items."""
    if limit <= 0 or not _ENUMERATION.search(chunk.text) or re.search(r":\s*first\b", chunk.text, re.I):
        return []
    items = []
    for offset in range(1, 9):
        nxt = corpus.neighbour(chunk, offset)
        if nxt is None or nxt.kind == "heading" or len(items) >= limit:
            break
        if _ORDINAL_START.match(nxt.text):
            items.append(nxt)
    return items
