"""The index in Chroma: chunk vectors in one collection, document records in another.

Everything the service needs lives in Chroma, so an embedded database and a Chroma server
behave the same. Document records carry the document's text (the text citations index into)
and the content hash that makes ingest idempotent. A generation counter, bumped on every
change, lets each process notice that its in-memory BM25 and chunk table are stale.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

# Document records need a vector to live in Chroma; they are never searched by it.
_NO_VECTOR = [1.0]
_GENERATION_ID = "__generation__"
# Chroma caps the number of records in one add/get call; stay well below it.
_BATCH = 2000


@dataclass(frozen=True)
class Chunk:
    """One citable unit (a sentence or a heading) of a document."""

    chunk_id: str
    doc_id: str
    source: str
    idx: int
    start_char: int
    end_char: int
    kind: str
    text: str


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    source: str
    path: str
    sha256: str
    title: str
    chunks: int
    text: str | None = None


class IndexUnavailable(Exception):
    """The vector store cannot be reached or opened."""


def open_client(data_dir: Path, chroma_url: str | None = None):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if chroma_url:
            from urllib.parse import urlparse

            url = urlparse(chroma_url)
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=settings,
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=settings)
    except Exception as exc:  # chromadb raises several unrelated types for "cannot open/connect"
        where = chroma_url or str(data_dir / "chroma")
        raise IndexUnavailable(f"cannot open the index at {where}: {exc}") from exc


class ChunkStore:
    def __init__(self, client, collection: str = "qa_chunks"):
        self._client = client
        self._chunks = client.get_or_create_collection(
            collection, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        self._docs = client.get_or_create_collection(
            f"{collection}_documents", metadata={"hnsw:space": "cosine"}, embedding_function=None
        )

    # -- writing -------------------------------------------------------------------------------
    def replace_document(
        self, record: DocumentRecord, chunks: Sequence[Chunk], vectors: dict[str, Sequence[Sequence[float]]]
    ) -> None:
        """Replace all chunks of record.doc_id, then write the record (the commit point).

        If the process dies before the record is written, the old record's hash no longer
        matches the file, so the next ingest redoes this document from scratch.
        """
        self._chunks.delete(where={"doc_id": record.doc_id})
        for view, view_vectors in vectors.items():
            for lo in range(0, len(chunks), _BATCH):
                batch = chunks[lo : lo + _BATCH]
                self._chunks.add(
                    ids=[f"{c.chunk_id}|{view}" for c in batch],
                    embeddings=[list(v) for v in view_vectors[lo : lo + _BATCH]],
                    metadatas=[_chunk_metadata(c, view) for c in batch],
                    documents=[c.text for c in batch] if view == "sentence" else None,
                )
        self._docs.upsert(
            ids=[record.doc_id],
            embeddings=[_NO_VECTOR],
            documents=[record.text or ""],
            metadatas=[
                {
                    "source": record.source,
                    "path": record.path,
                    "sha256": record.sha256,
                    "title": record.title,
                    "chunks": record.chunks,
                    "updated": time.time(),
                }
            ],
        )
        self._bump_generation()

    def delete_document(self, doc_id: str) -> bool:
        found = bool(self._docs.get(ids=[doc_id])["ids"])
        self._chunks.delete(where={"doc_id": doc_id})
        self._docs.delete(ids=[doc_id])
        self._bump_generation()
        return found

    def delete_orphan_chunks(self) -> int:
        """Remove chunks whose document record is missing (left by an interrupted ingest)."""
        known = {r.doc_id for r in self.documents()}
        seen = {m["doc_id"] for m in self._chunks.get(where={"view": "sentence"}, include=["metadatas"])["metadatas"]}
        orphans = seen - known
        for doc_id in orphans:
            self._chunks.delete(where={"doc_id": doc_id})
        if orphans:
            self._bump_generation()
        return len(orphans)

    def _bump_generation(self) -> None:
        self._docs.upsert(
            ids=[_GENERATION_ID],
            embeddings=[_NO_VECTOR],
            metadatas=[{"generation": time.time_ns(), "source": "", "path": ""}],
        )

    # -- reading -------------------------------------------------------------------------------
    def generation(self) -> int:
        got = self._docs.get(ids=[_GENERATION_ID], include=["metadatas"])
        return int(got["metadatas"][0]["generation"]) if got["ids"] else 0

    def documents(self, with_text: bool = False, ids: list[str] | None = None) -> list[DocumentRecord]:
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        got = self._docs.get(ids=ids, include=include)
        texts = got.get("documents") or [None] * len(got["ids"])
        records = [
            DocumentRecord(
                doc_id=doc_id,
                source=m["source"],
                path=m["path"],
                sha256=m["sha256"],
                title=m.get("title", ""),
                chunks=int(m["chunks"]),
                text=text if with_text else None,
            )
            for doc_id, m, text in zip(got["ids"], got["metadatas"], texts)
            if doc_id != _GENERATION_ID
        ]
        return sorted(records, key=lambda r: (r.source, r.doc_id))

    def document(self, doc_id: str) -> DocumentRecord | None:
        found = self.documents(ids=[doc_id])
        return found[0] if found else None

    def document_text(self, doc_id: str) -> str | None:
        got = self._docs.get(ids=[doc_id], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def chunks(self) -> list[Chunk]:
        got = self._chunks.get(where={"view": "sentence"}, include=["metadatas", "documents"])
        chunks = [
            Chunk(
                chunk_id=chunk_id.rsplit("|", 1)[0],
                doc_id=m["doc_id"],
                source=m["source"],
                idx=int(m["idx"]),
                start_char=int(m["start_char"]),
                end_char=int(m["end_char"]),
                kind=m["kind"],
                text=text,
            )
            for chunk_id, m, text in zip(got["ids"], got["metadatas"], got["documents"])
        ]
        return sorted(chunks, key=lambda c: (c.doc_id, c.idx))

    def count_vectors(self) -> int:
        return self._chunks.count()

    def query(self, embedding: Sequence[float], n_results: int) -> Iterable[tuple[str, str, float]]:
        """Nearest chunk vectors of every view: yields (chunk_id, view, cosine similarity)."""
        got = self._chunks.query(
            query_embeddings=[list(embedding)], n_results=n_results, include=["metadatas", "distances"]
        )
        return [
            (record_id.rsplit("|", 1)[0], m["view"], 1.0 - float(d))
            for record_id, m, d in zip(got["ids"][0], got["metadatas"][0], got["distances"][0])
        ]


def _chunk_metadata(chunk: Chunk, view: str) -> dict:
    return {
        "doc_id": chunk.doc_id,
        "source": chunk.source,
        "idx": chunk.idx,
        "start_char": chunk.start_char,
        "end_char": chunk.end_char,
        "kind": chunk.kind,
        "view": view,
    }
