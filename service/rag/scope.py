"""What part of the documents a broad question is about: one document, one section, or (when it does not say) the
documents the retrieved passages come from.

Two signals, both general:
  - a reference to exactly one document: "the X", where X holds words of its title or file name that no other
    document's title or file name has ("the briefing note", "under the travel policy");
  - a heading much closer to the question than any other (MiniLM): a document's title scopes to that document,
    a section heading to that section ("the rules for rail travel" -> "5.2 Rail travel");
and the words that name a part: "section 3" (a numbered heading), "the conclusion", "the introduction" (a heading
that says so, else the document's last full section or its opening).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Collection, Sequence

import numpy as np

from service.rag.digest import structural_roles
from service.rag.retrieve import Corpus
from service.rag.store import Chunk
from service.rag.text import content_words, stem

# A heading scopes the question when its similarity to it reaches FOCUS_MIN and beats every other heading's by
# FOCUS_MARGIN (chosen on the tune split's broad questions: the section asked about scored 0.61-0.75 with a lead of
# 0.17 or more; no heading of a question about a whole document reached 0.52).
FOCUS_MIN = 0.6
FOCUS_MARGIN = 0.1


@dataclass(frozen=True)
class Scope:
    doc_ids: tuple[str, ...]  # empty: the question does not say
    section: tuple[str, int, int] | None = None  # (doc_id, first chunk idx, end idx) of one section
    why: str = ""


def document_words(corpus: Corpus) -> dict[str, set[str]]:
    """Stems of each document's title and file name."""
    out = {}
    for doc_id, chunks in corpus.doc_chunks.items():
        name = re.sub(r"\.[A-Za-z0-9]+$", "", chunks[0].source) if chunks else ""
        text = f"{corpus.titles.get(doc_id, '')} {re.sub(r'[-_.]+', ' ', name)}"
        out[doc_id] = {stem(w) for w in content_words(text)}
    return out


# How a question refers to a document: "the briefing note", "this policy", "according to the report".
_REFERENCE = re.compile(r"\b(?:the|this|that)\s+((?:[\w-]+\s+){0,2}[\w-]+)", re.I)


def named_document(question: str, corpus: Corpus, found_in: Collection[str] | None = None) -> str | None:
    """The one document the question refers to as "the X": X's words (as far as they go) all words of that
    document's title or file name, one of them a word no other document's title or file name has. "The rules for
    rail travel" names no document, though one title says "rails": "rules" is in none.

    found_in: the documents the retrieved passages come from. A title's word can be the question's topic word
    instead ("the package" in a question about a maintainer's duties, where only one title says "packages"): the
    reference holds only when the retriever found something in that document too."""
    words = document_words(corpus)
    references = [[stem(w) for w in content_words(m.group(1))] for m in _REFERENCE.finditer(question)]
    holders: dict[str, int] = {}  # word -> how many documents' titles or file names have it
    for own in words.values():
        for word in own:
            holders[word] = holders.get(word, 0) + 1
    hits: set[str] = set()
    for doc_id, own in words.items():
        for reference in references:
            named = []
            for word in reference:
                if word not in own:
                    break
                named.append(word)
            if any(holders[word] == 1 for word in named):
                hits.add(doc_id)
    if len(hits) != 1:  # two documents named: the question is about both
        return None
    hit = next(iter(hits))
    return hit if found_in is None or hit in found_in else None


# "section 3", "chapter 2.1", "part 4": a numbered heading.
_NUMBERED = re.compile(r"\b(?:section|chapter|part)\s+(\d+(?:\.\d+)*)\b", re.I)
# "the conclusion", "its introduction": the part of a document that plays that role.
_ROLE = re.compile(r"\b(?:the|its|their|this|that)\s+(conclusions?|concluding section|introduction|intro)\b", re.I)


def resolve(question: str, question_vector: Sequence[float], corpus: Corpus,
            vectors_of: Callable[[list[str]], dict[str, list[float]]],
            found_in: Collection[str] | None = None) -> Scope:
    """found_in: the documents the retrieved passages come from (see named_document)."""
    named = named_document(question, corpus, found_in)
    doc_ids = [named] if named else list(corpus.doc_chunks)
    by_words = _section_by_words(question, doc_ids, corpus)
    if by_words is not None:
        return by_words
    headings: list[Chunk] = [c for d in doc_ids for c in corpus.doc_chunks[d] if c.kind == "heading"]
    found = vectors_of([c.chunk_id for c in headings]) if headings else {}
    scored = sorted(((float(np.asarray(found[c.chunk_id]) @ np.asarray(question_vector)), c) for c in headings
                     if c.chunk_id in found), key=lambda sc: (-sc[0], sc[1].position))
    if scored and scored[0][0] >= FOCUS_MIN and (len(scored) == 1 or scored[0][0] - scored[1][0] >= FOCUS_MARGIN):
        heading = scored[0][1]
        if heading.idx == 0:  # a document's title
            return Scope((heading.doc_id,), None, f"its title is closest to the question: {heading.text!r}")
        return _section_scope(corpus, heading)
    if named:
        return Scope((named,), None, "the question names it")
    return Scope(())


def section_end(chunks: Sequence[Chunk], heading_idx: int) -> int:
    """Where the section under chunks[heading_idx] ends: at the next heading after its first sentences ("5. Transport"
    runs on through "5.1 …" when it has no sentence of its own), else at the end of the document."""
    seen_sentence = False
    for c in chunks[heading_idx + 1:]:
        if c.kind == "heading" and seen_sentence:
            return c.idx
        seen_sentence = seen_sentence or c.kind == "sentence"
    return len(chunks)


def _section_scope(corpus: Corpus, heading: Chunk) -> Scope:
    """The section under a heading (see section_end)."""
    end = section_end(corpus.doc_chunks[heading.doc_id], heading.idx)
    return Scope((heading.doc_id,), (heading.doc_id, heading.idx, end), f"section {heading.text!r}")


def _section_by_words(question: str, doc_ids: Sequence[str], corpus: Corpus) -> Scope | None:
    """The section the question names by number ("section 3") or by role ("the conclusion"), when exactly one
    matches in the documents in question; None otherwise."""
    numbered = _NUMBERED.search(question)
    if numbered:
        number = numbered.group(1)
        pattern = re.compile(rf"^(?:(?:section|chapter|part)\s+)?{re.escape(number)}(?:\.|\s|$)", re.I)
        matches = [c for d in doc_ids for c in corpus.doc_chunks[d] if c.kind == "heading" and pattern.match(c.text)]
        return _section_scope(corpus, matches[0]) if len(matches) == 1 else None
    role = _ROLE.search(question)
    if not role:
        return None
    word = role.group(1).lower()
    stem_of_role = "conclu" if word.startswith("conclu") else "introduc"
    titled = [c for d in doc_ids for c in corpus.doc_chunks[d]
              if c.kind == "heading" and c.idx > 0 and stem_of_role in c.text.lower()]
    if len(titled) == 1:
        return _section_scope(corpus, titled[0])
    if titled or len(doc_ids) != 1:
        return None  # several candidates, or no document to take the part of
    chunks = corpus.doc_chunks[doc_ids[0]]
    if stem_of_role == "conclu":  # the last full section plays the part
        _, last = structural_roles(chunks)
        if not last:
            return None
        first = min(last)
        heading = next((c for c in reversed(chunks[:first]) if c.kind == "heading"), None)
        return _section_scope(corpus, heading) if heading is not None else None
    # the introduction: what comes before the first section heading after the title
    end = next((c.idx for c in chunks[1:] if c.kind == "heading" and any(
        x.kind == "sentence" for x in chunks[1:c.idx])), None)
    return Scope((doc_ids[0],), (doc_ids[0], 0, end), "the introduction") if end else None
