"""LLM answers: the model writes from a few passages, then every sentence is verified and cited."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Sequence

from service.prompts import Prompts
from service.rag import verify
from service.rag.analysis import analyze
from service.rag.evidence import holds_kind
from service.rag.patterns import VALUE_KINDS
from service.rag.selection import Selection
from service.rag.llm import OnToken
from service.rag.store import Chunk
from service.rag.text import content_terms, prose

log = logging.getLogger(__name__)


@dataclass
class Generated:
    """A verified LLM answer, or the reason it could not be used (then the caller falls back or abstains)."""

    answer: dict | None
    fallback_reason: str | None = None
    first_token_ms: float | None = None
    generate_ms: float = 0.0
    model_ran: bool = True  # False when the model was unavailable: the question was never put to it


@dataclass
class Passage:
    """A retrieved sentence with its neighbours: what the model reads as one numbered source."""

    chunks: list[Chunk]
    probability: float  # the scorer's probability that its best sentence answers the question

    @property
    def text(self) -> str:
        return prose(" ".join(c.text for c in self.chunks))


def build_passages(selection: Selection, corpus, budget_chars: int, neighbours: int = 1) -> list[Passage]:
    """The best-ranked sentences, each with up to `neighbours` sentences either side, best first, within a budget of
    characters (at least one passage). Windows that touch in one document merge, so no sentence is read twice."""
    passages: list[Passage] = []
    placed: dict[str, Passage] = {}
    used = 0
    for e in selection.ranked:
        if e.chunk.chunk_id in placed:
            continue
        window = [corpus.neighbour(e.chunk, k) for k in range(-neighbours, neighbours + 1)]
        window = [c for c in window if c is not None and c.kind == "sentence" or c is e.chunk]
        header = corpus.table_header_of.get(e.chunk.chunk_id)
        if header is not None and header not in window:  # a table row means little without its column names
            window.insert(0, header)
        new = [c for c in window if c.chunk_id not in placed]
        size = sum(len(c.text) + 1 for c in new)
        if passages and used + size > budget_chars:
            continue
        touching = next((placed[c.chunk_id] for c in window if c.chunk_id in placed), None)
        if touching is not None:
            touching.chunks = sorted({c.chunk_id: c for c in touching.chunks + new}.values(), key=lambda c: c.idx)
            touching.probability = max(touching.probability, e.probability)
            target = touching
        else:
            target = Passage(new, e.probability)
            passages.append(target)
        for c in new:
            placed[c.chunk_id] = target
        used += size
    return passages


class LLMAnswerer:
    def __init__(self, provider, prompts: Prompts, embed_texts, settings):
        self.provider = provider
        self.prompts = prompts
        self.embed_texts = embed_texts
        self.settings = settings

    def answer(
        self,
        question: str,
        history: Sequence[str],
        selection: Selection,
        corpus,
        on_token: OnToken | None = None,
        gate: float = 0.0,
    ) -> Generated:
        """gate: the least probability (of the scorer) of the passages a kept sentence cites: an answer must rest on
        passages about the question, not only on words that happen to be in the sources."""
        passages = build_passages(selection, corpus, self.settings.llm_source_chars)
        generated, kept, unsupported = self._write(question, history, passages, corpus, on_token, gate, broad=False)
        if not kept:
            return generated
        # An answer without a value of the kind the question asks for did not answer, whatever it says instead
        # (an instruction planted in a source, say). Only values with a written form count here: names are told
        # by capitals, which a sentence start blurs.
        asked = analyze(question)
        if asked.kind in VALUE_KINDS and not holds_kind(" ".join(s.text for s in kept), asked, corpus.common_words):
            generated.fallback_reason = f"the model's answer does not give the {asked.kind} the question asks for"
            return generated
        generated.answer = _compose(kept, passages, unsupported, question, corpus.common_words)
        return generated

    def answer_digest(self, question: str, history: Sequence[str], digest: Sequence[Chunk], corpus,
                      on_token: OnToken | None = None) -> Generated:
        """A short paragraph over a broad question's digest (each sentence a numbered source), every sentence of it
        verified and cited as a factoid answer's is; a sentence whose claim its source does not state is dropped.
        The token budget is a factoid answer's: twice as long (192 tokens) took p50 8.9 s on the tune split's broad
        questions and kept no more key points (docs/llm.md)."""
        passages = [Passage([c], 1.0) for c in digest]
        generated, kept, unsupported = self._write(question, history, passages, corpus, on_token, 0.0, broad=True)
        if kept:
            generated.answer = _compose(kept, passages, unsupported, question, corpus.common_words)
        return generated

    def _write(self, question: str, history: Sequence[str], passages: list[Passage], corpus,
               on_token: OnToken | None, gate: float, broad: bool
               ) -> tuple[Generated, list[verify.CheckedSentence], list[dict]]:
        """Put the passages to the model and verify what it wrote: (the outcome, without its answer yet; the
        sentences kept; the sentences dropped, with their reasons)."""
        from service.errors import Busy
        from service.rag.llm import LLMBusy, LLMUnavailable

        common_words = corpus.common_words
        user = self.prompts.user_message(question, [p.text for p in passages], history[-1] if history else None,
                                         broad=broad)
        started = time.perf_counter()
        first_token: list[float] = []

        def token(text: str) -> None:
            if not first_token:
                first_token.append((time.perf_counter() - started) * 1000)
            if on_token is not None:
                on_token(text)

        try:
            backend = self.provider.get()
            completion = backend.complete(self.prompts.system, user, self.settings.llm_max_tokens, token)
        except LLMBusy as exc:
            raise Busy(str(exc)) from exc
        except LLMUnavailable as exc:
            return Generated(None, f"the language model is unavailable ({exc}); answered in extractive mode",
                             model_ran=False), [], []
        generate_ms = (time.perf_counter() - started) * 1000
        log.info(
            "generated backend=%s prompt_tokens=%s completion_tokens=%s ms=%.0f timings=%s",
            getattr(backend, "name", "?"), completion.prompt_tokens, completion.completion_tokens, generate_ms,
            {k: round(v, 1) for k, v in completion.timings.items() if isinstance(v, (int, float))},
        )
        ttft = first_token[0] if first_token else None
        text = verify.without_abstentions(completion.text)
        if not text:
            return Generated(None, "the model found no answer in the passages", ttft, generate_ms), [], []
        checked = verify.check(question, text, passages, self.embed_texts, self.settings.llm_min_similarity, common_words)
        for s in checked:
            if s.supported and max(passages[i].probability for i in s.support) < gate:
                s.reason = "its sources are not about what the question asks"
        seen: set[str] = set()
        for s in checked:  # a small model may write the same sentence twice: once is enough
            key = " ".join(s.text.lower().split())
            if s.supported and key in seen:
                s.reason = "repeats an earlier sentence"
            seen.add(key)
        kept = [s for s in checked if s.supported]
        unsupported = [{"sentence": s.text, "reason": s.reason} for s in checked if not s.supported]
        reason = None if kept else "the model's answer could not be verified against the sources"
        return Generated(None, reason, ttft, generate_ms), kept, unsupported


def _cited_sentences(sentence: verify.CheckedSentence, passages: list[Passage], question: str,
                     common_words) -> list[Chunk]:
    """The sentences of the supporting passages that hold what the answer sentence states: each of its numbers and
    names where one sentence holds it, else the passage sentence that shares most words with it."""
    chunks = [c for i in sentence.support for c in passages[i].chunks]
    stated = verify.facts(sentence.text, common_words, question)
    cited = []
    for fact in stated:
        holder = next((c for c in chunks if verify.holds(c.text, fact)), None)
        if holder is not None and holder not in cited:
            cited.append(holder)
    if not cited:
        answer_terms = set(content_terms(sentence.text))
        cited = [max(chunks, key=lambda c: (len(answer_terms & set(content_terms(c.text))), -c.idx))]
    return sorted(cited, key=lambda c: (c.source, c.start_char))


def _compose(kept: list[verify.CheckedSentence], passages: list[Passage], unsupported: list[dict], question: str,
             common_words) -> dict:
    """Answer text with [n] markers numbered in order of first use, and one citation per sentence cited."""
    numbers: dict[str, int] = {}
    chunks: dict[str, Chunk] = {}
    score: dict[str, float] = {}
    parts = []
    for s in kept:
        cited = _cited_sentences(s, passages, question, common_words)
        for c in cited:
            numbers.setdefault(c.chunk_id, len(numbers) + 1)
            chunks[c.chunk_id] = c
            score[c.chunk_id] = max(score.get(c.chunk_id, 0.0), s.similarity)
        parts.append(f"{s.text} " + "".join(f"[{numbers[c.chunk_id]}]" for c in cited))
    citations = [
        {
            "n": n,
            "source": chunks[cid].source,
            "doc_id": chunks[cid].doc_id,
            "quote": chunks[cid].text,
            "start_char": chunks[cid].start_char,
            "end_char": chunks[cid].end_char,
            "score": round(score[cid], 3),
            "verified": True,
        }
        for cid, n in numbers.items()
    ]
    return {
        "answer": " ".join(parts),
        "abstained": False,
        "citations": citations,
        "unsupported": unsupported,
    }
