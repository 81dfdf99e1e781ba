"""Summaries made before they are asked for.

Ingest stores, with each document, the digest of the whole document and of each of its sections: the sentences a
"Summarize X" question gets (service/rag/digest.py), as chunk indexes (compute_digests). With a model available,
SummaryWriter then puts each digest to the model, once, in the background, and stores the verified paragraph beside
it. "Summarize X" is answered from what is stored: no digest to choose, and in llm mode no generation to wait for.

What is stored belongs to one content version of the document: a re-ingest replaces the digests, and a written
paragraph stamped with another version is ignored and written again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from service.rag.digest import MIN_WORDS, SECTION_SENTENCES, digest
from service.rag.scope import section_end
from service.rag.store import Chunk

log = logging.getLogger(__name__)

# The question a stored digest answers, for a document's title or a section's heading.
# Asked "Summarize <heading>.", the bundled model refused 14 of the 52 digests of the evaluation's documents ("5.2
# Rail travel" read as no topic of its sources); asked in these forms, none of the 5 documents and 2 of 15 sections
# (13 of them refused before).
DOCUMENT_QUESTION = 'Summarize the document "{}".'
SECTION_QUESTION = 'What are the main points of the section "{}"?'
# Key of the whole document's digest; a section's is its heading's chunk index, as text.
DOCUMENT = "document"


def sections(chunks: Sequence[Chunk]) -> list[tuple[int, int]]:
    """(heading index, end index) of each section of a document (chunks in order) that has SECTION_SENTENCES or more
    sentences a digest may quote; the title (index 0) is the document's, not a section's. Of headings in a row that
    head the same text ("5. Transport" over "5.1 Air travel", a date over a byline), the last one alone: the same
    digest twice would be written twice."""
    by_end: dict[int, int] = {}
    for heading in (c for c in chunks[1:] if c.kind == "heading"):
        end = section_end(chunks, heading.idx)
        quotable = sum(1 for c in chunks[heading.idx + 1:end]
                       if c.kind == "sentence" and len(c.text.split()) >= MIN_WORDS)
        if quotable >= SECTION_SENTENCES:
            by_end[end] = heading.idx
    return sorted((h, end) for end, h in by_end.items())


def section_key(digests: Mapping[str, object], chunks: Sequence[Chunk], section: tuple[str, int, int]) -> str | None:
    """The key of the stored digest of a section (doc_id, heading index, end): its heading's, or that of the heading
    under it that heads the same text (see sections)."""
    _, heading, end = section
    for h in range(heading, end):
        if str(h) in digests and section_end(chunks, h) == end:
            return str(h)
    return None


def scope_name(title: str, chunks: Sequence[Chunk], key: str) -> str:
    """What a stored digest summarises: the document's title (its file name when it has none), or the heading."""
    if key == DOCUMENT:
        return title or chunks[0].source
    return chunks[int(key)].text.rstrip("¶ ")  # a permalink sign some HTML generators put after each heading


def compute_digests(chunks: Sequence[Chunk], vectors: Mapping[str, Sequence[float]]) -> dict[str, list[int]]:
    """The digest of one document (chunks in order, vectors by chunk id: the sentence view) and of each section, as
    {DOCUMENT or heading index: chunk indexes}.

    No question is asked of them: a request for a summary names what to summarise and no topic, so the sentences are
    chosen for what the document (or section) is mostly about and for its structure alone. (With "Summarize <title>."
    as the question, a title's words pulled the digest towards them: "… Rails, gauges and risks" towards gauges.)"""
    if not chunks:
        return {}
    doc_id = chunks[0].doc_id
    no_question = [0.0] * len(next(iter(vectors.values()), []))
    scopes: list[tuple[str, tuple[str, int, int] | None]] = [(DOCUMENT, None)]
    scopes += [(str(h), (doc_id, h, end)) for h, end in sections(chunks)]

    def vectors_of(ids: list[str]) -> dict[str, Sequence[float]]:
        return {i: vectors[i] for i in ids if i in vectors}

    out = {}
    for key, section in scopes:
        picked = digest("summary", "", no_question, [doc_id], {doc_id: chunks}, vectors_of, lambda texts: [],
                        section=section)
        if picked:
            out[key] = [c.idx for c in picked]
    return out


@dataclass(frozen=True)
class StoredSummary:
    """What is stored for one scope: its digest, and the model's verified paragraph once written."""

    name: str
    chunks: list[Chunk]
    # The model's paragraph: {"answer", "citations", "unsupported"}, or {"answer": None, "reason"} when no sentence of
    # it could be verified; None until written.
    written: dict | None


@dataclass(frozen=True)
class Job:
    doc_id: str
    sha256: str
    key: str
    question: str


class SummaryWriter:
    """Writes the model's paragraph over each stored digest that has none for the document's current version.

    One at a time, in a background thread (start(), wake() after an ingest), or in the foreground (write_pending()).
    Resumable: what is written is stored at once, so a restart goes on with what is left. A paragraph that fails
    verification is stored as such, so it is not asked for again; a model that cannot be reached ends the pass, and
    the next wake() tries again. It takes the model's slot like a question does: a question asked while a summary
    is being written waits for it to finish (one summary took about 9 s on the 2-core machine).
    """

    def __init__(self, store, corpus: Callable[[], object], answer_digest: Callable[..., object]):
        self.store = store
        self.corpus = corpus
        self.answer_digest = answer_digest
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def pending(self) -> list[Job]:
        corpus = self.corpus()
        jobs = []
        for record in self.store.documents():
            stored = self.store.summaries(record.doc_id)
            chunks = corpus.doc_chunks.get(record.doc_id)
            if stored is None or not chunks:
                continue
            digests, written = stored
            for key in digests:
                if key not in written:
                    name = scope_name(record.title, chunks, key)
                    question = DOCUMENT_QUESTION if key == DOCUMENT else SECTION_QUESTION
                    jobs.append(Job(record.doc_id, record.sha256, key, question.format(name)))
        return jobs

    def write(self, job: Job) -> bool:
        """Write one; False when the model could not be reached (nothing is stored then)."""
        corpus = self.corpus()
        stored = self.store.summaries(job.doc_id)
        chunks = corpus.doc_chunks.get(job.doc_id, [])
        if stored is None or job.key not in stored[0]:
            return True  # re-ingested or deleted meanwhile
        digest_chunks = [chunks[i] for i in stored[0][job.key] if i < len(chunks)]
        generated = self.answer_digest(job.question, [], digest_chunks, corpus)
        if generated.answer is None and not generated.model_ran:
            log.warning("summary not written doc_id=%s scope=%s: %s", job.doc_id, job.key, generated.fallback_reason)
            return False
        payload = ({k: generated.answer[k] for k in ("answer", "citations", "unsupported")}
                   if generated.answer is not None else {"answer": None, "reason": generated.fallback_reason})
        self.store.save_written_summary(job.doc_id, job.sha256, job.key, payload)
        log.info("summary written doc_id=%s scope=%s verified=%s ms=%.0f", job.doc_id, job.key,
                 generated.answer is not None, generated.generate_ms)
        return True

    def write_pending(self, jobs: Sequence[Job] | None = None,
                      progress: Callable[[int, int], None] | None = None) -> int:
        """Write every pending summary (jobs: pending() when taken already); returns how many were written.
        progress(done, total) after each."""
        jobs = self.pending() if jobs is None else jobs
        written = 0
        for n, job in enumerate(jobs, start=1):
            if not self.write(job):
                break
            written += 1
            if progress is not None:
                progress(n, len(jobs))
        return written

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="summary-writer", daemon=True)
            self._thread.start()
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        from service.errors import Busy

        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                self.write_pending()
            except Busy:  # the model stayed taken by questions for its whole queue wait: try again shortly
                time.sleep(5)
                self._wake.set()
            except Exception:  # the writer must outlive a failing store or model; the next wake tries again
                log.exception("summary writer pass failed")
