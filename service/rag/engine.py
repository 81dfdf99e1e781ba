"""The answer engine: resolve the conversation, retrieve, answer, cite. Knows nothing of HTTP or Slack."""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, Sequence

from service.conversations import ConversationStore
from service.errors import ConversationNotFound, InvalidQuestion, ModeUnavailable, StorageFull
from service.rag import analysis, selection as selecting, summaries
from service.rag.breadth import QuestionKinds
from service.rag.digest import digest as digest_sentences
from service.rag.llm import OnToken
from service.rag.ranking import Scorer
from service.rag.retrieve import Candidate, HybridRetriever
from service.rag.scope import resolve as resolve_scope
from service.rag.semantic import WordVectors
from service.rag.store import Chunk
from service.rag.text import prose
from service.settings import Settings

log = logging.getLogger(__name__)

# Control characters (C0, C1, DEL), lone surrogates and the invisible bidi/format controls that can reorder or hide
# text; each becomes a space, so "Baku\x00Tbilisi" stays two words.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")

ABSTAIN_ANSWER = "The documents don't say."
CONFLICT_PREFIX = "The sources differ."
# A broad question's digest draws on the document the retrieved passages are most about, and on up to
# DIGEST_DOCUMENTS - 1 others that weigh at least DIGEST_DOCUMENT_SHARE of it.
DIGEST_DOCUMENTS = 3
DIGEST_DOCUMENT_SHARE = 0.5


def search_queries(question: str, history: Sequence[str]) -> tuple[str, list[str]]:
    """The query and the earlier turns to search with (earlier turns count half).

    An elliptical follow-up ("And Iran?") means nothing alone: it is searched together with
    the previous question ("What rail gauge does Russia use? And Iran?").
    """
    if history and analysis.is_elliptical(question):
        return f"{history[-1]} {question}", list(history[:-1])
    return question, list(history)


def selection_threshold(settings: Settings, scorer: Scorer) -> float:
    """The least probability at which the best passage answers: the fitted one, unless settings override it."""
    return scorer.threshold if settings.abstain_below is None else settings.abstain_below


# Terminal escape sequences ("\x1b[2J" clears a screen): removed whole, so that no "[2J" is left as a word.
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def clean_question(question: str) -> str:
    """The question as plain text: Unicode NFC, no terminal escape sequences or control characters, runs of
    whitespace collapsed."""
    text = _ESCAPE_SEQUENCE.sub(" ", unicodedata.normalize("NFC", question))
    return " ".join(_UNPRINTABLE.sub(" ", text).split())


@dataclass(frozen=True)
class Broad:
    """A broad question's digest, what it covers (the answer's notice), and the model's paragraph stored for it."""

    chunks: list[Chunk]
    notice: str
    written: dict | None = None


@dataclass
class Answer:
    """One answer, as the engine gives it: the fields every front end shows (to_dict(), the JSON answer), and what
    led to it, for evaluation and debugging (the retrieved passages, best first, and the selection made from them)."""

    answer: str
    abstained: bool
    mode: str
    conversation_id: str
    citations: list[dict]
    timings_ms: dict[str, float]
    unsupported: list[dict] = field(default_factory=list)
    related: list[dict] = field(default_factory=list)
    notice: str | None = None
    retrieved: list[Candidate] = field(default_factory=list)
    selection: selecting.Selection | None = None

    def to_dict(self) -> dict:
        return {
            "answer": self.answer, "abstained": self.abstained, "mode": self.mode,
            "conversation_id": self.conversation_id, "citations": self.citations, "timings_ms": self.timings_ms,
            "unsupported": self.unsupported, "related": self.related, "notice": self.notice,
        }


class AnswerEngine:
    def __init__(
        self,
        settings: Settings,
        retriever: HybridRetriever,
        conversations: ConversationStore,
        word_vectors: WordVectors | None = None,
        llm_answerer=None,
        scorer: Scorer | None = None,
        question_kinds: QuestionKinds | None = None,
    ):
        self.settings = settings
        self.scorer = scorer or Scorer.load()
        self.retriever = retriever
        self.conversations = conversations
        self.word_vectors = word_vectors
        self.llm_answerer = llm_answerer
        self.question_kinds = question_kinds  # None: every question is answered as a factoid one

    def available_modes(self) -> list[str]:
        llm = self.llm_answerer is not None and self.llm_answerer.provider.configured
        return ["extractive", "llm"] if llm else ["extractive"]

    def resolve_mode(self, mode: str | None) -> str:
        mode = mode or self.settings.answer_mode
        if mode == "auto":
            return "llm" if "llm" in self.available_modes() else "extractive"
        if mode not in self.available_modes():
            raise ModeUnavailable(
                f"answer mode '{mode}' is not available: no LLM is configured "
                "(install the model with `make setup`, or set QA_LLM_GGUF or QA_LLM_URL); use 'extractive' or 'auto'"
            )
        return mode

    def validate(self, question: str) -> str:
        question = clean_question(question) if isinstance(question, str) else ""
        if not question:
            raise InvalidQuestion("the question is empty")
        if not any(ch.isalnum() for ch in question):
            raise InvalidQuestion("the question has no words")
        if len(question) > self.settings.max_question_chars:
            raise InvalidQuestion(
                f"the question is too long ({len(question)} characters; limit {self.settings.max_question_chars})"
            )
        return question

    def ask(self, question: str, **kwargs) -> dict:
        """answer() as the JSON object every front end shows (see service/api/models.py)."""
        return self.answer(question, **kwargs).to_dict()

    def answer(
        self,
        question: str,
        conversation_id: str | None = None,
        mode: str | None = None,
        create_conversation: bool = True,
        on_token: OnToken | None = None,
        on_draft: Callable[[dict], None] | None = None,
    ) -> Answer:
        """Answer one question. on_token, if given, receives the LLM's text as it is generated; on_draft, in llm
        mode, receives the extractive answer ({"answer", "abstained", "citations"}) before the model starts."""
        started = time.perf_counter()
        question = self.validate(question)
        mode = self.resolve_mode(mode)
        if conversation_id and not self.conversations.exists(conversation_id):
            if not create_conversation:
                raise ConversationNotFound(f"conversation '{conversation_id}' not found")
        unsaved = None
        try:
            conversation_id = self.conversations.create(conversation_id)
        except StorageFull as exc:  # the index is intact: answer, and say the turn is not kept
            unsaved, conversation_id = exc.message, conversation_id or uuid.uuid4().hex
        history = self.conversations.questions(conversation_id, self.settings.history_turns)

        candidates = self.retriever.retrieve(*search_queries(question, history))
        retrieved = time.perf_counter()
        corpus = self.retriever.corpus()
        selection = selecting.select(
            analysis.analyze(question, history), candidates, corpus, self.scorer,
            threshold=self.settings.abstain_below, max_sentences=self.settings.max_answer_sentences, vectors=self.word_vectors,
        )
        notice = None
        timings: dict[str, float] = {}
        result = None
        gate = min(self.scorer.llm_threshold, selection_threshold(self.settings, self.scorer))
        broad = self._broad(question, candidates, corpus)
        if broad is not None:
            # A broad question (a summary, an argument, a comparison) is answered by a digest of sentences; in llm
            # mode the model writes a paragraph over it, verified sentence by sentence, and the digest is the draft.
            result = self._extractive_digest(broad.chunks)
            notice = broad.notice
            if mode == "llm" and broad.written is not None:  # written in the background: no generation to wait for
                if broad.written["answer"] is not None:
                    result = {"abstained": False, **broad.written}
                else:  # and none of it could be verified: it would not be now either
                    mode, notice = "extractive", f"{notice}; {broad.written['reason']}; showing the digest instead"
            elif mode == "llm":
                if on_draft is not None:
                    on_draft(result)
                generated = self.llm_answerer.answer_digest(question, history, broad.chunks, corpus, on_token)
                timings["generate"] = round(generated.generate_ms, 2)
                if generated.first_token_ms is not None:
                    timings["first_token"] = round(generated.first_token_ms + (retrieved - started) * 1000, 2)
                if generated.answer is not None:
                    result = generated.answer
                else:
                    mode, notice = "extractive", f"{notice}; {generated.fallback_reason}; showing the digest instead"
        elif mode == "llm" and selection.conflict and not selection.abstained:
            # Two documents give different figures: the answer must show both with their citations, which the
            # passages quoted side by side do and a short model answer, giving one figure, would not.
            mode, notice = "extractive", "the sources differ; quoting each"
        elif mode == "llm" and selection.ranked and selection.support >= gate:
            # The model reads more than the extractive answer and may answer where the extractive gate refuses;
            # verification then decides. The extractive answer is shown meanwhile as a draft.
            if on_draft is not None:
                on_draft(self._extractive(selection))
            generated = self.llm_answerer.answer(question, history, selection, corpus, on_token, gate=gate)
            timings["generate"] = round(generated.generate_ms, 2)
            if generated.first_token_ms is not None:
                timings["first_token"] = round(generated.first_token_ms + (retrieved - started) * 1000, 2)
            result = generated.answer
            if result is None:
                log.info("llm answer not used: %s", generated.fallback_reason)
                if not generated.model_ran:
                    mode, notice = "extractive", generated.fallback_reason
                elif not selection.abstained and selection.support >= self.scorer.fallback_threshold:
                    # The passages answer the question though the model's text could not be verified.
                    mode = "extractive"
                    notice = f"{generated.fallback_reason}; showing the passages that answer it instead"
                elif not selection.abstained:  # too weak to stand in for the model: refuse
                    selection = replace(selection, abstained=True, reason=generated.fallback_reason)
        if selection.abstained and result is None:
            log.info("abstained reason=%r support=%.2f", selection.reason, selection.support)
        if result is None:
            result = self._extractive(selection)
        done = time.perf_counter()

        answer = Answer(
            answer=result["answer"],
            abstained=result["abstained"],
            mode=mode,
            conversation_id=conversation_id,
            citations=result["citations"],
            timings_ms={
                "retrieve": round((retrieved - started) * 1000, 2),
                "answer": round((done - retrieved) * 1000, 2),
                "total": round((done - started) * 1000, 2),
                **timings,
            },
            unsupported=result.get("unsupported", []),
            related=result.get("related", []),
            notice=notice,
            retrieved=candidates,
            selection=selection,
        )
        if unsaved is None:
            try:
                self.conversations.add_turn(conversation_id, question, answer.to_dict())
            except StorageFull as exc:
                unsaved = exc.message
        if unsaved is not None:
            log.error("conversation turn not saved: %s", unsaved)
            answer.notice = " ".join(filter(None, [notice, f"This turn was not saved ({unsaved}); follow-ups "
                                                           "will not see it."]))
        log.info(
            "answered mode=%s abstained=%s citations=%d total_ms=%.1f notice=%r",
            mode, answer.abstained, len(answer.citations), answer.timings_ms["total"], notice,
        )
        return answer

    def ask_stream(self, question: str, **kwargs) -> Iterator[dict]:
        """Yield {"type": "draft", ...} (llm mode: the extractive answer, at once), {"type": "token", "text": ...}
        as the model writes, then {"type": "answer", ...}, the verified answer that replaces the draft.

        Extractive answers (and fallbacks) arrive as the final event only. Errors raise here,
        before any event, when they concern the request (empty question, unknown conversation).
        """
        events: queue.Queue = queue.Queue()
        done = object()
        outcome: dict = {}

        def run() -> None:
            try:
                outcome["answer"] = self.ask(
                    question, on_token=lambda t: events.put({"type": "token", "text": t}),
                    on_draft=lambda d: events.put({"type": "draft", **d}), **kwargs,
                )
            except BaseException as exc:  # handed to the consumer below
                outcome["error"] = exc
            finally:
                events.put(done)

        threading.Thread(target=run, name="answer-stream", daemon=True).start()
        while (item := events.get()) is not done:
            yield item
        if "error" in outcome:
            raise outcome["error"]
        yield {"type": "answer", **outcome["answer"]}

    def _broad(self, question: str, candidates: Sequence[Candidate], corpus) -> Broad | None:
        """The digest of a broad question (see service/rag/digest.py), or None for a factoid one. It covers the
        document or section the question names (service/rag/scope.py), else the documents the retrieved passages
        are most about. A summary of one document or section is the one stored at ingest, with the model's paragraph
        over it once written (service/rag/summaries.py)."""
        if self.question_kinds is None or not candidates:
            return None
        vector = self.retriever.embed_query(question)
        breadth = self.question_kinds.classify(question, vector)
        if not breadth.broad:
            return None
        scope = resolve_scope(question, vector, corpus, self.retriever.store.sentence_vectors,
                              {c.chunk.doc_id for c in candidates})
        doc_ids = list(scope.doc_ids)
        if not doc_ids:  # the documents the retrieved passages are most about
            weight: dict[str, float] = {}
            for c in candidates:
                weight[c.chunk.doc_id] = weight.get(c.chunk.doc_id, 0.0) + c.score
            ranked = sorted(weight, key=lambda d: (-round(weight[d], 9), corpus.doc_chunks[d][0].position))
            doc_ids = [d for d in ranked if weight[d] >= DIGEST_DOCUMENT_SHARE * weight[ranked[0]]][:DIGEST_DOCUMENTS]
        if breadth.kind == "summary" and len(doc_ids) == 1:
            stored = self._stored_summary(doc_ids[0], scope.section, corpus)
            if stored is not None:  # and in llm mode its paragraph, once written: no generation to wait for
                part = f", section {stored.name!r}" if scope.section else ""
                log.info("broad question kind=summary: the summary stored of %s%s", stored.chunks[0].source, part)
                return Broad(stored.chunks, f"a digest of {stored.chunks[0].source}{part}, made at ingest",
                             stored.written)
        best = max(c.score for c in candidates)
        log.info("broad question kind=%s (similarity %.2f) p=%.2f documents=%s scope=%s", breadth.kind,
                 breadth.similarity, breadth.probability, [corpus.doc_chunks[d][0].source for d in doc_ids],
                 scope.why or "from the retrieved passages")
        chunks = digest_sentences(breadth.kind, question, vector, doc_ids, corpus.doc_chunks,
                                  self.retriever.store.sentence_vectors, self.question_kinds.embed_texts,
                                  {c.chunk.chunk_id: c.score / best for c in candidates}, scope.section)
        # Which documents it covers: a broad question that names none may be about any of them.
        return Broad(chunks, "a digest of " + ", ".join(dict.fromkeys(c.source for c in chunks))) if chunks else None

    def _stored_summary(self, doc_id: str, section: tuple[str, int, int] | None,
                        corpus) -> summaries.StoredSummary | None:
        """The summary of a document or section stored at ingest; None when there is none (an index made before
        digests were stored, or a section too short to have one)."""
        chunks = corpus.doc_chunks.get(doc_id, [])
        stored = self.retriever.store.summaries(doc_id)
        if stored is None or not chunks:
            return None
        digests, written = stored
        key = summaries.DOCUMENT if section is None else summaries.section_key(digests, chunks, section)
        if key not in digests:
            return None
        name = summaries.scope_name(corpus.titles.get(doc_id, ""), chunks, key)
        picked = [chunks[i] for i in digests[key] if i < len(chunks) and chunks[i].kind == "sentence"]
        return summaries.StoredSummary(name, picked, written.get(key)) if picked else None

    def _extractive_digest(self, chunks: Sequence[Chunk]) -> dict:
        citations = _citations(chunks, [1.0] * len(chunks))
        return {"answer": _quoted(citations), "abstained": False, "citations": citations}

    def _extractive(self, selection: selecting.Selection) -> dict:
        if selection.abstained:
            return {"answer": ABSTAIN_ANSWER, "abstained": True, "citations": [],
                    "related": _citations(selection.related, [0.0] * len(selection.related), verified=False)}
        citations = _citations(selection.chunks, selection.scores)
        body = _quoted(citations)
        text = f"{CONFLICT_PREFIX} {body}" if selection.conflict else body
        return {"answer": text, "abstained": False, "citations": citations}


def _quoted(citations: Sequence[dict]) -> str:
    """An extractive answer's text: each cited sentence as prose, followed by its marker."""
    return " ".join(f"{prose(c['quote'])} [{c['n']}]" for c in citations)


def _citations(chunks: Sequence[Chunk], scores: Sequence[float], verified: bool = True) -> list[dict]:
    return [
        {
            "n": n,
            "source": chunk.source,
            "doc_id": chunk.doc_id,
            "quote": chunk.text,
            "start_char": chunk.start_char,
            "end_char": chunk.end_char,
            "score": round(score, 3),
            "verified": verified,  # a verbatim quote of what the answer says; related passages answer nothing
        }
        for n, (chunk, score) in enumerate(zip(chunks, scores), start=1)
    ]
