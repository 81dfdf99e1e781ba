"""What kind of value a question asks for, and whether a passage holds one.

A sentence that shares the question's words but holds no date cannot answer "when"; this
check re-ranks candidates and is one of the two abstention signals (see docs/abstention.md).
"""

from __future__ import annotations

import re

from service.rag.text import STOPWORDS, stem, words

_MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_NUMBER_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|twenty|thirty|forty|fifty|hundred|thousand|dozen|several)"
_NUMBER = rf"(?:\d[\d,.]*|{_NUMBER_WORDS})"

_PATTERNS = {
    "date": re.compile(rf"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b{_MONTHS}\b", re.I),
    "length": re.compile(
        rf"{_NUMBER}[\s-]*(?:km|kilomet(?:er|re)s?|miles?|met(?:er|re)s?|mm|millimet(?:er|re)s?|cm|feet|foot|"
        rf"years?|months?|weeks?|days?|hours?|decades?)\b",
        re.I,
    ),
    "money": re.compile(
        rf"[$€£¥₽]\s?\d|\b{_NUMBER}\s*(?:billion|million|trillion|thousand|bn|dollars?|euros?|rubles?|roubles?|"
        rf"rials?|pounds?|usd|eur)\b",
        re.I,
    ),
    "quantity": re.compile(
        rf"\b{_NUMBER}\s*(?:%|percent|per cent|billion|million|trillion|thousand|bn|cubic|tons?|tonnes|barrels?|"
        rf"km|kilomet\w*|met(?:er|re)s?|mm|mw|gw|kwh)|[$€£¥₽]\s?\d",
        re.I,
    ),
    "percent": re.compile(r"\d[\d.,]*\s*(?:%|percent|per cent)", re.I),
    "number": re.compile(rf"\b{_NUMBER}\b", re.I),
}

# Order matters: the first matching rule names the type.
_QUESTION_RULES = [
    (re.compile(r"\b(?:what|which)\s+(?:percent(?:age)?|share|proportion|rate)\b|\bby how much\b|\bhow much did .* (?:fall|drop|declin|grow|ris|increas)", re.I), "percent"),
    (re.compile(r"\bhow (?:long|far)\b|\b(?:length|distance|duration)\b", re.I), "length"),
    (re.compile(r"\bhow much\b.*\b(?:money|cost|loan|lend|lent|worth|spend|spent|pay|paid|fund|financ|invest|price|budget|allocat)", re.I), "money"),
    (re.compile(r"\bhow much\b|\b(?:capacity|volume|amount)\b", re.I), "quantity"),
    (re.compile(r"\bhow many\b", re.I), "number"),
    (re.compile(r"\bwhen\b|\bwhat (?:year|date|month|day)\b|\bwhich (?:year|month)\b|\bin what year\b|\bdeadline\b", re.I), "date"),
    (re.compile(r"^\s*(?:who|whom|whose)\b|\bwho (?:is|was|were|led|leads|signed|wrote|heads)\b", re.I), "entity"),
    (re.compile(r"^\s*where\b|\bwhich (?:country|countries|city|cities|region|state|nation)\b", re.I), "entity"),
]

_CAPITALIZED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]*[a-z\d][\w’'-]*|\b[A-Z]{2,}\b")


def expected_type(question: str) -> str | None:
    for pattern, kind in _QUESTION_RULES:
        if pattern.search(question):
            return kind
    return None


def counted_noun(question: str) -> str | None:
    """The stem of X in "how many X"."""
    m = re.search(r"\bhow many\s+([A-Za-z-]+)", question, re.I)
    return stem(m.group(1)) if m and m.group(1).lower() not in STOPWORDS else None


def holds_type(text: str, kind: str | None, question: str) -> bool:
    """Whether text holds a value of the kind the question asks for (True when no kind is expected)."""
    if kind is None:
        return True
    if kind == "entity":
        asked = {stem(w) for w in words(question)}
        return any(stem(w) not in asked for m in _CAPITALIZED.finditer(text) for w in words(m.group(0)))
    if kind == "number":
        noun = counted_noun(question)
        if noun is None:
            return bool(_PATTERNS["number"].search(text))
        tokens = words(text)
        for i, token in enumerate(tokens):
            if re.fullmatch(_NUMBER, token, re.I):
                if any(stem(t).startswith(noun[:5]) for t in tokens[i + 1 : i + 4]):
                    return True
        return False
    return bool(_PATTERNS[kind].search(text))


def values(text: str, kind: str | None) -> set[str]:
    """The typed values in text, normalised, for spotting sources that disagree."""
    if kind in (None, "entity"):
        return set()
    pattern = _PATTERNS["number" if kind == "number" else kind]
    return {re.sub(r"\s+", " ", m.group(0).lower()).strip(" .,") for m in pattern.finditer(text)}
