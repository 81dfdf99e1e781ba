"""Tokens, stems and term weights shared by BM25, coverage scoring and answer checks."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Iterable

import Stemmer

_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)

STOPWORDS = frozenset(
    """a an the and or but nor of to in on at by for with from into onto about as than then so such
    is are was were be been being am do does did done doing have has had having will would shall should
    can could may might must it its it's this that these those there here their them they he she his her
    him we our us you your i me my mine what which who whom whose when where why how whether if not no
    yes any all some each every both either neither other another more most less least much many few
    very also just only even still yet ever again too up down out over under between through during
    before after above below while because since until upon within without against among per via
    s t according article report document documents text author say says said tell mention mentioned
    state stated describe described name named give given list one ones thing things kind kinds""".split()
)

_stemmer = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word.lower())


def words(text: str) -> list[str]:
    """Lower-cased word and number tokens, possessives dropped ("Tehran’s" -> "tehran")."""
    out = []
    for m in _WORD.finditer(text):
        w = m.group(0).lower()
        w = re.sub(r"['’]s$", "", w)
        out.append(w)
    return out


def content_words(text: str) -> list[str]:
    """The words that carry meaning (stopwords removed), in order, without repeats."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOPWORDS))


def content_terms(text: str) -> list[str]:
    """Stems of the words that carry meaning (stopwords removed), in order, without repeats."""
    return list(dict.fromkeys(stem(w) for w in words(text) if w not in STOPWORDS))


def terms_match(a: str, b: str) -> bool:
    """Same stem, or one a prefix of the other (Iran/Iranian, rail/railway, Russia/Russian)."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 4 and not short.isdigit() and long_.startswith(short)


class TermWeights:
    """Inverse document frequency over the indexed chunks; unseen terms weigh the most."""

    def __init__(self, texts: Iterable[str]):
        df: dict[str, int] = {}
        n = 0
        for text in texts:
            n += 1
            for term in set(content_terms(text)):
                df[term] = df.get(term, 0) + 1
        self._df = df
        self._n = n

    def idf(self, term: str) -> float:
        df = self._df.get(term, 0)
        return math.log(1.0 + (self._n - df + 0.5) / (df + 0.5))

    def known(self, term: str) -> bool:
        return term in self._df


class TermSet:
    """A set of stems answering "does it hold a match of this term?" (see terms_match) in O(len(term))."""

    def __init__(self, terms: Iterable[str]):
        self.terms = set(terms)
        self._prefixes = {t[:k] for t in self.terms if not t.isdigit() for k in range(4, len(t))}

    def matches(self, term: str) -> bool:
        if term in self.terms:
            return True
        if len(term) < 4 or term.isdigit():
            return False
        # term is a prefix of one of ours, or one of ours (4+ letters) is a prefix of term
        return term in self._prefixes or any(term[:k] in self.terms for k in range(4, len(term)))

    def __or__(self, other: "TermSet") -> "TermSet":
        return TermSet(self.terms | other.terms)


def prose(text: str) -> str:
    """A passage as it reads in an answer or a prompt: line breaks and indentation of the source become single
    spaces (the citation's quote keeps the source's exact text)."""
    return " ".join(text.split())
