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
from service.rag.semantic import WordVectors, soft_credits
from service.rag.text import content_terms, content_words, stem, terms_match, words

# Credit for a question term found next to the sentence (neighbour, heading, title) rather than in it:
# context often carries the subject ("it", "the project") of the sentence.
CONTEXT_CREDIT = 0.5
# Most credit a close synonym earns ("lend" for "loan"); an exact word is worth 1.
SYNONYM_CREDIT = 0.8
# A name of the question may be matched by a close synonym (Moscow/Russia) at least this close.
NAME_SYNONYM_MIN = 0.5
# Bonus for holding the kind of value asked for.
TYPE_BONUS = 0.25
# Weight of the fused retrieval score (relative to the top candidate's), which carries the embedding views'
# sense of meaning where the question's words differ from the text's. Fused scores are reciprocal ranks summed
# over views, so near the top they differ by a few percent: the weight must be large to matter. Chosen on the
# dev split (0.8–1.5 score alike; 0.15 answered one paraphrase fewer), see docs/retrieval.md.
RANK_BONUS = 1.0
# A further sentence joins the answer only if it adds this much coverage and covers this much alone.
MIN_GAIN = 0.2
MIN_EXTRA_COVERAGE = 0.3
# A different figure from another document is reported when that passage covers the question at
# least this well relative to the best one.
CONFLICT_RATIO = 0.75

# Passages listed as related reading when the answer abstains.
RELATED = 3

# A sentence of which less than this share is new (not in the question) mostly echoes the question.
MIN_NOVELTY = 0.5
_REFERRING_START = re.compile(r"^(?:this|these|that|those|it|they|such|its|their)\b", re.I)
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
    names_found: bool = True  # every name and number of the question is in or around the sentence
    score: float = 0.0

    @property
    def chunk(self) -> Chunk:
        return self.candidate.chunk


@dataclass
class Selection:
    chunks: list[Chunk] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    runners_up: list[Chunk] = field(default_factory=list)  # next-best on-topic passages, best first
    related: list[Chunk] = field(default_factory=list)  # when abstaining: the closest passages, best first
    abstained: bool = False
    reason: str = ""
    conflict: bool = False
    support: float = 0.0


@dataclass(frozen=True)
class Term:
    stem: str
    word: str  # a surface form, for soft matching
    weight: float  # 1 for the current question, lower for earlier turns
    required: bool = False  # a name, acronym or number: the answer must be about it
    acronym: bool = False


_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")
_CAP_WORD = re.compile(r"(?:(?<=\s)|(?<=^)|(?<=[-–—]))[A-Z][\w’']*")
_ELLIPSIS = re.compile(r"^\s*(?:and|also|what about|how about|and what about)\b", re.I)
_WH_WORD = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could)\b", re.I)
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w’'-]*|\b[A-Z]{2,}\b|\b\d[\d.,]*\b")


def question_terms(question: str, history: Sequence[str], history_weight: float = 0.5) -> dict[str, Term]:
    """Content terms of the question (weight 1) and of earlier turns (lower weight), by stem."""
    names = {w for m in _NAME.finditer(question.strip()) for w in words(m.group(0))}
    acronyms = {m.group(0).lower() for m in _ACRONYM.finditer(question)}
    terms: dict[str, Term] = {}
    for text, weight in [(question, 1.0)] + [(turn, history_weight) for turn in history]:
        for word in content_words(text):
            current = weight == 1.0
            terms.setdefault(
                stem(word), Term(stem(word), word, weight, current and word in names, current and word in acronyms)
            )
    return terms


def is_elliptical(question: str) -> bool:
    """A follow-up that leans on the previous question: "And Iran?", "What about the expansion?"."""
    return bool(_ELLIPSIS.match(question)) or not _WH_WORD.search(question)


def expands(acronym: str, text: str) -> bool:
    """Whether text spells out the acronym: "INSTC" in "International North–South Transport Corridor"."""
    initials = [w[0].lower() for w in _CAP_WORD.findall(text)]
    joined = "".join(initials)
    return len(acronym) >= 2 and acronym in joined


def score_candidate(
    candidate: Candidate,
    terms: dict[str, Term],
    corpus: Corpus,
    kind: str | None,
    question: str,
    vectors: WordVectors | None = None,
) -> Scored:
    """Coverage: the IDF-weighted share of the question's terms the sentence holds.

    A term counts fully when the sentence has it (same stem or prefix), partly when only its
    neighbours, heading or title have it, and partly when the sentence has a close synonym.
    """
    chunk = candidate.chunk
    profile = corpus.profile(chunk)
    own_words, own, around = profile.words, profile.terms, profile.context_terms
    unmatched = [t.word for t in terms.values() if not own.matches(t.stem) and not t.word[0].isdigit()]
    soft = soft_credits(vectors, unmatched, own_words) if vectors is not None and unmatched else {}
    total = gained = 0.0
    covered = set()
    names_found = True
    for term in terms.values():
        w = term.weight * corpus.weights.idf(term.stem)
        total += w
        if own.matches(term.stem):
            gained += w
            covered.add(term.stem)
            continue
        in_context = around.matches(term.stem) or (
            term.acronym and expands(term.word, f"{chunk.text} {profile.context_text}")
        )
        synonym = soft.get(term.word, 0.0)
        gained += w * max(CONTEXT_CREDIT if in_context else 0.0, SYNONYM_CREDIT * synonym)
        if term.required and not in_context and not profile.name_terms.matches(term.stem) and synonym < NAME_SYNONYM_MIN:
            names_found = False
    coverage = gained / total if total else 0.0
    typed = answer_types.holds_type(chunk.text, kind, question, corpus.common_words)
    return Scored(candidate, coverage, covered, typed, names_found)


def select(
    question: str,
    history: Sequence[str],
    candidates: Sequence[Candidate],
    corpus: Corpus,
    abstain_below: float,
    max_sentences: int = 3,
    vectors: WordVectors | None = None,
) -> Selection:
    """The sentences that answer the question, best first, or an abstention with its reason."""
    pool = _answer_pool(candidates, corpus)
    if not pool:
        return Selection(abstained=True, reason="nothing relevant was retrieved")
    kind = answer_types.expected_type(question)
    elliptical = bool(history) and is_elliptical(question)
    if elliptical and kind is None:
        kind = answer_types.expected_type(history[-1])
    # An elliptical follow-up keeps the previous question's subject at full weight.
    terms = question_terms(question, history, history_weight=1.0 if elliptical else 0.5)
    if vectors is not None:
        vectors.ensure([t.word for t in terms.values()] + [w for c in pool for w in corpus.profile(c.chunk).words])
    scored = [score_candidate(c, terms, corpus, kind, question, vectors) for c in pool]
    top_fused = max(c.score for c in pool)
    for s in scored:
        s.score = s.coverage + TYPE_BONUS * s.typed + RANK_BONUS * s.candidate.score / top_fused
    scored.sort(key=lambda s: (-round(s.score, 9), s.chunk.position))

    related = [s.chunk for s in scored[:RELATED]]
    about = [s for s in scored if s.names_found]
    if not about:
        return Selection(abstained=True, reason="no passage is about the names in the question",
                         support=scored[0].coverage, related=related)
    eligible = [s for s in about if s.typed]
    if not eligible:
        return Selection(abstained=True, reason=f"no passage holds the {kind} asked for", support=about[0].coverage,
                         related=related)
    best = eligible[0]
    if best.coverage < abstain_below:
        return Selection(abstained=True, reason="no passage covers the question", support=best.coverage,
                         related=related)

    conflict = _conflicting(best, eligible, kind)
    chosen = [best, conflict] if conflict else _complements(best, eligible, terms, corpus, kind, max_sentences)
    chunks = [s.chunk for s in chosen]
    scores = [s.coverage for s in chosen]
    if kind is None and conflict is None:
        follow_on = _elaboration(best, terms, corpus) if len(chunks) < max_sentences else None
        extra = ([follow_on] if follow_on else []) + _enumerated_items(best.chunk, corpus, max_sentences + 2 - len(chunks))
        for position, chunk in enumerate(extra, start=1):
            if chunk.chunk_id not in {c.chunk_id for c in chunks}:
                # The elaboration reads right after the best sentence; list items follow in order.
                at = 1 if chunk is follow_on else len(chunks)
                chunks.insert(at, chunk)
                scores.insert(at, best.coverage)
    chosen_ids = {c.chunk_id for c in chunks}
    runners_up = [s.chunk for s in eligible if s.chunk.chunk_id not in chosen_ids]
    return Selection(
        chunks=chunks, scores=scores, runners_up=runners_up, conflict=conflict is not None, support=best.coverage
    )


def _answer_pool(candidates: Sequence[Candidate], corpus: Corpus) -> list[Candidate]:
    """Candidates that may be quoted as answers.

    Headings give context but are not answers; byline lines (author, date) are, and come along
    whenever their document's title or byline was retrieved.
    """
    pool = [c for c in candidates if c.chunk.kind == "sentence" or c.chunk.chunk_id in corpus.front_matter]
    seen = {c.chunk.chunk_id for c in pool}
    floor = min((c.score for c in candidates), default=0.0)
    for c in candidates:
        if c.chunk.idx == 0 or c.chunk.chunk_id in corpus.front_matter:
            for chunk in corpus.doc_chunks[c.chunk.doc_id][1:]:
                if chunk.chunk_id not in corpus.front_matter:
                    break
                if chunk.chunk_id not in seen:
                    seen.add(chunk.chunk_id)
                    pool.append(Candidate(chunk, floor, 0.0))
    return pool


def _complements(
    best: Scored, eligible: list[Scored], terms: dict[str, Term], corpus: Corpus, kind: str | None, limit: int
) -> list[Scored]:
    """The best sentence plus those that cover question words it lacks (multi-fact questions)."""
    weight = {t.stem: t.weight * corpus.weights.idf(t.stem) for t in terms.values()}
    total = max(sum(weight.values()), 1e-9)
    chosen, covered = [best], set(best.covered)
    for s in eligible[1:]:
        if len(chosen) >= limit:
            break
        gain = sum(weight[t] for t in s.covered - covered) / total
        if gain >= MIN_GAIN and s.coverage >= MIN_EXTRA_COVERAGE and (kind is None or s.typed):
            chosen.append(s)
            covered |= s.covered
    return chosen


def _conflicting(best: Scored, scored: list[Scored], kind: str | None) -> Scored | None:
    """A well-supported sentence from another document giving a different value of the asked-for kind."""
    best_values = answer_types.measurements(best.chunk.text, kind)
    if not best_values:
        return None
    for s in scored[1:]:
        if (
            s.chunk.doc_id != best.chunk.doc_id
            and s.coverage >= CONFLICT_RATIO * best.coverage
            and answer_types.disagree(best_values, answer_types.measurements(s.chunk.text, kind))
        ):
            return s
    return None


def _elaboration(best: Scored, terms: dict[str, Term], corpus: Corpus) -> Chunk | None:
    """The next sentence, when the best one mostly restates the question and the next one goes on
    about it ("... the destabilizing presence of third states." "This aligns with ...")."""
    own = content_terms(best.chunk.text)
    new_terms = [t for t in own if not any(terms_match(t, q) for q in terms)]
    nxt = corpus.neighbour(best.chunk, 1)
    if own and len(new_terms) / len(own) < MIN_NOVELTY and nxt is not None and nxt.kind == "sentence":
        if _REFERRING_START.match(nxt.text):
            return nxt
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
