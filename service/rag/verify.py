"""Check what the model wrote against the passages it was given, and repair its citations.

Citations are never taken from the model's text: each answer sentence is matched to the
retrieved passages that hold its facts. A sentence is kept when
  - every number and name in it appears in the passages it cites (or, if the model named the
    wrong source, in other passages it was given: the citation is repaired), and
  - it is semantically close to those passages (MiniLM cosine >= a calibrated threshold).
Anything else is reported as unsupported and dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import AbstractSet, Callable, Sequence

import numpy as np

from service.rag.text import STOPWORDS, prose, stem, terms_match, words

_MARKER = re.compile(r"\s*(?:[,;]|and)?\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“(]?[A-Z0-9])")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_NAME = re.compile(r"\b[A-Z][\w’'-]*[a-z\d][\w’'-]*|\b[A-Z]{2,}\b")
_ABSTAIN = re.compile(r"(?:documents?|sources?|text|passages?)\s+(?:don[’']t|do not|does not|doesn[’']t)\s+(?:say|mention|contain|state|specify|provide)", re.I)


@dataclass
class CheckedSentence:
    text: str  # without citation markers
    cited: list[int]  # 0-based passage indices the model named
    support: list[int] = field(default_factory=list)  # passages that back it, after repair
    similarity: float = 0.0
    repaired: bool = False
    reason: str = ""  # why it is unsupported ("" when supported)

    @property
    def supported(self) -> bool:
        return not self.reason


def is_abstention(text: str) -> bool:
    return bool(_ABSTAIN.search(text))


def without_abstentions(answer: str) -> str:
    """The answer without its "the documents don't say" sentences: a model often states the answer and then adds
    the refusal it was told to give, and the statement is what is checked. "" when nothing else is left."""
    return " ".join(s for s in _SENTENCE_END.split(answer.strip()) if not is_abstention(s)).strip()


def split_sentences(answer: str, n_passages: int) -> list[CheckedSentence]:
    """Answer sentences with the passage numbers the model cited (out-of-range numbers ignored)."""
    out = []
    for raw in _SENTENCE_END.split(answer.strip()):
        cited = [int(n) - 1 for m in _MARKER.finditer(raw) for n in re.split(r"[,;]", m.group(1))]
        text = _MARKER.sub("", raw).strip()
        text = re.sub(r"\s+([.!?,;:])", r"\1", text)
        text = re.sub(r"[,;:]+([.!?])$", r"\1", text)  # "... Armenia, [1]." leaves "Armenia,."
        if any(ch.isalnum() for ch in text):
            out.append(CheckedSentence(text, [i for i in dict.fromkeys(cited) if 0 <= i < n_passages]))
    return out


def facts(sentence: str, common_words: AbstractSet[str] = frozenset(), question: str = "") -> list[str]:
    """Numbers and names the sentence states (beyond those the question already gives).

    The first word is capitalized anyway: it counts as a name only if it is not a common word
    (one the corpus also writes in lower case, or a stopword), so "Azerbaijan is..." is checked
    and "Trade fell..." is not.
    """
    asked = {stem(w) for w in words(question)} | {m.group(0).replace(",", "") for m in _NUMBER.finditer(question)}
    found = [m.group(0).replace(",", "").rstrip(".") for m in _NUMBER.finditer(sentence)]
    for m in _NAME.finditer(sentence):
        if sentence[: m.start()].strip(" \"“(") == "":
            first = m.group(0).lower()
            if first in STOPWORDS or first in common_words:
                continue
        found.append(m.group(0))
    return [f for f in dict.fromkeys(found) if f not in asked and not all(stem(w) in asked for w in words(f))]


def holds(passage: str, fact: str) -> bool:
    if fact[0].isdigit():
        return fact in {m.group(0).replace(",", "").rstrip(".") for m in _NUMBER.finditer(passage)}
    fact_stems = [stem(w) for w in words(fact)]
    passage_stems = {stem(w) for w in words(passage)}
    return all(any(terms_match(f, p) for p in passage_stems) for f in fact_stems)


def _backing(sentence_facts: list[str], passages: Sequence[str], indices: Sequence[int]) -> bool:
    return all(any(holds(passages[i], fact) for i in indices) for fact in sentence_facts)


def _adds_information(question: str, sentence: str, sources: list[str]) -> bool:
    """A useful answer sentence carries at least one word of its sources that the question lacks;
    "This is evident from the sources." or a restatement of the question does not."""
    asked = {stem(w) for w in words(question)}
    source_terms = {stem(w) for text in sources for w in words(text)}
    new = {stem(w) for w in words(sentence) if w not in STOPWORDS} - asked
    return any(any(terms_match(t, src) for src in source_terms) for t in new)


def _sentences_of(passage) -> list[str]:
    """The sentences a passage is made of (its chunks), or its whole text when it is a single piece."""
    chunks = getattr(passage, "chunks", None)
    return [prose(c.text) for c in chunks] if chunks else [passage.text]


def check(
    question: str,
    answer: str,
    passages: Sequence,  # anything with .text: a sentence, or a passage of several
    embed: Callable[[list[str]], list[list[float]]],
    min_similarity: float,
    common_words: AbstractSet[str] = frozenset(),
) -> list[CheckedSentence]:
    texts = [p.text for p in passages]
    sentences = split_sentences(answer, len(passages))
    if not sentences:
        return []
    # A short answer ("€1.3 billion") means little alone: compare it, with the question, to its sources. A passage
    # is as close as its closest sentence: one vector for a whole window of sentences dilutes the one that answers.
    parts = [_sentences_of(p) for p in passages]
    owner = [i for i, ps in enumerate(parts) for _ in ps]
    vectors = np.asarray(embed([f"{question} {s.text}" for s in sentences] + [t for ps in parts for t in ps]),
                         dtype=np.float32)
    by_sentence = vectors[: len(sentences)] @ vectors[len(sentences) :].T
    sims = np.full((len(sentences), len(passages)), -1.0, dtype=np.float32)
    for j, i in enumerate(owner):
        sims[:, i] = np.maximum(sims[:, i], by_sentence[:, j])
    for s, row in zip(sentences, sims):
        stated = facts(s.text, common_words, question)
        support = s.cited if s.cited and _backing(stated, texts, s.cited) else None
        if support is None:
            # The model often states the right fact and names the wrong source: find the right one(s),
            # preferring single passages, then pairs, most similar first.
            order = sorted(range(len(texts)), key=lambda i: -row[i])
            for size in (1, 2):
                support = next((list(c) for c in combinations(order, size) if _backing(stated, texts, c)), None)
                if support is not None:
                    break
            s.repaired = support is not None and support != s.cited
        if support is None:
            missing = [f for f in stated if not any(holds(t, f) for t in texts)]
            s.reason = f"not in the sources: {', '.join(missing)}" if missing else "facts spread over too many sources"
            continue
        s.support = support
        s.similarity = float(max(row[i] for i in support))
        if not _adds_information(question, s.text, [texts[i] for i in support]):
            s.reason = "says nothing the question does not already say"
        elif s.similarity < min_similarity:
            s.reason = f"too far from its sources (similarity {s.similarity:.2f})"
    return sentences
