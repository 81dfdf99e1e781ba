"""Split a document's text into sentences and headings with exact character offsets.

Offsets are computed once, on the original text, and never recomputed from cleaned text:
``text[seg.start:seg.end] == seg.text`` always holds, which is what makes citations checkable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Longest span stored as one chunk; longer runs without sentence punctuation (tables, lists
# extracted from PDFs) are cut at whitespace so that every chunk fits the embedding model.
MAX_CHUNK_CHARS = 1000

_TERMINAL = ".!?…"
_CLOSERS = "\"'”’)]»"
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "no", "vs", "etc", "e.g", "i.e", "inc", "ltd", "co",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "fig",
    "u.s", "u.k", "u.n", "gen", "col", "lt", "sen", "rep", "gov", "approx", "art", "para",
}
# Candidate sentence ends: terminal punctuation, optional closing quotes, whitespace, then
# something that can start a sentence.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]»]*(?=\s+[\"'“‘(\[«]?[A-Z0-9À-ÖØ-Þ])")
_MD_HEADING = re.compile(r"\s{0,3}#{1,6}\s+")  # used with .match: anchored at the position
_LIST_MARKER = re.compile(r"\s*(?:[-*•+]|\d{1,3}[.)])\s+")
# A sentence ending inside a line ("... that branch. The treaty ..."): that line is prose, not a heading.
# Numbering ("3.1. Duties") and initials ("I. e.") are not sentence ends.
_SENTENCE_INSIDE = re.compile(r"[a-z]{2,}[.!?]\s+[A-Z]")
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    text: str
    kind: str  # "sentence" or "heading"


def _is_heading_line(line: str) -> bool:
    """A short line without sentence punctuation reads as a title, heading or byline."""
    stripped = line.strip()
    if not stripped:
        return False
    if _MD_HEADING.match(line):
        return True
    body = _LIST_MARKER.sub("", stripped)
    words = body.split()
    return len(words) <= 12 and len(body) <= 100 and body[-1] not in _TERMINAL + ",;:" + _CLOSERS


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) to exclude surrounding whitespace and Markdown line markers."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    marker = _MD_HEADING.match(text, start, end) or _LIST_MARKER.match(text, start, end)
    if marker and marker.end() < end:
        start = marker.end()
    return start, end


def _lines(text: str, start: int, end: int):
    """Yield (line_start, line_end) for each line of text[start:end]."""
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl == -1 else nl
        yield pos, line_end
        pos = line_end + 1


def _blocks(text: str):
    """Yield (start, end, is_heading) blocks: headings alone, paragraphs with soft-wrapped lines joined, each list
    item and table row alone.

    A short line without sentence punctuation is a heading only where a heading can stand: where no paragraph is
    open, or right below another heading (a title's byline lines). Inside a hard-wrapped paragraph, or as the first
    of its lines, it is just a line of it; list items and table rows are content, never headings."""
    para_start = None
    para_end = None
    after_heading = False
    for line_start, line_end in _lines(text, 0, len(text)):
        line = text[line_start:line_end]
        if not line.strip():
            if para_start is not None:
                yield para_start, para_end, False
                para_start = None
            after_heading = False
            continue
        # A next line starting in lower case continues this one (a hard-wrapped sentence).
        continued = _next_non_space(text, line_end).islower()
        item = bool(_LIST_MARKER.match(line))
        row = line.lstrip().startswith("|")
        heading = bool(_MD_HEADING.match(line)) or (
            _is_heading_line(line) and not continued and not row and not _SENTENCE_INSIDE.search(line)
            and (after_heading or (para_start is None and not item and not _wraps_on(text, line_end, line)))
        )
        after_heading = heading
        if heading or item or row:
            if para_start is not None:
                yield para_start, para_end, False
                para_start = None
            if heading or row:
                yield line_start, line_end, heading
                continue
        if para_start is None:
            para_start = line_start
        para_end = line_end
        if line.rstrip()[-1:] in _TERMINAL + _CLOSERS + ":" and not continued:
            yield para_start, para_end, False
            para_start = None
    if para_start is not None:
        yield para_start, para_end, False


_NON_SPACE = re.compile(r"\S")


def _wraps_on(text: str, line_end: int, line: str) -> bool:
    """Whether the line is the first line of a hard-wrapped paragraph: the next line goes on with text of about
    the same length (a heading is followed by a blank line, an underline, or a much longer paragraph)."""
    nl = text.find("\n", line_end + 1)
    end = len(text) if nl == -1 else nl
    following = text[line_end + 1: end]
    if not following.strip() or not any(ch.isalnum() for ch in following) or _LIST_MARKER.match(following):
        return False
    if _is_heading_line(following) and not text[end + 1: text.find("\n", end + 1) % (len(text) + 1)].strip():
        return False  # a title over a one-line byline, then a blank line
    return len(line.strip()) >= 0.7 * len(following.strip())


def _next_non_space(text: str, pos: int) -> str:
    m = _NON_SPACE.search(text, pos)
    return m.group(0) if m else ""


def _is_abbreviation(text: str, dot_pos: int) -> bool:
    m = re.search(r"([A-Za-z.]+)$", text[max(0, dot_pos - 12):dot_pos])
    if not m:
        return False
    word = m.group(1).lower().strip(".")
    # Single initials ("J. Smith") and known abbreviations do not end a sentence.
    return len(word) == 1 or word in _ABBREVIATIONS


def _sentences(text: str, start: int, end: int):
    pos = start
    for m in _BOUNDARY.finditer(text, start, end):
        if m.group(0).startswith(".") and len(m.group(0).rstrip(_CLOSERS)) == 1 and _is_abbreviation(text, m.start()):
            continue
        yield pos, m.end()
        pos = m.end()
    yield pos, end


def _cut_long(text: str, start: int, end: int):
    while end - start > MAX_CHUNK_CHARS:
        cut = text.rfind(" ", start + MAX_CHUNK_CHARS // 2, start + MAX_CHUNK_CHARS)
        if cut == -1:
            cut = start + MAX_CHUNK_CHARS
        yield start, cut
        start = cut
    yield start, end


def _line_blocks(text: str):
    """Yield (start, end, is_heading) for text whose every line is a whole block (converted HTML): no paragraph
    spans lines, and a short line without sentence punctuation is a heading unless it is a list item or table row."""
    for line_start, line_end in _lines(text, 0, len(text)):
        line = text[line_start:line_end]
        if line.strip():
            # The converter writes list items as "- …"; a numbered line ("3. Duties") is a numbered heading here.
            content = line.lstrip().startswith(("- ", "|"))
            yield line_start, line_end, _is_heading_line(line) and not content


def segment(text: str, line_blocks: bool = False) -> list[Segment]:
    """Return the document's headings and sentences in order, with exact offsets.

    line_blocks: every line of the text is one block (text converted from HTML), rather than a line of a
    possibly hard-wrapped paragraph."""
    segments: list[Segment] = []
    for block_start, block_end, is_heading in (_line_blocks(text) if line_blocks else _blocks(text)):
        kind = "heading" if is_heading else "sentence"
        pieces = [(block_start, block_end)] if is_heading else _sentences(text, block_start, block_end)
        for piece_start, piece_end in pieces:
            for s, e in _cut_long(text, piece_start, piece_end):
                s, e = _trim(text, s, e)
                if e > s and any(ch.isalnum() for ch in text[s:e]):
                    segments.append(Segment(s, e, text[s:e], kind))
    return segments
