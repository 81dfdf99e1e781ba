"""The one catalogue of written forms the answer path recognises: values (dates, lengths, money…), names, and
the shapes of questions. Question analysis, evidence and selection all read their patterns from here."""

from __future__ import annotations

import re

MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December")
NUMBER_WORDS = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                r"twenty|thirty|forty|fifty|sixty|ninety|hundred|thousand|dozen|several)")
NUMBER = rf"(?:\d[\d,.]*|{NUMBER_WORDS})"
TIME_UNITS = r"(?:years?|months?|weeks?|days?|hours?|minutes?|decades?)"
# "5 working days", "10 business days": a qualifier between the number and its unit of time.
TIME_QUALIFIER = r"(?:(?:working|business|calendar|clear|consecutive)\s+)?"
# Sums in minor units, written after the number: "5p", "45p per mile", "50 cents".
MINOR_CURRENCY = r"\b\d+(?:\.\d+)?\s?(?:p|pence|cents?)\b(?!\.\w)"

# Values by kind, recognised by their written form wherever they stand in a sentence.
VALUE = {
    # Month names only when capitalized and next to a number ("May 2024", "17 March"): "may" is a verb.
    "date": re.compile(
        rf"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b(?:{MONTHS})\s+\d|\b\d{{1,2}}\s+(?:{MONTHS})\b"
    ),
    # A span of time: "within 30 days", "a 10-day window", "two weeks".
    "duration": re.compile(rf"\b{NUMBER}[\s-]*{TIME_QUALIFIER}{TIME_UNITS}\b", re.I),
    "length": re.compile(
        rf"{NUMBER}[\s-]*(?:km|kilomet(?:er|re)s?|miles?|met(?:er|re)s?|mm|millimet(?:er|re)s?|cm|feet|foot|"
        rf"{TIME_QUALIFIER}{TIME_UNITS})\b",
        re.I,
    ),
    # An amount of money names its currency: "€1.3 billion", "$4 billion", "300 million euros".
    "money": re.compile(
        rf"[$€£¥₽]\s?\d|\b{NUMBER}\s*(?:(?:billion|million|trillion|thousand|bn)\s+)?"
        rf"(?:dollars?|euros?|rubles?|roubles?|rials?|pounds?|yuan|usd|eur|gbp)\b|{MINOR_CURRENCY}",
        re.I,
    ),
    "quantity": re.compile(
        rf"\b{NUMBER}\s*(?:%|percent|per cent|billion|million|trillion|thousand|bn|cubic|tons?|tonnes|barrels?|"
        rf"km|kilomet\w*|met(?:er|re)s?|mm|mw|gw|kwh)|[$€£¥₽]\s?\d|{MINOR_CURRENCY}",
        re.I,
    ),
    "percent": re.compile(r"\d[\d.,]*\s*(?:%|percent|per cent)", re.I),
    "number": re.compile(rf"\b{NUMBER}\b", re.I),
}
# A count: a number that is not part of a designation ("Su-35", "Shahed-136").
COUNT = re.compile(rf"(?<![\w-])(?:\d[\d,.]*|{NUMBER_WORDS})\b", re.I)
# A measured value with its unit, to tell whether two sources give different figures for one thing.
MEASURE = re.compile(
    r"(?P<cur>[$€£¥₽])?\s?(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?:-\s*)?"
    r"(?P<scale>billion|million|trillion|thousand|bn)?\s*"
    r"(?P<unit>%|percent|per cent|km|kilomet\w*|miles?|met(?:er|re)s?|mm|millimet\w*|years?|months?|weeks?|days?|"
    r"cubic|tons?|tonnes|barrels?|dollars?|euros?|rubles?|roubles?)?",
    re.I,
)
UNIT_FAMILY = {"kilomet": "km", "millimet": "mm", "percent": "%", "per cent": "%", "meter": "m", "metre": "m"}
YEAR = re.compile(r"1[5-9]\d\d|20\d\d")

# Nouns that answer "who" without a proper name ("led by deputy prime ministers", "approved by Finance").
ROLE = re.compile(
    r"\b(?:ministers?|presidents?|leaders?|delegations?|representatives?|officials?|envoys?|ambassadors?|"
    r"chairm[ae]n|governments?|parliaments?|authorities)\b",
    re.I,
)
# A run of capitalized words that may be a person's name; and words that make such a run a place or body.
PERSON = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z’'-]+(?:\s+[A-Z][a-z’'-]+)+\b")
BYLINE = re.compile(r"[A-Z][a-z’'-]+(?:\s+[A-Z][a-z’'-]+)+")
NOT_PERSON = re.compile(
    r"\b(?:Union|Gulf|Caucasus|Organi[sz]ation|Corridor|Treaty|Pipeline|Council|Republic|Ocean|Sea|Economic|"
    r"Cooperation|Concept|Policy|Ministry|Federation|Korea|States|Kingdom|Emirates|Africa|Asia|America|Europe|"
    r"North|South|East|West|Western|Eastern|Northern|Southern|Central|International|National|Transport|Partnership|"
    rf"Strategic|Comprehensive|Article|{MONTHS})\b"
)
CAPITALIZED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]*[a-z\d][\w’'-]*|\b[A-Z]{2,}\b")
LOWER_WORD = re.compile(r"(?<![\w’'])[a-z][a-z’'-]+")

# Names in a question: capitalized words not at its start, acronyms, numbers.
ACRONYM = re.compile(r"\b[A-Z]{2,}\b")
CAP_WORD = re.compile(r"(?:(?<=\s)|(?<=^)|(?<=[-–—]))[A-Z][\w’']*")
QUESTION_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w’'-]*|\b[A-Z]{2,}\b|\b\d[\d.,]*\b")

# Question shapes.
# A question that leans on an earlier turn through a pronoun: "How long is it?", "Who runs them?".
REFERS_BACK = re.compile(r"\b(?:it|its|they|them|their|this|these|those|he|she|his|her)\b", re.I)
ELLIPSIS = re.compile(r"^\s*(?:and|also|what about|how about|and what about)\b", re.I)
WH_WORD = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could)\b",
                     re.I)
# "When" asks for a time only where it opens the question or a clause that is itself a question ("…, and when
# did it open?"), followed by the verb that starts a question ("When did…", "when is…") or by nothing ("When?").
# "What must I do when there is no leader?" and "When I leave, what should I do?" ask what to do.
WHEN_ASKED = re.compile(r"(?:^|[,;:]\s*(?:and\s+)?|\band\s+)(?:by\s+|since\s+|until\s+)?when(?:\s*\?|\s+(?:is|are|was|"
                        r"were|do|does|did|will|would|can|could|should|shall|must|may|might|has|have|had)\b)", re.I)
# The kinds a question can ask for, by its wording; the first matching rule names the kind.
QUESTION_KIND = [
    (re.compile(r"\binterest rate\b|\b(?:what|which)\s+(?:\w+\s+)?(?:percent(?:age)?|share|proportion|rate)\b|"
                r"\bby how much\b|\bhow much did .* (?:fall|drop|declin|grow|ris|increas)", re.I), "percent"),
    (re.compile(r"\bhow (?:long|far)\b|\b(?:length|distance|duration)\b", re.I), "length"),
    (re.compile(r"\bhow much\b.*\b(?:money|cost|loan|lend|lent|worth|spend|spent|pay|paid|fund|financ|invest|price|"
                r"budget|allocat)|\b(?:budget|cost|price|funding)\b", re.I), "money"),
    (re.compile(r"\bhow much\b|\bwhat (?:is|was|will be|would be) the (?:\w+ ){0,2}(?:capacity|volume|amount)\b",
                re.I), "quantity"),
    (re.compile(r"\bhow many\b", re.I), "number"),
    (re.compile(r"\bwhat (?:year|date|month|day)\b|\bwhich (?:year|month)\b|\bin what year\b|\bdeadline\b|"
                r"\bhow soon\b", re.I), "date"),
    (WHEN_ASKED, "date"),
    # "Who is the ...", "Who wrote ...": a person is asked for; "Who might support it?" may be a country.
    (re.compile(r"\bwho (?:is|was|are|were) (?:the|a|an)\b|\bwho (?:wrote|signed|led|leads|heads|headed|founded|"
                r"won|chairs|authored|appointed)\b", re.I), "person"),
    (re.compile(r"\bwho(?:m)?\b", re.I), "entity"),
    (re.compile(r"^\s*whose\b", re.I), "entity"),
    (re.compile(r"^\s*where\b|\bwhich (?:country|countries|city|cities|region|state|nation)\b", re.I), "entity"),
]
# Kinds told by their written form (digits, units, months), wherever they stand in a sentence.
VALUE_KINDS = frozenset({"date", "length", "money", "quantity", "percent", "number"})

