"""Selection over a small in-memory corpus with a hand-made scorer (no model, no Chroma)."""

import pytest

from ingest.segment import segment
from service.rag.analysis import analyze
from service.rag.ranking import FEATURES, Scorer
from service.rag.retrieve import Candidate, Corpus
from service.rag.selection import select
from service.rag.store import Chunk

NOTE = ("Rail note\n\nThe Resht–Astara railway is 162 kilometers long. It links Iran to Azerbaijan. "
        "Three options remain open. First, a loan. Second, a grant. Third, a concession.\n")
BRIEF = "Brief\n\nThe Rasht-Astara line is 164 km long. It crosses Gilan province.\n"


def _chunks(source: str, text: str) -> list[Chunk]:
    return [Chunk(f"{source}:{i}", f"id-{source}", source, i, s.start, s.end, s.kind, s.text)
            for i, s in enumerate(segment(text))]


@pytest.fixture(scope="module")
def corpus():
    chunks = _chunks("note.md", NOTE) + _chunks("brief.txt", BRIEF)
    return Corpus(chunks, {"id-note.md": "Rail note", "id-brief.txt": "Brief"}, generation=1)


def _scorer(threshold=0.5):
    """Probability rises with the share of question terms held (own + spelled otherwise) and falls without the
    asked-for kind of value."""
    weights = {"own": 8.0, "soft": 8.0, "names": 2.0, "type_missing": -6.0}
    n = len(FEATURES)
    return Scorer(tuple(weights.get(f, 0.0) for f in FEATURES), -5.0, (0.0,) * n, (1.0,) * n, threshold, threshold)


def _candidates(corpus, *texts_and_scores):
    by_text = {c.text: c for c in corpus.chunks}
    return [Candidate(by_text[text], score, 0.5) for text, score in texts_and_scores]


def test_the_best_sentence_answers_and_a_different_figure_elsewhere_is_reported(corpus):
    candidates = _candidates(corpus, ("The Resht–Astara railway is 162 kilometers long.", 0.03),
                             ("The Rasht-Astara line is 164 km long.", 0.03), ("It links Iran to Azerbaijan.", 0.02))
    chosen = select(analyze("How long is the Resht–Astara railway?"), candidates, corpus, _scorer())
    assert not chosen.abstained
    # the other spelling of the name still matches, so the other document's figure is found
    assert [c.source for c in chosen.chunks] == ["note.md", "brief.txt"] and chosen.conflict


def test_below_the_threshold_it_abstains_and_lists_related_passages(corpus):
    candidates = _candidates(corpus, ("It links Iran to Azerbaijan.", 0.03), ("It crosses Gilan province.", 0.02))
    chosen = select(analyze("What is the budget of the railway?"), candidates, corpus, _scorer())
    assert chosen.abstained and chosen.reason and chosen.support < 0.5
    assert {c.text for c in chosen.related} == {"It links Iran to Azerbaijan.", "It crosses Gilan province."}


def test_equal_scores_are_ordered_by_position_not_by_id(corpus):
    texts = [("Second, a grant.", 0.02), ("First, a loan.", 0.02)]
    chosen = select(analyze("What remains?"), _candidates(corpus, *texts), corpus, _scorer(0.0))
    assert [e.chunk.text for e in chosen.ranked] == ["First, a loan.", "Second, a grant."]
