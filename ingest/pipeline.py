"""Ingest files into the index: load, segment, embed, replace; idempotent by content hash."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ingest.loaders import SUPPORTED_SUFFIXES, LoadError, document_id, load, read_bytes
from ingest.segment import segment
from service.errors import StorageFull, is_disk_full
from service.rag.store import Chunk, ChunkStore, DocumentRecord
from service.rag.views import VECTOR_VIEWS, view_text

log = logging.getLogger(__name__)

EmbedFn = Callable[[list[str]], list[list[float]]]
# The digests stored with a document (service/rag/summaries.py): (chunks, sentence vectors by chunk id) ->
# {scope: chunk indexes}.
DigestFn = Callable[[list[Chunk], dict[str, list[float]]], dict[str, list[int]]]


@dataclass
class FileResult:
    path: str
    status: str  # added | updated | unchanged | failed
    doc_id: str | None = None
    chunks: int = 0
    error: str | None = None


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    seconds: float = 0.0
    chunks_embedded: int = 0

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0

    def summary(self) -> str:
        rate = self.chunks_embedded / self.seconds if self.seconds else 0.0
        parts = [
            f"{self.count('added')} added",
            f"{self.count('updated')} updated",
            f"{self.count('unchanged')} unchanged",
            f"{self.count('failed')} failed",
        ]
        if self.pruned:
            parts.append(f"{len(self.pruned)} pruned")
        return (
            f"documents: {', '.join(parts)}; chunks embedded: {self.chunks_embedded}; "
            f"{self.seconds:.1f} s ({rate:.1f} chunks/s)"
        )


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[FileResult]]:
    """Files named directly, plus supported files found under named folders (hidden ones skipped)."""
    files: list[Path] = []
    missing: list[FileResult] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix.lower() in SUPPORTED_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.exists():
            files.append(path)
        else:
            missing.append(FileResult(str(path), "failed", error=f"{path}: file or folder not found"))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, missing


# Bumped whenever conversion or segmentation changes the chunks a file gives, or what is stored with them: files
# indexed before are then re-chunked by the next ingest instead of being skipped as unchanged. 4: stored digests.
CHUNKING_VERSION = 4


def fingerprint(data: bytes) -> str:
    """What tells a file's chunks are current: its content and the chunking that produced them."""
    return hashlib.sha256(f"chunking-{CHUNKING_VERSION}\n".encode() + data).hexdigest()


def build_chunks(doc_id: str, source: str, text: str) -> list[Chunk]:
    return [
        Chunk(
            chunk_id=f"{doc_id}:{i}",
            doc_id=doc_id,
            source=source,
            idx=i,
            start_char=seg.start,
            end_char=seg.end,
            kind=seg.kind,
            text=seg.text,
        )
        # Text converted from HTML has one block per line; other text may be hard-wrapped.
        for i, seg in enumerate(segment(text, line_blocks=source.lower().endswith((".html", ".htm"))))
    ]


class Ingestor:
    def __init__(self, store: ChunkStore, embed: EmbedFn, batch_size: int = 64, digests: DigestFn | None = None):
        self.store = store
        self.embed = embed
        self.batch_size = batch_size
        self.digests = digests

    def ingest(self, paths: Sequence[Path], prune: bool = False, progress: bool | None = None) -> IngestReport:
        """Ingest files and folders. A bad file is reported and skipped; the others still go in."""
        started = time.perf_counter()
        files, report_files = expand_paths(paths)
        report = IngestReport(files=report_files)
        known = {r.path: r for r in self.store.documents()}
        for path in files:
            report.files.append(self._ingest_file(path, known.get(str(path)), report, progress))
        if prune:
            report.pruned = self.prune()
        report.seconds = time.perf_counter() - started
        return report

    def prune(self) -> list[str]:
        """Delete documents whose files no longer exist, and chunks of unfinished ingests."""
        pruned = []
        for record in self.store.documents():
            if not Path(record.path).exists():
                self.store.delete_document(record.doc_id)
                pruned.append(record.path)
                log.info("pruned doc_id=%s path=%s", record.doc_id, record.path)
        self.store.delete_orphan_chunks()
        return pruned

    def _ingest_file(self, path: Path, existing: DocumentRecord | None, report: IngestReport, progress) -> FileResult:
        doc_id = document_id(path)
        try:
            data = read_bytes(path)
            sha256 = fingerprint(data)
            if existing and existing.sha256 == sha256 and self.store.settle_version(doc_id, sha256):
                return FileResult(str(path), "unchanged", doc_id, existing.chunks)
            doc = load(path, data)
            chunks = build_chunks(doc_id, doc.source, doc.text)
            if not chunks:
                raise LoadError(path, "no sentences found in the text")
        except LoadError as exc:
            log.warning("ingest failed path=%s reason=%s", path, exc.reason)
            return FileResult(str(path), "failed", doc_id, error=str(exc))
        vectors = self._embed_views(chunks, path.name, progress)
        digests = None
        if self.digests is not None:
            digests = self.digests(chunks, {c.chunk_id: v for c, v in zip(chunks, vectors["sentence"])})
        record = DocumentRecord(
            doc_id=doc_id, source=doc.source, path=str(path), sha256=sha256, title=doc.title,
            chunks=len(chunks), text=doc.text, digests=digests,
        )
        try:
            self.store.replace_document(record, chunks, vectors)
        except Exception as exc:
            if is_disk_full(exc):  # every later file would fail the same way: stop, saying what to do
                raise StorageFull(f"no space left on the index's disk; {path.name} and the files after it were "
                                  "not ingested (documents already indexed are intact): free space and run the "
                                  "ingest again") from exc
            raise
        report.chunks_embedded += len(chunks)
        status = "updated" if existing else "added"
        log.info("ingested doc_id=%s path=%s status=%s chunks=%d", doc_id, path, status, len(chunks))
        return FileResult(str(path), status, doc_id, len(chunks))

    def _embed_views(self, chunks: list[Chunk], name: str, progress) -> dict[str, list[list[float]]]:
        from tqdm import tqdm

        texts = {view: [view_text(view, chunks, i) for i in range(len(chunks))] for view in VECTOR_VIEWS}
        total = sum(len(t) for t in texts.values())
        vectors: dict[str, list[list[float]]] = {}
        # disable=None: a bar on a terminal, silence in logs and pipes.
        with tqdm(total=total, desc=f"embedding {name}", unit="text", disable=None if progress is None else not progress,
                  leave=False) as bar:
            for view, view_texts in texts.items():
                vectors[view] = []
                for lo in range(0, len(view_texts), self.batch_size):
                    batch = view_texts[lo : lo + self.batch_size]
                    vectors[view].extend(self.embed(batch))
                    bar.update(len(batch))
        return vectors
