"""Digests: the answer to a broad question is a few verbatim sentences that cover it, in document order.

Sentences are chosen by maximal marginal relevance over their stored MiniLM vectors: each pick is the sentence most
relevant to the question that repeats least of what was already picked. Relevance mixes three signals, weighted by
the kind of question (see KIND_WEIGHTS):
  - closeness to the question: of the sentence, of its section's heading, and the retriever's own score;
  - centrality: closeness to the mean of the document's sentences, which is what the document is mostly about;
  - structure: the document's opening sentences, the first sentence of each section, and its last section (where
    a report states its conclusion).
A comparison first takes the sentence closest to each side of it ("… A with B"), then completes by the same rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from service.rag.store import Chunk

# Sentences in a digest (fewer when the document or section has fewer). A digest stopped early, once its next pick
# scored below 0.7 of its first, covered fewer key points on the tune split: 2 of 7 broad cases at 5 sentences and
# 3 of 7 at 6 with such a stop, 5 of 7 at 6 without.
MAX_SENTENCES = 6
# Relevance against repetition in each pick (1: relevance only).
MMR_LAMBDA = 0.7
# The document's first sentences that count as its opening.
OPENING = 2
# The least sentences under a heading for it to count as a section (see structural_roles).
SECTION_SENTENCES = 2
# Shorter "sentences" are run-in headings ("Summary.", "Technical obstacles."), never digest material.
MIN_WORDS = 5
# Weight of the section heading's closeness to the question in a sentence's own.
HEADING_WEIGHT = 0.3
# Weight of the retriever's own score (relative to its best passage) in a sentence's closeness to the question.
RETRIEVED_WEIGHT = 0.3
# Most items a list brings after the sentence that announces it.
LIST_ITEMS = 20
# Sentences considered per document (the nearest to the question and the structural ones are always in).
POOL_LIMIT = 400


@dataclass(frozen=True)
class Weights:
    question: float
    centrality: float
    structure: float
    conclusion: float


# Set by hand, not fitted: the tune split has 7 broad cases, too few to fit weights on. They say what each kind asks
# for: a summary is about the document, a list about the question.
KIND_WEIGHTS = {
    "summary": Weights(question=0.2, centrality=0.5, structure=0.3, conclusion=0.1),
    "argument": Weights(question=0.5, centrality=0.2, structure=0.1, conclusion=0.3),
    "implications": Weights(question=0.9, centrality=0.1, structure=0.0, conclusion=0.0),
    "comparison": Weights(question=0.9, centrality=0.1, structure=0.0, conclusion=0.0),
    "list": Weights(question=1.0, centrality=0.0, structure=0.0, conclusion=0.0),
}

# The two sides of a comparison, in the forms a comparison is asked in; the first form that matches names them.
_END = r"\s*[?.!]*\s*$"
_SIDES = [re.compile(p, re.I) for p in (
    r"^how\s+(?:does|do|did|would|will)\s+(?P<a>.+?)\s+(?:compare|differ|contrast)\w*\s+(?:with|to|from|against)\s+"
    r"(?P<b>.+?)" + _END,
    r"\bbetween\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)" + _END,
    r"\b(?:compare|contrast)\s+(?P<a>.+?)\s+(?:with|to|and|against)\s+(?P<b>.+?)" + _END,
    r"(?P<a>\b\w.+?)\s+(?:versus|vs\.?)\s+(?P<b>.+?)" + _END,
)]


def comparison_sides(question: str) -> tuple[str, str] | None:
    """("A", "B") of "Compare A with B", "How does A differ from B", "the difference between A and B", "A versus B"."""
    for pattern in _SIDES:
        m = pattern.search(question.strip())
        if m:
            return m.group("a"), m.group("b")
    return None


def is_heading(chunk: Chunk) -> bool:
    """A heading line, or a run-in heading: a "sentence" too short to say anything ("Assessment.", "Technical
    obstacles.") that opens a paragraph of a document written without heading lines."""
    return chunk.kind == "heading" or (chunk.kind == "sentence" and len(chunk.text.split()) < MIN_WORDS)


def structural_roles(chunks: Sequence[Chunk]) -> tuple[set[int], set[int]]:
    """Indexes (into chunks, one document in order) of its structural sentences (the opening ones and the first of
    each section) and of its last section's sentences (none when the document has fewer than two sections)."""
    heads = [is_heading(c) for c in chunks]
    sentences = [i for i, c in enumerate(chunks) if c.kind == "sentence" and not heads[i]]
    leads = set(sentences[:OPENING])
    after_heading = True
    for i, c in enumerate(chunks):
        if heads[i]:
            after_heading = True
        elif c.kind == "sentence" and after_heading:
            leads.add(i)
            after_heading = False
    # Sections by their heading's index, with their sentences; a closing line or two under a last heading ("Related
    # publications") is not the conclusion: the last section of SECTION_SENTENCES or more is.
    sections: dict[int, list[int]] = {}
    heading = None
    for i, c in enumerate(chunks):
        if heads[i]:
            heading = i
            sections[i] = []
        elif c.kind == "sentence" and heading is not None:
            sections[heading].append(i)
    full = [members for members in sections.values() if len(members) >= SECTION_SENTENCES]
    conclusion = set(full[-1]) if len(full) > 1 else set()
    return leads, conclusion


def digest(
    kind: str,
    question: str,
    question_vector: Sequence[float],
    doc_ids: Sequence[str],
    doc_chunks: Mapping[str, Sequence[Chunk]],
    sentence_vectors: Callable[[list[str]], dict[str, list[float]]],
    embed_texts: Callable[[list[str]], list[list[float]]],
    retrieved: dict[str, float] | None = None,
    section: tuple[str, int, int] | None = None,
    limit: int = MAX_SENTENCES,
) -> list[Chunk]:
    """The digest's sentences, in document order (documents in the order given). retrieved: the retriever's scores
    of the passages it found, relative to the best (1.0): the best evidence of what the question is about.
    section: (doc_id, first idx, end idx) when the question is about one section (service/rag/scope.py).
    doc_chunks: each document's chunks in order (Corpus.doc_chunks, or one document's at ingest)."""
    weights = KIND_WEIGHTS.get(kind, KIND_WEIGHTS["summary"])
    retrieved = retrieved or {}
    q = np.asarray(question_vector, dtype=np.float32)
    pool: list[Chunk] = []
    relevance: list[float] = []
    vectors: list[np.ndarray] = []
    for doc_id in doc_ids:
        chunks = doc_chunks.get(doc_id, [])
        leads, conclusion = structural_roles(chunks)
        heading_at = _section_headings(chunks)
        lo, hi = (section[1], section[2]) if section and section[0] == doc_id else (0, len(chunks))
        candidates = [i for i, c in enumerate(chunks)
                      if lo <= i < hi and c.kind == "sentence" and len(c.text.split()) >= MIN_WORDS]
        wanted = [chunks[i].chunk_id for i in candidates] + sorted({chunks[h].chunk_id for h in heading_at.values()})
        found = sentence_vectors(wanted)
        candidates = [i for i in candidates if chunks[i].chunk_id in found]
        if not candidates:
            continue
        matrix = np.asarray([found[chunks[i].chunk_id] for i in candidates], dtype=np.float32)
        centroid = matrix.mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
        to_question = matrix @ q
        # A sentence is about the question as far as it, and the heading of its section, are close to it: "the
        # rules for rail travel" are the sentences under "Rail travel", whatever each of them says.
        heading_sim = np.asarray([
            float(np.asarray(found[chunks[heading_at[i]].chunk_id]) @ q)
            if i in heading_at and chunks[heading_at[i]].chunk_id in found else float(to_question[j])
            for j, i in enumerate(candidates)], dtype=np.float32)
        about = (1 - HEADING_WEIGHT) * to_question + HEADING_WEIGHT * heading_sim + RETRIEVED_WEIGHT * np.asarray(
            [retrieved.get(chunks[i].chunk_id, 0.0) for i in candidates], dtype=np.float32)
        central = matrix @ centroid
        for j in _pool_indexes(about, [i in leads or i in conclusion for i in candidates]):
            i = candidates[j]
            pool.append(chunks[i])
            vectors.append(matrix[j])
            relevance.append(weights.question * float(about[j]) + weights.centrality * float(central[j])
                             + weights.structure * (i in leads) + weights.conclusion * (i in conclusion))
    if not pool:
        return []
    matrix = np.asarray(vectors)
    chosen: list[int] = []
    sides = comparison_sides(question) if kind == "comparison" else None
    if sides:
        for side_vector in np.asarray(embed_texts(list(sides)), dtype=np.float32):
            best = int(np.argmax(matrix @ side_vector))
            if best not in chosen:
                chosen.append(best)
    picked = [pool[i] for i in _mmr(matrix, np.asarray(relevance), chosen, limit)]
    if kind == "list":
        picked = _with_list_items(picked, doc_chunks)
    order = {doc_id: n for n, doc_id in enumerate(doc_ids)}
    return sorted(picked, key=lambda c: (order[c.doc_id], c.idx))


def _section_headings(chunks: Sequence[Chunk]) -> dict[int, int]:
    """For each chunk index under a heading, the index of that heading."""
    out, heading = {}, None
    for i, c in enumerate(chunks):
        if c.kind == "heading":
            heading = i
        elif heading is not None:
            out[i] = heading
    return out


def _with_list_items(picked: list[Chunk], doc_chunks: Mapping[str, Sequence[Chunk]]) -> list[Chunk]:
    """A sentence that announces a list ("The following costs will not be paid:") brings its items: for "list all"
    the items are the answer."""
    out = list(picked)
    ids = {c.chunk_id for c in out}
    for chunk in picked:
        if not chunk.text.rstrip().endswith(":"):
            continue
        semicolons = False
        for item in doc_chunks[chunk.doc_id][chunk.idx + 1:chunk.idx + 1 + LIST_ITEMS]:
            if item.kind != "sentence":
                break
            if item.chunk_id not in ids:
                out.append(item)
                ids.add(item.chunk_id)
            end = item.text.rstrip()[-1:]
            if semicolons and end == ".":
                break  # "a;", "b;", "c.": the full stop closes the list
            semicolons = semicolons or end == ";"
    return out


def _pool_indexes(to_question: np.ndarray, structural: list[bool]) -> list[int]:
    """The POOL_LIMIT sentences nearest the question, and every structural one, in document order."""
    nearest = set(np.argsort(-to_question)[:POOL_LIMIT].tolist())
    return [j for j in range(len(structural)) if j in nearest or structural[j]]


def _mmr(matrix: np.ndarray, relevance: np.ndarray, chosen: list[int], limit: int) -> list[int]:
    """Picks by maximal marginal relevance after those already chosen, up to `limit`."""
    chosen = list(chosen)
    while len(chosen) < min(limit, len(relevance)):
        redundancy = (matrix @ matrix[chosen].T).max(axis=1) if chosen else np.zeros(len(relevance))
        score = MMR_LAMBDA * relevance - (1 - MMR_LAMBDA) * redundancy
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return chosen
