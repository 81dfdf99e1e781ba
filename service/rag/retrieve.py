"""Hybrid retrieval: vector search (Chroma) and BM25 over several views, fused by reciprocal rank."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Sequence

from service.errors import IndexNotReady
from service.rag.store import Chunk, ChunkStore
from service.rag.text import TermSet, TermWeights, content_terms, content_words, stem
from service.rag.views import LEXICAL_VIEWS, VECTOR_VIEWS, headings, table_headers, view_text

log = logging.getLogger(__name__)

_LOWER_WORD = re.compile(r"(?<![\w’'])[a-z][a-z’'-]+")
# Standard RRF constant: damps the head of each ranking so no single list dominates.
RRF_K = 60
# Earlier turns of a conversation count half as much as the current question.
HISTORY_WEIGHT = 0.5
# How many candidates each ranking contributes before fusion.
PER_RANKING = 30


@dataclass(frozen=True)
class ChunkProfile:
    """What answer scoring needs to know about a chunk and its surroundings, computed once."""

    words: list[str]  # content words of the chunk
    terms: TermSet  # their stems
    context_text: str  # heading, title and the neighbouring sentences
    context_terms: TermSet
    name_terms: TermSet  # context terms plus those two sentences away, where names are often given
    nearby_words: list[str]  # content words of the sentence and of all that context, for soft name matching


@dataclass
class Candidate:
    chunk: Chunk
    score: float  # fused reciprocal-rank score
    cosine: float  # best cosine similarity of the question to any vector view of the chunk


class Corpus:
    """An in-memory snapshot of the index: chunk table, neighbours, headings, BM25 indexes, IDF."""

    def __init__(self, chunks: list[Chunk], titles: dict[str, str], generation: int):
        self.generation = generation
        self.chunks = chunks
        self.by_id = {c.chunk_id: c for c in chunks}
        self.titles = titles
        self.doc_chunks: dict[str, list[Chunk]] = defaultdict(list)
        for chunk in chunks:
            self.doc_chunks[chunk.doc_id].append(chunk)
        self.heading_of: dict[str, str] = {}
        self.table_header_of: dict[str, Chunk] = {}
        for doc_id, doc_chunks in self.doc_chunks.items():
            for chunk, heading in zip(doc_chunks, headings(doc_chunks)):
                self.heading_of[chunk.chunk_id] = heading
            for chunk, header in zip(doc_chunks, table_headers(doc_chunks)):
                if header is not None:
                    self.table_header_of[chunk.chunk_id] = header
        self.weights = TermWeights(c.text for c in chunks)
        self._profiles: dict[str, ChunkProfile] = {}
        # Words written in lower case somewhere: capitalized runs of these are titles, not names.
        self.common_words = {w.lower() for c in chunks for w in _LOWER_WORD.findall(c.text)}
        # Byline lines (author, date, affiliation) between a document's title and its first sentence.
        self.front_matter: set[str] = set()
        for doc_chunks in self.doc_chunks.values():
            for chunk in doc_chunks[1:]:
                if chunk.kind != "heading":
                    break
                self.front_matter.add(chunk.chunk_id)
        self._bm25 = {view: self._build_bm25(view) for view in LEXICAL_VIEWS} if chunks else {}

    def profile(self, chunk: Chunk) -> ChunkProfile:
        cached = self._profiles.get(chunk.chunk_id)
        if cached is None:
            near = [self.neighbour(chunk, -1), self.neighbour(chunk, 1)]
            far = [self.neighbour(chunk, -2), self.neighbour(chunk, 2)]
            context_text = " ".join(
                [self.heading_of.get(chunk.chunk_id, ""), self.titles.get(chunk.doc_id, "")]
                + [n.text for n in near if n is not None]
            )
            words = content_words(chunk.text)
            far_text = " ".join(n.text for n in far if n is not None)
            context_terms = TermSet(content_terms(context_text))
            far_terms = TermSet(content_terms(far_text))
            nearby = list(dict.fromkeys(words + content_words(context_text) + content_words(far_text)))
            cached = ChunkProfile(
                words, TermSet(stem(w) for w in words), context_text, context_terms, context_terms | far_terms, nearby
            )
            self._profiles[chunk.chunk_id] = cached
        return cached

    def neighbour(self, chunk: Chunk, offset: int) -> Chunk | None:
        doc_chunks = self.doc_chunks[chunk.doc_id]
        i = chunk.idx + offset
        return doc_chunks[i] if 0 <= i < len(doc_chunks) else None

    def _build_bm25(self, view: str):
        import Stemmer
        from llama_index.core.schema import TextNode
        from llama_index.retrievers.bm25 import BM25Retriever

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

        nodes = []
        for doc_id, doc_chunks in self.doc_chunks.items():
            title = self.titles.get(doc_id, "")
            for i, chunk in enumerate(doc_chunks):
                text = view_text(view, doc_chunks, i, title, self.heading_of[chunk.chunk_id])
                nodes.append(TextNode(id_=chunk.chunk_id, text=text))
        try:
            return BM25Retriever.from_defaults(
                nodes=nodes, stemmer=Stemmer.Stemmer("english"), language="english",
                similarity_top_k=min(PER_RANKING, len(nodes)),
            )
        except ValueError:  # bm25s cannot index a collection without one indexable word (only stop words, say)
            log.info("no words to index for BM25 view=%s chunks=%d", view, len(nodes))
            return None

    def bm25(self, view: str, query: str) -> list[str]:
        """Chunk ids ranked by BM25 for one view (only those sharing a term with the query)."""
        retriever = self._bm25.get(view)
        if retriever is None:
            return []
        hits = [(n.score, n.node.node_id) for n in retriever.retrieve(query) if (n.score or 0.0) > 0.0]
        return [cid for _, cid in sorted(hits, key=lambda h: (-round(h[0], 6), self.by_id[h[1]].position))]


class HybridRetriever:
    def __init__(self, store: ChunkStore, embed_query: Callable[[str], list[float]], top_k: int = 8):
        self.store = store
        self.embed_query = embed_query
        self.top_k = top_k
        self._corpus: Corpus | None = None
        self._lock = threading.Lock()
        self._checked_at = 0.0

    def corpus(self) -> Corpus:
        """The current snapshot, rebuilt when any process changed the index (checked at most once a second)."""
        now = time.monotonic()
        if self._corpus is not None and now - self._checked_at < 1.0:
            return self._corpus
        with self._lock:
            generation = self.store.generation()
            self._checked_at = now
            if self._corpus is None or self._corpus.generation != generation:
                started = time.perf_counter()
                titles = {r.doc_id: r.title for r in self.store.documents()}
                self._corpus = Corpus(self.store.chunks(), titles, generation)
                log.info(
                    "corpus loaded chunks=%d documents=%d seconds=%.2f",
                    len(self._corpus.chunks), len(titles), time.perf_counter() - started,
                )
            return self._corpus

    def invalidate(self) -> None:
        self._checked_at = 0.0

    def retrieve(self, question: str, history: Sequence[str] = ()) -> list[Candidate]:
        try:
            return self._retrieve(question, history)
        except (IndexNotReady, TypeError, AttributeError, KeyError, NameError):
            raise  # already mapped, or a bug: not the index's fault
        except Exception as exc:  # chromadb raises many types for "cannot reach / read the index"
            log.error("index unavailable: %s: %s", type(exc).__name__, exc)
            raise IndexNotReady(f"the index is unavailable ({type(exc).__name__}); try again shortly") from exc

    def _retrieve(self, question: str, history: Sequence[str]) -> list[Candidate]:
        corpus = self.corpus()
        if not corpus.chunks:
            return []
        fused: dict[str, float] = defaultdict(float)
        cosine: dict[str, float] = defaultdict(float)
        queries = [(question, 1.0)] + [(h, HISTORY_WEIGHT) for h in history if h.strip()]
        for query, weight in queries:
            vector_hits: dict[str, list[tuple[float, str]]] = defaultdict(list)
            for chunk_id, view, sim in self.store.query(self.embed_query(query), PER_RANKING * len(VECTOR_VIEWS)):
                if chunk_id in corpus.by_id:
                    vector_hits[view].append((sim, chunk_id))
                    if query is question:
                        cosine[chunk_id] = max(cosine[chunk_id], sim)
            # Equal similarities (the same sentence in two documents) come back in the index's internal order, which
            # follows ingest order: they go by position instead.
            vector_rankings = [
                [cid for _, cid in sorted(hits, key=lambda h: (-round(h[0], 6), corpus.by_id[h[1]].position))]
                for _, hits in sorted(vector_hits.items())
            ]
            rankings = vector_rankings + [corpus.bm25(view, query) for view in LEXICAL_VIEWS]
            for ranking in rankings:
                for rank, chunk_id in enumerate(ranking[:PER_RANKING]):
                    fused[chunk_id] += weight / (RRF_K + rank + 1)
        # Scores are rounded so that equal sums reached in another order tie, and ties go by position.
        best = sorted(fused.items(), key=lambda kv: (-round(kv[1], 9), corpus.by_id[kv[0]].position))[: self.top_k]
        return [Candidate(corpus.by_id[cid], score, cosine.get(cid, 0.0)) for cid, score in best]
