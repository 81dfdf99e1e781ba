"""What kind of value a question asks for, and whether a passage holds one.

A sentence that shares the question's words but holds no date cannot answer "when"; this
check re-ranks candidates and is one of the two abstention signals (see docs/abstention.md).
"""

from __future__ import annotations

import re
from typing import AbstractSet as Set

from service.rag.text import STOPWORDS, stem, words

_NUMBER_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|twenty|thirty|forty|fifty|hundred|thousand|dozen|several)"
_NUMBER = rf"(?:\d[\d,.]*|{_NUMBER_WORDS})"

# A count: a number that is not part of a designation ("Su-35", "Shahed-136").
_COUNT = re.compile(rf"(?<![\w-])(?:\d[\d,.]*|{_NUMBER_WORDS})\b", re.I)
# Nouns that answer "who" without a proper name ("led by deputy prime ministers").
_ROLE = re.compile(
    r"\b(?:ministers?|presidents?|leaders?|delegations?|representatives?|officials?|envoys?|ambassadors?|"
    r"chairm[ae]n|governments?|parliaments?|authorities)\b",
    re.I,
)

_PATTERNS = {
    # Month names only when capitalized and next to a number ("May 2024", "17 March"): "may" is a verb.
    "date": re.compile(
        r"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b(?:January|February|March|April|May|June|July|August|September|"
        r"October|November|December)\s+\d|\b\d{1,2}\s+(?:January|February|March|April|May|June|July|August|"
        r"September|October|November|December)\b"
    ),
    "length": re.compile(
        rf"{_NUMBER}[\s-]*(?:km|kilomet(?:er|re)s?|miles?|met(?:er|re)s?|mm|millimet(?:er|re)s?|cm|feet|foot|"
        rf"years?|months?|weeks?|days?|hours?|decades?)\b",
        re.I,
    ),
    # An amount of money names its currency: "€1.3 billion", "$4 billion", "300 million euros".
    "money": re.compile(
        rf"[$€£¥₽]\s?\d|\b{_NUMBER}\s*(?:(?:billion|million|trillion|thousand|bn)\s+)?(?:dollars?|euros?|"
        rf"rubles?|roubles?|rials?|pounds?|yuan|usd|eur)\b",
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
    (re.compile(r"\binterest rate\b|\b(?:what|which)\s+(?:\w+\s+)?(?:percent(?:age)?|share|proportion|rate)\b|\bby how much\b|\bhow much did .* (?:fall|drop|declin|grow|ris|increas)", re.I), "percent"),
    (re.compile(r"\bhow (?:long|far)\b|\b(?:length|distance|duration)\b", re.I), "length"),
    (re.compile(r"\bhow much\b.*\b(?:money|cost|loan|lend|lent|worth|spend|spent|pay|paid|fund|financ|invest|price|budget|allocat)|\b(?:budget|cost|price|funding|value)\b", re.I), "money"),
    (re.compile(r"\bhow much\b|\bwhat (?:is|was|will be|would be) the (?:\w+ ){0,2}(?:capacity|volume|amount)\b", re.I), "quantity"),
    (re.compile(r"\bhow many\b", re.I), "number"),
    (re.compile(r"\bwhen\b|\bwhat (?:year|date|month|day)\b|\bwhich (?:year|month)\b|\bin what year\b|\bdeadline\b", re.I), "date"),
    # "Who is the ...", "Who wrote ...": a person is asked for; "Who might support it?" may be a country.
    (re.compile(r"\bwho (?:is|was|are|were) (?:the|a|an)\b|\bwho (?:wrote|signed|led|leads|heads|headed|founded|"
                r"won|chairs|authored|appointed)\b", re.I), "person"),
    (re.compile(r"\bwho(?:m)?\b", re.I), "entity"),
    (re.compile(r"^\s*whose\b", re.I), "entity"),
    (re.compile(r"^\s*where\b|\bwhich (?:country|countries|city|cities|region|state|nation)\b", re.I), "entity"),
]

# Capitalized runs that name places and bodies, not people ("South Caucasus", "Economic Union").
_NOT_PERSON = re.compile(
    r"\b(?:Union|Gulf|Caucasus|Organi[sz]ation|Corridor|Treaty|Pipeline|Council|Republic|Ocean|Sea|Economic|"
    r"Cooperation|Concept|Policy|Ministry|Federation|Korea|States|Kingdom|Emirates|Africa|Asia|America|Europe|"
    r"North|South|East|West|Western|Eastern|Northern|Southern|Central|International|National|Transport|Partnership|"
    r"Strategic|Comprehensive|Article|January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\b"
)
_PERSON = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z’'-]+(?:\s+[A-Z][a-z’'-]+)+\b")
_BYLINE = re.compile(r"[A-Z][a-z’'-]+(?:\s+[A-Z][a-z’'-]+)+")
_CAPITALIZED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]*[a-z\d][\w’'-]*|\b[A-Z]{2,}\b")


# Kinds recognised by their written form (digits, units, months), wherever they stand in a sentence.
VALUE_KINDS = frozenset({"date", "length", "money", "quantity", "percent", "number"})


def expected_type(question: str) -> str | None:
    for pattern, kind in _QUESTION_RULES:
        if pattern.search(question):
            return kind
    return None


def counted_noun(question: str) -> str | None:
    """The stem of the counted noun in "how many [adjectives] X [verb...]" (X, not the adjectives)."""
    m = re.search(r"\bhow many\s+(.*)", question, re.I)
    if not m:
        return None
    noun = None
    for word in words(m.group(1)):
        if word in STOPWORDS:
            break
        noun = word
    return stem(noun) if noun else None


def holds_type(text: str, kind: str | None, question: str, common_words: Set[str] = frozenset()) -> bool:
    """Whether text holds a value of the kind the question asks for (True when no kind is expected).

    common_words: words seen in lower case in the corpus; a run of capitalized common words
    ("Mutual Relations") is a title, not a person's name.
    """
    if kind is None:
        return True
    if kind == "person":
        asked = {stem(w) for w in words(question)}
        names = any(
            not _NOT_PERSON.search(m.group(0))
            and not all(stem(w) in asked for w in words(m.group(0)))
            and not all(w in common_words for w in words(m.group(0)))
            for m in _PERSON.finditer(text.strip())
        ) or (len(words(text)) <= 4 and bool(_BYLINE.fullmatch(text.strip())))  # a byline: "Sergei Melkonian"
        return names or any(stem(m.group(0).lower()) not in asked for m in _ROLE.finditer(text))
    if kind == "entity":
        asked = {stem(w) for w in words(question)}
        return any(stem(w) not in asked for m in _CAPITALIZED.finditer(text) for w in words(m.group(0)))
    if kind == "number":
        noun = counted_noun(question)
        if noun is None:
            return bool(_PATTERNS["number"].search(text))
        for m in _COUNT.finditer(text):
            following = words(text[m.end() : m.end() + 60])[:3]
            if any(stem(t).startswith(noun[:5]) for t in following):
                return True
        return False
    return bool(_PATTERNS[kind].search(text))


_MEASURE = re.compile(
    r"(?P<cur>[$€£¥₽])?\s?(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?:-\s*)?(?P<scale>billion|million|trillion|thousand|bn)?\s*"
    r"(?P<unit>%|percent|per cent|km|kilomet\w*|miles?|met(?:er|re)s?|mm|millimet\w*|years?|months?|days?|"
    r"cubic|tons?|tonnes|barrels?|dollars?|euros?|rubles?|roubles?)?",
    re.I,
)
_UNIT_FAMILY = {"kilomet": "km", "millimet": "mm", "percent": "%", "per cent": "%", "meter": "m", "metre": "m"}


def measurements(text: str, kind: str | None) -> set[tuple[str, str]]:
    """(unit, value) pairs of the asked-for kind in text: ("km", "162"), ("year", "2028"), ("€", "1.3 billion").

    Two sources disagree when they give different values in the same unit.
    """
    if kind not in ("date", "length", "money", "quantity", "percent"):
        return set()
    found = set()
    for m in _MEASURE.finditer(text):
        num = m.group("num").replace(",", "")
        unit = (m.group("cur") or m.group("unit") or "").lower()
        unit = next((v for k, v in _UNIT_FAMILY.items() if unit.startswith(k)), unit.rstrip("s") or unit)
        if kind == "date":
            if re.fullmatch(r"1[5-9]\d\d|20\d\d", num) and not unit:
                found.add(("year", num))
        elif unit:
            value = f"{num} {m.group('scale').lower()}" if m.group("scale") else num
            found.add((unit, value))
    return found


def disagree(a: set[tuple[str, str]], b: set[tuple[str, str]]) -> bool:
    """Both give a value in some unit, and none of their values in that unit agree."""
    shared_units = {u for u, _ in a} & {u for u, _ in b}
    return any(not ({v for uu, v in a if uu == u} & {v for uu, v in b if uu == u}) for u in shared_units)
