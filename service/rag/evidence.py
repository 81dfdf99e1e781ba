"""Evidence: what each retrieved sentence offers towards answering a question, as numbers a scorer can weigh.

Nothing here decides. Each signal is measured the same way for every document, and the fitted scorer
(`ranking.py`) turns them into the probability that the sentence answers the question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import AbstractSet as Set
from typing import Sequence

from service.rag import patterns
from service.rag.analysis import Question, Term
from service.rag.retrieve import Candidate, Corpus
from service.rag.semantic import WordVectors, soft_credits
from service.rag.store import Chunk
from service.rag.text import content_terms, stem, terms_match, words

# Two spellings of one name ("Resht"/"Rasht", "Tbilisi"/"Tiflis") are at least this similar letter by letter
# (difflib's ratio); shorter words are too easily alike to compare.
SPELLING_MIN = 0.75
SPELLING_MIN_LENGTH = 4


@dataclass
class Evidence:
    candidate: Candidate
    own: float  # IDF-weighted share of the question's terms the sentence holds
    context: float  # share held only around it (neighbouring sentences, heading, title)
    soft: float  # share matched only by another spelling or a near-synonym, weighted by closeness
    names: float  # share of the question's names, acronyms and numbers found in or near the sentence
    type_missing: bool  # the question asks for a kind of value and the sentence holds none
    novelty: float  # share of the sentence's own terms the question lacks (1: all new; 0: it echoes the question)
    retrieval: float  # fused retrieval score relative to the best candidate's
    cosine: float  # best cosine of the question to the sentence's vector views
    front_matter: bool  # a byline line (author, date, affiliation)
    covered: set[str] = field(default_factory=set)  # question stems the sentence holds
    probability: float = 0.0  # set by the scorer

    @property
    def chunk(self) -> Chunk:
        return self.candidate.chunk

    @property
    def typed(self) -> bool:
        return not self.type_missing


def spelling_similarity(a: str, b: str) -> float:
    """Letter-level similarity of two words, 0 when either is too short to tell."""
    if min(len(a), len(b)) < SPELLING_MIN_LENGTH or a[0].isdigit() or b[0].isdigit():
        return 0.0
    return SequenceMatcher(None, a, b).ratio()


def spelling_credits(names: Sequence[str], text_words: Sequence[str]) -> dict[str, float]:
    """For each name, 1 when some word of the text is another spelling of it, else 0."""
    out = {}
    for name in names:
        best = max((spelling_similarity(name, w) for w in text_words), default=0.0)
        out[name] = 1.0 if best >= SPELLING_MIN else 0.0
    return out


def expands(acronym: str, text: str) -> bool:
    """Whether text spells out the acronym: "INSTC" in "International North–South Transport Corridor"."""
    initials = "".join(w[0].lower() for w in patterns.CAP_WORD.findall(text))
    return len(acronym) >= 2 and acronym in initials


def holds_kind(text: str, question: Question, common_words: Set[str] = frozenset()) -> bool:
    """Whether text holds a value of the kind the question asks for (True when it asks for none).

    common_words: words seen in lower case in the corpus; a run of capitalized common words
    ("Mutual Relations") is a title, not a person's name.
    """
    kind = question.kind
    if kind is None:
        return True
    asked = {stem(w) for w in words(question.text)}
    if kind == "person":
        names = any(
            not patterns.NOT_PERSON.search(m.group(0))
            and not all(stem(w) in asked for w in words(m.group(0)))
            and not all(w in common_words for w in words(m.group(0)))
            for m in patterns.PERSON.finditer(text.strip())
        ) or (len(words(text)) <= 4 and bool(patterns.BYLINE.fullmatch(text.strip())))  # a byline: "Sergei Melkonian"
        return names or any(stem(m.group(0).lower()) not in asked for m in patterns.ROLE.finditer(text))
    if kind == "entity":
        return any(stem(w) not in asked for m in patterns.CAPITALIZED.finditer(text) for w in words(m.group(0)))
    if kind == "number":
        if question.counted is None:
            return bool(patterns.VALUE["number"].search(text))
        for m in patterns.COUNT.finditer(text):
            following = words(text[m.end(): m.end() + 60])[:3]
            if any(stem(t).startswith(question.counted[:5]) for t in following):
                return True
        return False
    if kind == "date":  # a time can be asked for and given as a span: "within 30 days"
        return bool(patterns.VALUE["date"].search(text) or patterns.VALUE["duration"].search(text))
    return bool(patterns.VALUE[kind].search(text))


def measurements(text: str, kind: str | None) -> set[tuple[str, str]]:
    """(unit, value) pairs of the asked-for kind in text: ("km", "162"), ("year", "2028"), ("€", "1.3 billion").

    Two sources disagree when they give different values in the same unit.
    """
    if kind not in ("date", "length", "money", "quantity", "percent"):
        return set()
    found = set()
    for m in patterns.MEASURE.finditer(text):
        num = m.group("num").replace(",", "")
        unit = (m.group("cur") or m.group("unit") or "").lower()
        unit = next((v for k, v in patterns.UNIT_FAMILY.items() if unit.startswith(k)), unit.rstrip("s") or unit)
        if kind == "date":
            if patterns.YEAR.fullmatch(num) and not unit:
                found.add(("year", num))
        elif unit:
            value = f"{num} {m.group('scale').lower()}" if m.group("scale") else num
            found.add((unit, value))
    return found


def disagree(a: set[tuple[str, str]], b: set[tuple[str, str]]) -> bool:
    """Both give a value in some unit, and none of their values in that unit agree."""
    shared_units = {u for u, _ in a} & {u for u, _ in b}
    return any(not ({v for uu, v in a if uu == u} & {v for uu, v in b if uu == u}) for u in shared_units)


def novelty(text: str, terms: dict[str, Term]) -> float:
    own = content_terms(text)
    if not own:
        return 0.0
    return sum(not any(terms_match(t, q) for q in terms) for t in own) / len(own)


def gather(question: Question, candidates: Sequence[Candidate], corpus: Corpus,
           vectors: WordVectors | None = None) -> list[Evidence]:
    """The evidence of every candidate, in the candidates' order."""
    if not candidates:
        return []
    terms = question.terms
    if vectors is not None:
        vectors.ensure([t.word for t in terms.values()]
                       + [w for c in candidates for w in corpus.profile(c.chunk).nearby_words])
    top = max(c.score for c in candidates) or 1.0
    return [_evidence(c, question, corpus, vectors, top) for c in candidates]


def _evidence(candidate: Candidate, question: Question, corpus: Corpus, vectors: WordVectors | None,
              top_score: float) -> Evidence:
    chunk = candidate.chunk
    profile = corpus.profile(chunk)
    own_terms, around = profile.terms, profile.context_terms
    terms = question.terms
    unmatched = [t.word for t in terms.values() if not own_terms.matches(t.stem) and not t.word[0].isdigit()]
    synonyms = soft_credits(vectors, unmatched, profile.words) if vectors is not None and unmatched else {}
    spellings = spelling_credits(unmatched, profile.words)
    total = own = context = soft = 0.0
    covered = set()
    for term in terms.values():
        w = term.weight * corpus.weights.idf(term.stem)
        total += w
        if own_terms.matches(term.stem):
            own += w
            covered.add(term.stem)
        elif around.matches(term.stem) or (term.acronym and expands(term.word, f"{chunk.text} {profile.context_text}")):
            context += w
        else:
            soft += w * max(synonyms.get(term.word, 0.0), spellings.get(term.word, 0.0))
    total = total or 1.0
    return Evidence(
        candidate=candidate,
        own=own / total,
        context=context / total,
        soft=soft / total,
        names=_names_found(question.names, chunk, profile, vectors),
        type_missing=not holds_kind(chunk.text, question, corpus.common_words),
        novelty=novelty(chunk.text, terms),
        retrieval=candidate.score / top_score,
        cosine=candidate.cosine,
        front_matter=chunk.chunk_id in corpus.front_matter,
        covered=covered,
    )


def _names_found(names: Sequence[Term], chunk: Chunk, profile, vectors: WordVectors | None) -> float:
    """Share of the question's names in the sentence or within two sentences of it: exactly, spelled another
    way ("Rasht"/"Resht"), or by a close neighbour in the embedding space (a capital for its country)."""
    if not names:
        return 1.0
    missing = [t for t in names if not (profile.terms.matches(t.stem) or profile.name_terms.matches(t.stem)
                                        or (t.acronym and expands(t.word, f"{chunk.text} {profile.context_text}")))]
    if not missing:
        return 1.0
    words_near = profile.nearby_words
    spelled = spelling_credits([t.word for t in missing], words_near)
    similar = soft_credits(vectors, [t.word for t in missing if not t.word[0].isdigit()], words_near) if vectors else {}
    found = len(names) - len(missing) + sum(max(spelled.get(t.word, 0.0), similar.get(t.word, 0.0)) for t in missing)
    return found / len(names)

