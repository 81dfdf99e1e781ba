"""The answer engine: resolve the conversation, retrieve, answer, cite. Knows nothing of HTTP or Slack."""

from __future__ import annotations

import logging
import time
from typing import Sequence

from service.conversations import ConversationStore
from service.errors import ConversationNotFound, InvalidQuestion, ModeUnavailable
from service.rag import extractive
from service.rag.retrieve import HybridRetriever
from service.rag.semantic import WordVectors
from service.settings import Settings

log = logging.getLogger(__name__)

ABSTAIN_ANSWER = "The documents don't say."
CONFLICT_PREFIX = "The sources differ."


def search_queries(question: str, history: Sequence[str]) -> tuple[str, list[str]]:
    """The query and the earlier turns to search with (earlier turns count half).

    An elliptical follow-up ("And Iran?") means nothing alone: it is searched together with
    the previous question ("What rail gauge does Russia use? And Iran?").
    """
    if history and extractive.is_elliptical(question):
        return f"{history[-1]} {question}", list(history[:-1])
    return question, list(history)


class AnswerEngine:
    def __init__(
        self,
        settings: Settings,
        retriever: HybridRetriever,
        conversations: ConversationStore,
        word_vectors: WordVectors | None = None,
    ):
        self.settings = settings
        self.retriever = retriever
        self.conversations = conversations
        self.word_vectors = word_vectors

    def available_modes(self) -> list[str]:
        return ["extractive"]

    def resolve_mode(self, mode: str | None) -> str:
        mode = mode or self.settings.answer_mode
        if mode == "auto":
            return "llm" if "llm" in self.available_modes() else "extractive"
        if mode not in self.available_modes():
            raise ModeUnavailable(
                f"answer mode '{mode}' is not available: no LLM is configured; use 'extractive' or 'auto'"
            )
        return mode

    def validate(self, question: str) -> str:
        question = question.strip() if isinstance(question, str) else ""
        if not question:
            raise InvalidQuestion("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise InvalidQuestion(
                f"the question is too long ({len(question)} characters; limit {self.settings.max_question_chars})"
            )
        return question

    def ask(
        self,
        question: str,
        conversation_id: str | None = None,
        mode: str | None = None,
        create_conversation: bool = True,
    ) -> dict:
        started = time.perf_counter()
        question = self.validate(question)
        mode = self.resolve_mode(mode)
        if conversation_id and not self.conversations.exists(conversation_id):
            if not create_conversation:
                raise ConversationNotFound(f"conversation '{conversation_id}' not found")
        conversation_id = self.conversations.create(conversation_id)
        history = self.conversations.questions(conversation_id, self.settings.history_turns)

        candidates = self.retriever.retrieve(*search_queries(question, history))
        retrieved = time.perf_counter()
        answer = self._extractive(question, history, candidates)
        done = time.perf_counter()

        answer = {
            "answer": answer["answer"],
            "abstained": answer["abstained"],
            "mode": mode,
            "conversation_id": conversation_id,
            "citations": answer["citations"],
            "timings_ms": {
                "retrieve": round((retrieved - started) * 1000, 2),
                "answer": round((done - retrieved) * 1000, 2),
                "total": round((done - started) * 1000, 2),
            },
        }
        self.conversations.add_turn(conversation_id, question, answer)
        log.info(
            "answered mode=%s abstained=%s citations=%d total_ms=%.1f",
            mode, answer["abstained"], len(answer["citations"]), answer["timings_ms"]["total"],
        )
        return answer

    def _extractive(self, question: str, history: Sequence[str], candidates) -> dict:
        corpus = self.retriever.corpus()
        selection = extractive.select(
            question, history, candidates, corpus,
            abstain_below=self.settings.abstain_below, max_sentences=self.settings.max_answer_sentences,
            vectors=self.word_vectors,
        )
        if selection.abstained:
            log.info("abstained reason=%r support=%.2f", selection.reason, selection.support)
            return {"answer": ABSTAIN_ANSWER, "abstained": True, "citations": []}
        citations = [
            {
                "n": n,
                "source": chunk.source,
                "doc_id": chunk.doc_id,
                "quote": chunk.text,
                "start_char": chunk.start_char,
                "end_char": chunk.end_char,
                "score": round(score, 3),
            }
            for n, (chunk, score) in enumerate(zip(selection.chunks, selection.scores), start=1)
        ]
        body = " ".join(f"{c['quote']} [{c['n']}]" for c in citations)
        text = f"{CONFLICT_PREFIX} {body}" if selection.conflict else body
        return {"answer": text, "abstained": False, "citations": citations}
