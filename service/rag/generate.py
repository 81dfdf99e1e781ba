"""LLM answers: the model writes from a few passages, then every sentence is verified and cited."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Sequence

from service.prompts import Prompts
from service.rag import verify
from service.rag.answer_types import VALUE_KINDS, expected_type, holds_type
from service.rag.extractive import Selection
from service.rag.llm import OnToken
from service.rag.store import Chunk

log = logging.getLogger(__name__)


@dataclass
class Generated:
    """A verified LLM answer, or the reason it could not be used (then the caller falls back)."""

    answer: dict | None
    fallback_reason: str | None = None
    first_token_ms: float | None = None
    generate_ms: float = 0.0


def pick_passages(selection: Selection, budget_chars: int) -> list[Chunk]:
    """The chosen sentences, then runners-up, within a character budget (at least one passage)."""
    passages: list[Chunk] = []
    used = 0
    for chunk in [*selection.chunks, *selection.runners_up]:
        if passages and used + len(chunk.text) > budget_chars:
            continue
        passages.append(chunk)
        used += len(chunk.text)
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
        common_words,
        on_token: OnToken | None = None,
    ) -> Generated:
        from service.errors import Busy
        from service.rag.llm import LLMBusy, LLMUnavailable

        passages = pick_passages(selection, self.settings.llm_source_chars)
        user = self.prompts.user_message(question, [p.text for p in passages], history[-1] if history else None)
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
            return Generated(None, f"the language model is unavailable ({exc}); answered in extractive mode")
        generate_ms = (time.perf_counter() - started) * 1000
        log.info(
            "generated backend=%s prompt_tokens=%s completion_tokens=%s ms=%.0f timings=%s",
            getattr(backend, "name", "?"), completion.prompt_tokens, completion.completion_tokens, generate_ms,
            {k: round(v, 1) for k, v in completion.timings.items() if isinstance(v, (int, float))},
        )
        ttft = first_token[0] if first_token else None
        text = completion.text.strip()
        if not text or verify.is_abstention(text):
            return Generated(None, "the model found no answer in the passages; showing the passages instead",
                             ttft, generate_ms)
        checked = verify.check(question, text, passages, self.embed_texts, self.settings.llm_min_similarity, common_words)
        kept = [s for s in checked if s.supported]
        unsupported = [{"sentence": s.text, "reason": s.reason} for s in checked if not s.supported]
        if not kept:
            return Generated(None, "the model's answer could not be verified against the sources; "
                                   "showing the passages instead", ttft, generate_ms)
        # The passages hold the kind of value the question asks for (the extractive gate checked); an answer
        # without one did not answer, whatever it says instead (an instruction planted in a source, say).
        # Only values with a written form count here: names are told by capitals, which a sentence start blurs.
        kind = expected_type(question)
        if kind in VALUE_KINDS and not holds_type(" ".join(s.text for s in kept), kind, question, common_words):
            return Generated(None, f"the model's answer does not give the {kind} the question asks for; "
                                   "showing the passages instead", ttft, generate_ms)
        return Generated(_compose(kept, passages, unsupported), None, ttft, generate_ms)


def _compose(kept: list[verify.CheckedSentence], passages: list[Chunk], unsupported: list[dict]) -> dict:
    """Answer text with [n] markers numbered in order of first use, and one citation per passage used."""
    numbers: dict[int, int] = {}
    for s in kept:
        for i in s.support:
            numbers.setdefault(i, len(numbers) + 1)
    parts = []
    for s in kept:
        markers = "".join(f"[{numbers[i]}]" for i in s.support)
        parts.append(f"{s.text} {markers}")
    citations = [
        {
            "n": n,
            "source": passages[i].source,
            "doc_id": passages[i].doc_id,
            "quote": passages[i].text,
            "start_char": passages[i].start_char,
            "end_char": passages[i].end_char,
            "score": round(max((s.similarity for s in kept if i in s.support), default=0.0), 3),
            "verified": True,
        }
        for i, n in numbers.items()
    ]
    return {
        "answer": " ".join(parts),
        "abstained": False,
        "citations": citations,
        "unsupported": unsupported,
    }
