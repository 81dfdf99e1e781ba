"""Several texts ("views") of each chunk are searched and their rankings fused.

A sentence alone is precise; with its neighbours it keeps the referents of "it" and "this";
with the document title and section heading it keeps the topic. Measured on the eval set,
fusing the views beats any one of them (see docs/retrieval.md).
"""

from __future__ import annotations

from typing import Sequence

from service.rag.store import Chunk

# A sentence ending in a colon introduces what follows ("The approval chain depends on the type of trip:"); the
# items after it (chunks stored without their list markers) are read with it, up to this many.
LEAD_IN_REACH = 8

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


def is_table_row(chunk: Chunk) -> bool:
    return chunk.text.startswith("|")


def table_headers(chunks: Sequence[Chunk]) -> list[Chunk | None]:
    """For one document's chunks in order, the first row of the table each row belongs to (None elsewhere, and
    for that first row itself): the row that names the columns ("| Location | Hotel cap | Meal allowance |")."""
    out: list[Chunk | None] = []
    header = None
    for i, chunk in enumerate(chunks):
        if not is_table_row(chunk):
            header = None
        elif header is None or (i and not is_table_row(chunks[i - 1])):
            header = chunk
        out.append(header if header is not None and header is not chunk else None)
    return out


def headings(chunks: Sequence[Chunk]) -> list[str]:
    """For one document's chunks in order, the nearest heading above each chunk ('' if none); for a table row,
    followed by its table's header row, which says what each cell is; for the items of a list, followed by the
    sentence that introduces it ("The approval chain depends on the type of trip:"), which says what they are."""
    current = ""
    lead_in, lead_in_at = None, 0  # the last sentence ending in a colon in this section, and where it stands
    out = []
    for i, (chunk, header) in enumerate(zip(chunks, table_headers(chunks))):
        if header is not None:
            out.append(f"{current} {header.text}".strip())
        elif lead_in is not None and i - lead_in_at <= LEAD_IN_REACH:
            out.append(f"{current} {lead_in.text}".strip())
        else:
            out.append(current)
        if chunk.kind == "heading":
            current, lead_in = chunk.text, None
        elif chunk.text.rstrip().endswith(":"):
            lead_in, lead_in_at = chunk, i
    return out
