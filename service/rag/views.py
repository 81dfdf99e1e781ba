"""Several texts ("views") of each chunk are searched and their rankings fused.

A sentence alone is precise; with its neighbours it keeps the referents of "it" and "this";
with the document title and section heading it keeps the topic. Measured on the eval set,
fusing the views beats any one of them (see docs/retrieval.md).
"""

from __future__ import annotations

from typing import Sequence

from service.rag.store import Chunk

# Views embedded at ingest time and searched by vector.
VECTOR_VIEWS = ("sentence", "window")
# Views searched by BM25 (cheap: built in memory from the chunk table).
LEXICAL_VIEWS = ("sentence", "window", "context")


def view_text(view: str, chunks: Sequence[Chunk], i: int, title: str = "", heading: str = "") -> str:
    """The text of chunks[i] for a view; chunks is one document's chunks in order."""
    chunk = chunks[i]
    if view == "sentence":
        return chunk.text
    if view == "window":
        parts = [chunks[j].text for j in (i - 1, i, i + 1) if 0 <= j < len(chunks)]
        return " ".join(parts)
    if view == "context":
        return " ".join(p for p in (title, heading, chunk.text) if p and p != chunk.text)
    raise ValueError(f"unknown view {view!r}")


def headings(chunks: Sequence[Chunk]) -> list[str]:
    """For one document's chunks in order, the nearest heading above each chunk ('' if none)."""
    current = ""
    out = []
    for chunk in chunks:
        out.append(current)
        if chunk.kind == "heading":
            current = chunk.text
    return out
