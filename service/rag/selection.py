"""Selection: which sentences make the answer, or why there is none.

The fitted scorer ranks the retrieved sentences; the best one answers when its probability reaches the
threshold. It is then completed by what a reader needs: the sentences that give the other facts a multi-fact
question asks for, a different figure from another document, and the header row of a table row. No model writes anything here: the answer is made of verbatim sentences, so every
citation is exact by construction. This is the extractive mode and the fallback of every other mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from service.rag import evidence as ev
from service.rag.analysis import Question
from service.rag.ranking import Scorer
from service.rag.retrieve import Candidate, Corpus
from service.rag.semantic import WordVectors
from service.rag.store import Chunk

# A further sentence joins the answer only if it adds this share of the question's (IDF-weighted) terms.
MIN_GAIN = 0.2
# Passages listed as related reading when the answer abstains.
RELATED = 3

# The rules that complete an answer, each switchable for the ablation (`python -m eval.ablation`).
# Rules that moved nothing on the frozen split were removed (docs/abstention.md has the ablation).
RULES = {"complements": True, "conflicts": True, "table_header": True}


@dataclass
class Selection:
    chunks: list[Chunk] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    runners_up: list[Chunk] = field(default_factory=list)  # next-best passages, best first
    related: list[Chunk] = field(default_factory=list)  # when abstaining: the closest passages, best first
    ranked: list[ev.Evidence] = field(default_factory=list)  # every candidate's evidence, best first
    abstained: bool = False
    reason: str = ""
    conflict: bool = False
    support: float = 0.0  # the best sentence's probability of answering


def select(
    question: Question,
    candidates: Sequence[Candidate],
    corpus: Corpus,
    scorer: Scorer,
    threshold: float | None = None,
    max_sentences: int = 3,
    vectors: WordVectors | None = None,
) -> Selection:
    """The sentences that answer the question, best first, or an abstention with its reason.

    threshold: the least probability of the best sentence (default: the scorer's own). Below it the selection
    is still made and returned, marked abstained, so that a caller with more evidence (the llm mode) can use it.
    """
    threshold = scorer.threshold if threshold is None else threshold
    pool = answer_pool(candidates, corpus)
    if not pool:
        return Selection(abstained=True, reason="nothing relevant was retrieved")
    ranked = ev.gather(question, pool, corpus, vectors)
    scorer.score(ranked)
    # Ties go by position in the documents, never by anything that depends on where the files were ingested from.
    ranked.sort(key=lambda e: (-round(e.probability, 9), e.chunk.position))
    best = ranked[0]
    chosen = [best]
    conflict = _conflicting(best, ranked, question, threshold) if RULES["conflicts"] else None
    if conflict is not None:
        chosen.append(conflict)
    elif RULES["complements"]:
        chosen = _complements(best, ranked, question, corpus, threshold, max_sentences)
    chunks = [e.chunk for e in chosen]
    scores = [e.probability for e in chosen]
    if RULES["table_header"]:
        _add_table_headers(chunks, scores, corpus)
    chosen_ids = {c.chunk_id for c in chunks}
    selection = Selection(
        chunks=chunks, scores=scores, runners_up=[e.chunk for e in ranked if e.chunk.chunk_id not in chosen_ids],
        related=[e.chunk for e in ranked[:RELATED]], ranked=ranked, conflict=conflict is not None,
        support=best.probability,
    )
    if best.probability < threshold:
        selection.abstained = True
        selection.reason = _why_not(best)
    return selection


def _add_table_headers(chunks: list[Chunk], scores: list[float], corpus: Corpus) -> None:
    """A table row is quoted under its table's header row, which names its columns."""
    for i in range(len(chunks) - 1, -1, -1):
        header = corpus.table_header_of.get(chunks[i].chunk_id)
        if header is not None and header.chunk_id not in {c.chunk_id for c in chunks}:
            chunks.insert(i, header)
            scores.insert(i, scores[i])


def _why_not(best: ev.Evidence) -> str:
    """The weakest signal of the best sentence, for the log."""
    if best.names < 1.0:
        return f"no passage is about the names in the question (best p={best.probability:.2f})"
    if best.type_missing:
        return f"no passage holds the kind of value asked for (best p={best.probability:.2f})"
    return f"no passage covers the question well enough (best p={best.probability:.2f})"


def answer_pool(candidates: Sequence[Candidate], corpus: Corpus) -> list[Candidate]:
    """Candidates that may be quoted as answers: headings give context but are not answers; byline lines
    (author, date) are."""
    return [c for c in candidates if c.chunk.kind == "sentence" or c.chunk.chunk_id in corpus.front_matter]


def _complements(best: ev.Evidence, ranked: list[ev.Evidence], question: Question, corpus: Corpus,
                 threshold: float, limit: int) -> list[ev.Evidence]:
    """The best sentence plus answering sentences that hold question terms it lacks (multi-fact questions)."""
    weight = {t.stem: t.weight * corpus.weights.idf(t.stem) for t in question.terms.values()}
    total = max(sum(weight.values()), 1e-9)
    chosen, covered = [best], set(best.covered)
    for e in ranked[1:]:
        if len(chosen) >= limit or e.probability < threshold:
            break
        gain = sum(weight[t] for t in e.covered - covered) / total
        if gain >= MIN_GAIN and e.typed:
            chosen.append(e)
            covered |= e.covered
    return chosen


def _conflicting(best: ev.Evidence, ranked: list[ev.Evidence], question: Question,
                 threshold: float) -> ev.Evidence | None:
    """An answering sentence from another document that gives a different value of the asked-for kind."""
    best_values = ev.measurements(best.chunk.text, question.kind)
    if not best_values:
        return None
    for e in ranked[1:]:
        if e.probability < threshold:
            break
        if e.chunk.doc_id != best.chunk.doc_id and ev.disagree(best_values, ev.measurements(e.chunk.text, question.kind)):
            return e
    return None
