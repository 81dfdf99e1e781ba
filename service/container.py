"""Builds the models, stores and engines once per process, from settings."""

from __future__ import annotations

import logging
import threading
from functools import cached_property, lru_cache
from typing import Callable

from service.settings import Settings

log = logging.getLogger(__name__)

# Most corpus words embedded at start-up; rarer ones are embedded when first needed.
WARM_VOCABULARY = 20_000
# Question vectors kept in memory (384 floats each).
QUERY_VECTORS = 1024


class Container:
    """Lazily built components: a CLI command that lists documents never loads the embedding model."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self._lock = threading.RLock()

    @cached_property
    def embed_model(self):
        from service.rag.embeddings import load_embedding_model

        with self._lock:
            return load_embedding_model(self.settings.embed_model_path)

    def embed_texts(self, texts: list[str]) -> list[list[float]]:
        """Embed documents' texts; loads the model on first use (unchanged re-ingests never do)."""
        return self.embed_model.get_text_embedding_batch(texts)

    @cached_property
    def embed_query(self) -> Callable[[str], list[float]]:
        """A question's vector, remembered for the last QUERY_VECTORS questions: retrieval and the broad-question
        check read the same one, and a conversation's earlier turns are searched again with each follow-up."""
        remembered = lru_cache(maxsize=QUERY_VECTORS)(lambda text: tuple(self.embed_model.get_query_embedding(text)))
        return lambda text: list(remembered(text))

    @cached_property
    def store(self):
        from service.rag.store import ChunkStore, open_client

        with self._lock:
            return ChunkStore(open_client(self.settings.data_dir, self.settings.chroma_url), self.settings.collection)

    @cached_property
    def redis(self):
        from service.shared_state import connect

        return connect(self.settings.redis_url)

    @cached_property
    def conversations(self):
        if self.settings.redis_url:
            from service.shared_state import RedisConversationStore

            return RedisConversationStore(self.redis)
        from service.conversations import ConversationStore

        return ConversationStore(self.settings.conversations_db)

    @cached_property
    def slack_state(self):
        """Which Slack events were answered, and the 👍/👎 feedback."""
        if self.settings.redis_url:
            from service.shared_state import RedisSlackState

            return RedisSlackState(self.redis)
        from service.slack.state import SlackState

        return SlackState(self.settings.slack_db)

    @cached_property
    def retriever(self):
        from service.rag.retrieve import HybridRetriever

        return HybridRetriever(self.store, self.embed_query, self.settings.top_k)

    @cached_property
    def engine(self):
        from service.rag.engine import AnswerEngine
        from service.rag.semantic import WordVectors

        word_vectors = WordVectors(self.embed_texts)
        from service.rag.breadth import QuestionKinds

        return AnswerEngine(self.settings, self.retriever, self.conversations, word_vectors, self.llm_answerer,
                            question_kinds=QuestionKinds(self.embed_texts))

    @cached_property
    def llm_provider(self):
        from service.rag.llm import LLMProvider

        return LLMProvider(self.settings)

    @cached_property
    def llm_answerer(self):
        from service.prompts import load_prompts
        from service.rag.generate import LLMAnswerer

        # Prompts are checked here, at start-up, even before any LLM is configured.
        return LLMAnswerer(self.llm_provider, load_prompts(), self.embed_texts, self.settings)

    @cached_property
    def ingestor(self):
        from ingest.pipeline import Ingestor

        from service.rag.summaries import compute_digests

        return Ingestor(self.store, self.embed_texts, self.settings.embed_batch_size,
                        digests=compute_digests)

    @cached_property
    def summary_writer(self):
        """Writes the model's summaries of the stored digests (service/rag/summaries.py)."""
        from service.rag.summaries import SummaryWriter

        return SummaryWriter(self.store, self.retriever.corpus, self.llm_answerer.answer_digest)

    def ingest(self, paths, prune: bool = False, progress: bool | None = None):
        report = self.ingestor.ingest(paths, prune=prune, progress=progress)
        if "retriever" in self.__dict__:
            self.retriever.invalidate()
        if "summary_writer" in self.__dict__:  # running in the background (qa serve): the new documents' turn
            self.summary_writer.wake()
        return report

    def warm_up(self) -> None:
        """Load the model and corpus, run one query and embed the corpus vocabulary for synonym
        matching, so the first users do not pay for it."""
        self.engine.retriever.retrieve("warm up")
        corpus = self.retriever.corpus()
        vocabulary = list(dict.fromkeys(w for c in corpus.chunks for w in corpus.profile(c).words))
        if self.engine.word_vectors is not None:  # None when synonym matching is switched off (eval.ablation)
            self.engine.word_vectors.ensure(vocabulary[:WARM_VOCABULARY])
        if self.engine.question_kinds is not None:  # embeds the example questions once
            self.engine.question_kinds.classify("warm up")
        if self.llm_provider.configured:
            from service.rag.llm import LLMUnavailable

            try:
                self.llm_provider.get()
            except LLMUnavailable as exc:  # answers fall back to extractive mode, saying so
                log.error("LLM not loaded: %s", exc)
