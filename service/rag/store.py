"""The index in Chroma: chunk vectors in one collection, document records in another.

Everything the service needs lives in Chroma, so an embedded database and a Chroma server
behave the same. Document records carry the document's text (the text citations index into)
and the content hash that makes ingest idempotent. A generation counter, bumped on every
change, lets each process notice that its in-memory BM25 and chunk table are stale.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

# Document records need a vector to live in Chroma; they are never searched by it.
_NO_VECTOR = [1.0]
_GENERATION_ID = "__generation__"
# Chroma caps the number of records in one add/get call; stay well below it.
_BATCH = 2000
# Candidates the HNSW search explores per query. Chroma's default (100) missed the nearest vector of a
# 1,124-vector index in one build of it and found it in another build of the same documents (ingested in another
# order), so answers depended on ingest order; 400 still missed it in one build of the full test run. At 1,000 the
# search of an index of that size is close to exhaustive (tests/test_determinism.py).
SEARCH_EF = 1000


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

    @property
    def position(self) -> tuple[str, int, str]:
        """Where the chunk stands (document name, offset): what breaks ties between equal scores, so answers
        never depend on the folder a document was ingested from (its id hashes the path)."""
        return (self.source, self.start_char, self.doc_id)


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    source: str
    path: str
    sha256: str
    title: str
    chunks: int
    text: str | None = None
    # The stored digests, by scope (service/rag/summaries.py): chunk indexes.
    digests: dict[str, list[int]] | None = None


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
        if (self._chunks.configuration.get("hnsw") or {}).get("ef_search", SEARCH_EF) < SEARCH_EF:
            self._chunks.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})  # also for indexes made before
        self._docs = client.get_or_create_collection(
            f"{collection}_documents", metadata={"hnsw:space": "cosine"}, embedding_function=None
        )

    # -- writing -------------------------------------------------------------------------------
    def replace_document(
        self, record: DocumentRecord, chunks: Sequence[Chunk], vectors: dict[str, Sequence[Sequence[float]]]
    ) -> None:
        """Write the new version's chunks, then the record (the commit point), then drop other versions.

        Chunk records carry the content version they belong to, and readers only see chunks of the version the
        document record names. A process killed at any step therefore leaves the previous version (or, for a new
        document, nothing) visible; writing the same version again overwrites what it left, and the next ingest
        or prune removes the rest.
        """
        version = content_version(record.sha256)
        for view, view_vectors in vectors.items():
            for lo in range(0, len(chunks), _BATCH):
                batch = chunks[lo : lo + _BATCH]
                self._chunks.upsert(
                    ids=[f"{c.chunk_id}@{version}|{view}" for c in batch],
                    embeddings=[list(v) for v in view_vectors[lo : lo + _BATCH]],
                    metadatas=[_chunk_metadata(c, view, version) for c in batch],
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
                    "digests": json.dumps(record.digests or {}),
                }
            ],
        )
        self._delete_other_versions(record.doc_id, version)
        self._bump_generation()

    def delete_document(self, doc_id: str) -> bool:
        found = bool(self._docs.get(ids=[doc_id])["ids"])
        # Record first: once it is gone its chunks are invisible, whatever happens to the delete below.
        self._docs.delete(ids=[doc_id])
        self._chunks.delete(where={"doc_id": doc_id})
        self._bump_generation()
        return found

    def delete_orphan_chunks(self) -> int:
        """Remove chunks no document record names: those of interrupted ingests and of replaced versions.
        Returns how many documents had such chunks."""
        current = {r.doc_id: content_version(r.sha256) for r in self.documents()}
        seen = {
            (m["doc_id"], m.get("version"))
            for m in _get_all(self._chunks, where={"view": "sentence"}, include=["metadatas"])["metadatas"]
        }
        stale_docs = {doc_id for doc_id, version in seen if doc_id not in current or current[doc_id] != version}
        for doc_id in stale_docs:
            self._delete_other_versions(doc_id, current.get(doc_id))
        if stale_docs:
            self._bump_generation()
        return len(stale_docs)

    def _delete_other_versions(self, doc_id: str, keep: str | None) -> tuple[int, int]:
        """Delete the chunk records of doc_id not of version `keep`; returns (records kept, records deleted)."""
        # By id rather than by a metadata filter, so chunks written without a version are caught as well.
        ids = _get_all(self._chunks, where={"doc_id": doc_id}, include=[])["ids"]
        stale = [i for i in ids if keep is None or _version_of(i) != keep]
        for lo in range(0, len(stale), _BATCH):
            self._chunks.delete(ids=stale[lo : lo + _BATCH])
        return len(ids) - len(stale), len(stale)

    def settle_version(self, doc_id: str, sha256: str) -> bool:
        """Finish an ingest of this content that stopped after its commit point, by dropping other versions'
        chunks; returns whether the chunks of this version are in the index."""
        kept, deleted = self._delete_other_versions(doc_id, content_version(sha256))
        if deleted:
            self._bump_generation()
        return kept > 0

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
        got = self._docs.get(ids=ids, include=include) if ids else _get_all(self._docs, include=include)
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
        """Every chunk of the current version of every document (see replace_document)."""
        current = {r.doc_id: content_version(r.sha256) for r in self.documents()}
        got = _get_all(self._chunks, where={"view": "sentence"}, include=["metadatas", "documents"])
        chunks = [
            Chunk(
                chunk_id=record_id.rsplit("|", 1)[0],
                doc_id=m["doc_id"],
                source=m["source"],
                idx=int(m["idx"]),
                start_char=int(m["start_char"]),
                end_char=int(m["end_char"]),
                kind=m["kind"],
                text=text,
            )
            for record_id, m, text in zip(got["ids"], got["metadatas"], got["documents"])
            if m["doc_id"] in current and current[m["doc_id"]] == m.get("version")
        ]
        # In document order, documents by name: nothing downstream may depend on the hash in a document id.
        return sorted(chunks, key=lambda c: (c.source, c.doc_id, c.idx))

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored sentence-view vector of each chunk (by chunk id), read in batches; ids not found are left out."""
        out: dict[str, list[float]] = {}
        for lo in range(0, len(chunk_ids), _BATCH):
            got = self._chunks.get(ids=[f"{cid}|sentence" for cid in chunk_ids[lo : lo + _BATCH]], include=["embeddings"])
            for record_id, vector in zip(got["ids"], got["embeddings"]):
                out[record_id.rsplit("|", 1)[0]] = list(vector)
        return out

    def summaries(self, doc_id: str) -> tuple[dict[str, list[int]], dict[str, dict]] | None:
        """A document's stored digests and the paragraphs written for its current version (service/rag/summaries.py),
        or None when the document is unknown or was indexed before digests were stored."""
        got = self._docs.get(ids=[doc_id], include=["metadatas"])
        if not got["ids"]:
            return None
        meta = got["metadatas"][0]
        if "digests" not in meta:
            return None
        return json.loads(meta["digests"]), _written_items(meta, content_version(meta["sha256"]))

    def save_written_summary(self, doc_id: str, sha256: str, key: str, payload: dict) -> bool:
        """Store the paragraph written over one digest of this content version; False (nothing stored) when the
        document has since been replaced or deleted."""
        got = self._docs.get(ids=[doc_id], include=["metadatas"])
        if not got["ids"] or got["metadatas"][0]["sha256"] != sha256:
            return False
        meta = dict(got["metadatas"][0])
        version = content_version(sha256)
        items = _written_items(meta, version)
        items[key] = payload
        meta["written"] = json.dumps({"version": version, "items": items})
        self._docs.update(ids=[doc_id], metadatas=[meta])
        return True

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


def _get_all(collection, **query) -> dict:
    """collection.get(**query) for any number of records, read in pages: one unbounded get of 100,000 chunks fails
    in the embedded database ("too many SQL variables")."""
    page = _BATCH  # read here, not bound as a default, so a test can shrink it
    merged: dict[str, list] = {"ids": []}
    for key in query.get("include", []):
        merged[key] = []
    offset = 0
    while True:
        got = collection.get(**query, limit=page, offset=offset)
        merged["ids"] += got["ids"]
        for key in query.get("include", []):
            merged[key] += got[key] or []
        if len(got["ids"]) < page:
            return merged
        offset += page


def content_version(sha256: str) -> str:
    """The part of a document's content hash that tells its chunk versions apart."""
    return sha256[:16]


def _version_of(record_id: str) -> str | None:
    """The content version in a chunk record id (`doc:idx@version|view`); None for ids written without one."""
    chunk_id = record_id.rsplit("|", 1)[0]
    return chunk_id.rsplit("@", 1)[1] if "@" in chunk_id else None


def _chunk_metadata(chunk: Chunk, view: str, version: str) -> dict:
    return {
        "doc_id": chunk.doc_id,
        "version": version,
        "source": chunk.source,
        "idx": chunk.idx,
        "start_char": chunk.start_char,
        "end_char": chunk.end_char,
        "kind": chunk.kind,
        "view": view,
    }


def _written_items(meta: dict, version: str) -> dict[str, dict]:
    """The paragraphs written for this content version of a document (its metadata "written"); none for another."""
    written = json.loads(meta.get("written") or "{}")
    return written.get("items", {}) if written.get("version") == version else {}
