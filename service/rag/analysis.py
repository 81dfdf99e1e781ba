"""Question analysis: what a question asks for, before any passage is read.

The terms to look for (weighted by turn), the names the answer must be about, and the kind of value asked for
(a date, a length, a count, a person…). The kind is a hint that passages are scored on, never a gate: a question
can read as a "when" question and still be answered by a duration or a condition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from service.rag import patterns
from service.rag.text import STOPWORDS, content_words, stem, words


@dataclass(frozen=True)
class Term:
    stem: str
    word: str  # a surface form, for soft matching
    weight: float  # 1 for the current question, lower for earlier turns
    required: bool = False  # a name, acronym or number: the answer must be about it
    acronym: bool = False


@dataclass(frozen=True)
class Question:
    text: str
    history: tuple[str, ...]
    kind: str | None  # the kind of value asked for, if the wording tells
    terms: dict[str, Term] = field(default_factory=dict)  # by stem
    counted: str | None = None  # "how many X": the stem of X
    elliptical: bool = False  # leans on the previous question ("And Iran?")

    @property
    def names(self) -> list[Term]:
        return [t for t in self.terms.values() if t.required]


def expected_kind(question: str) -> str | None:
    for pattern, kind in patterns.QUESTION_KIND:
        if pattern.search(question):
            return kind
    return None


def is_elliptical(question: str) -> bool:
    """A follow-up that leans on the previous question: "And Iran?", "What about the expansion?"."""
    return bool(patterns.ELLIPSIS.match(question)) or not patterns.WH_WORD.search(question)


def counted_noun(question: str) -> str | None:
    """The stem of the counted noun in "how many [adjectives] X [verb...]": the first plural word, else the last
    word before a function word (X, not the adjectives or the verb)."""
    m = re.search(r"\bhow many\s+(.*)", question, re.I)
    if not m:
        return None
    noun = None
    for word in words(m.group(1)):
        if word in STOPWORDS:
            break
        if word.endswith("s") and not word.endswith("ss"):
            return stem(word)
        noun = word
    return stem(noun) if noun else None


def question_terms(question: str, history: Sequence[str], history_weight: float = 0.5) -> dict[str, Term]:
    """Content terms of the question (weight 1) and of earlier turns (lower weight), by stem."""
    names = {w for m in patterns.QUESTION_NAME.finditer(question.strip()) for w in words(m.group(0))}
    acronyms = {m.group(0).lower() for m in patterns.ACRONYM.finditer(question)}
    terms: dict[str, Term] = {}
    for text, weight in [(question, 1.0)] + [(turn, history_weight) for turn in history]:
        current = weight == 1.0  # an elliptical follow-up's previous question counts as current
        for word in content_words(text):
            terms.setdefault(
                stem(word), Term(stem(word), word, weight, current and word in names, current and word in acronyms)
            )
    return terms


def refers_back(question: str) -> bool:
    """A follow-up whose subject is a pronoun for an earlier turn's: "How long is it?"."""
    return bool(patterns.REFERS_BACK.search(question))


def analyze(question: str, history: Sequence[str] = ()) -> Question:
    elliptical = bool(history) and is_elliptical(question)
    kind = expected_kind(question)
    if elliptical and kind is None:
        kind = expected_kind(history[-1])  # "And Iran?" asks what the previous question asked
    # A follow-up that is elliptical, or names its subject only by a pronoun, keeps the earlier turns' subject at
    # full weight: their words are what the answer must be about.
    leans_back = elliptical or (bool(history) and refers_back(question))
    terms = question_terms(question, history, history_weight=1.0 if leans_back else 0.5)
    counted = counted_noun(question) if kind == "number" else None
    return Question(question, tuple(history), kind, terms, counted, elliptical)
