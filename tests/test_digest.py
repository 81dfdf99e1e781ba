"""Digests of broad questions: structure, sides of a comparison, maximal marginal relevance (no model)."""

import numpy as np
import pytest

from service.rag.digest import comparison_sides, digest, structural_roles
from service.rag.retrieve import Corpus
from service.rag.store import Chunk


def _doc(kinds_and_texts):
    chunks, offset = [], 0
    for idx, (kind, text) in enumerate(kinds_and_texts):
        chunks.append(Chunk(f"d:{idx}", "d", "d.txt", idx, offset, offset + len(text), kind, text))
        offset += len(text) + 1
    return chunks


DOC = _doc([
    ("heading", "A report"),
    ("sentence", "The report opens on this point."),
    ("sentence", "It goes on about that point."),
    ("sentence", "It goes on again about it."),
    ("heading", "Part one"),
    ("sentence", "Part one starts with a claim."),
    ("sentence", "Part one continues with more detail."),
    ("heading", "Conclusion"),
    ("sentence", "The report concludes with a warning."),
    ("sentence", "It recommends care in all things."),
    ("heading", "Related"),
    ("sentence", "Published elsewhere in another form."),
])


def test_structural_roles_are_openings_section_leads_and_the_last_full_section():
    leads, conclusion = structural_roles(DOC)
    assert {DOC[i].text for i in leads} == {"The report opens on this point.", "It goes on about that point.", "Part one starts with a claim.",
                                             "The report concludes with a warning.", "Published elsewhere in another form."}
    # "Related" has one line under it: the conclusion is the section before.
    assert {DOC[i].text for i in conclusion} == {"The report concludes with a warning.", "It recommends care in all things."}


@pytest.mark.parametrize("question, sides", [
    ("Compare the old rules with the new rules.", ("the old rules", "the new rules")),
    ("What is the difference between plan A and plan B?", ("plan A", "plan B")),
    ("How does the treaty compare with the 2001 treaty?", ("the treaty", "the 2001 treaty")),
    ("How do rail fares differ from air fares?", ("rail fares", "air fares")),
    ("Compare what the corridor means for Baku with what it means for Yerevan.",
     ("what the corridor means for Baku", "what it means for Yerevan")),
    ("Summarize the report.", None),
])
def test_comparison_sides(question, sides):
    assert comparison_sides(question) == sides


def _vectors(chunks, axis_of):
    """One unit vector per sentence: sentences on the same axis are near-duplicates."""
    out = {}
    for c in chunks:
        v = np.zeros(8, dtype=np.float32)
        v[axis_of(c)] = 1.0
        v[7] = 0.1 * c.idx  # keeps duplicates apart, barely
        out[c.chunk_id] = (v / np.linalg.norm(v)).tolist()
    return out


def test_a_digest_is_in_document_order_and_does_not_repeat_itself():
    corpus = Corpus(DOC, {"d": "A report"}, 1)
    # Three sentences say the same thing (axis 0); the question is about axis 0 and axis 1.
    axis = {"The report opens on this point.": 0, "It goes on about that point.": 0, "It goes on again about it.": 0, "Part one starts with a claim.": 1,
            "Part one continues with more detail.": 2, "The report concludes with a warning.": 3, "It recommends care in all things.": 3, "Published elsewhere in another form.": 4}
    vectors = _vectors(DOC, lambda c: axis.get(c.text, 5))
    question = np.zeros(8, dtype=np.float32)
    question[[0, 1]] = 1 / np.sqrt(2)
    chosen = digest("list", "List all the parts.", question, ["d"], corpus.doc_chunks, lambda ids: vectors, lambda texts: [],
                    limit=3)
    texts = [c.text for c in chosen]
    assert len(texts) == 3
    assert sum(axis[t] == 0 for t in texts) == 2  # not all three near-duplicates
    assert "Part one starts with a claim." in texts
    assert [c.idx for c in chosen] == sorted(c.idx for c in chosen)


def test_a_broad_question_gets_a_cited_digest_and_a_factoid_one_its_short_answer(indexed):
    """On the real article and model: a summary request is answered by several exact sentences in document order;
    a question for one figure still by its sentence."""
    from tests.conftest import ARTICLE

    text = ARTICLE.read_text(encoding="utf-8")
    summary = indexed.engine.ask("Could you give me a short overview of this analysis?", mode="extractive")
    assert not summary["abstained"]
    assert 3 <= len(summary["citations"]) <= 6
    starts = [c["start_char"] for c in summary["citations"]]
    assert starts == sorted(starts)
    assert all(text[c["start_char"]:c["end_char"]] == c["quote"] for c in summary["citations"])
    assert all(len(c["quote"].split()) >= 5 for c in summary["citations"])  # no run-in headings
    assert summary["notice"] == f"a digest of {ARTICLE.name}, made at ingest"  # the summary stored of the article
    fact = indexed.engine.ask("How long is the Resht–Astara railway?", mode="extractive")
    assert "162" in fact["answer"] and len(fact["citations"]) <= 2


def test_a_list_announced_by_a_sentence_comes_with_its_items():
    from service.rag.digest import _with_list_items

    doc = _doc([
        ("sentence", "These costs are never paid:"), ("sentence", "fines;"), ("sentence", "minibar items;"),
        ("sentence", "alcohol."), ("sentence", "Visa fees are business costs."),
    ])
    assert [c.text for c in _with_list_items([doc[0]], {"d": doc})] == [
        "These costs are never paid:", "fines;", "minibar items;", "alcohol."]


@pytest.mark.parametrize("question, named", [
    ("What is the overall assessment of the briefing note?", "instc-briefing-note.txt"),
    ("What is each role responsible for under the travel policy?", "northwind-travel-expense-policy.md"),
    ("What should I do when my package has a bug?", None),  # a title word, not a reference to the document
    ("Summarize the rules for rail travel.", None),  # "rules" is no title's word, though "rail" is one
    ("What does the policy say about the briefing note?", None),  # two documents named: neither is chosen
    ("Summarize it.", None),
])
def test_a_document_named_by_the_question(question, named):
    from service.rag.scope import named_document

    docs = {"a": ("instc-briefing-note.txt", "BRIEFING NOTE: THE INSTC - RAILS AND GAUGES"),
            "b": ("northwind-travel-expense-policy.md", "Northwind Analytics Ltd — Travel and Expense Policy"),
            "c": ("autopkgtest.txt", "Autopkgtest - Defining tests for Debian packages")}
    chunks = [Chunk(f"{d}:0", d, source, 0, 0, len(title), "heading", title) for d, (source, title) in docs.items()]
    corpus = Corpus(chunks, {d: title for d, (_, title) in docs.items()}, 1)
    found = named_document(question, corpus)
    assert (docs[found][0] if found else None) == named


@pytest.mark.parametrize("found_in, named", [
    (None, "autopkgtest.txt"),  # "the package": a word only that title has
    ({"b", "c"}, "autopkgtest.txt"),
    ({"b"}, None),  # nothing retrieved from it: "package" is the question's topic, not a reference
])
def test_a_title_word_names_a_document_only_where_something_was_found(found_in, named):
    from service.rag.scope import named_document

    docs = {"b": ("developer-duties.html", "Debian Developer's Duties"),
            "c": ("autopkgtest.txt", "Autopkgtest - Defining tests for Debian packages")}
    chunks = [Chunk(f"{d}:0", d, source, 0, 0, len(title), "heading", title) for d, (source, title) in docs.items()]
    corpus = Corpus(chunks, {d: title for d, (_, title) in docs.items()}, 1)
    found = named_document("What happens when the package has release-critical bugs?", corpus, found_in)
    assert (docs[found][0] if found else None) == named


def _scope_corpus():
    doc = _doc([
        ("heading", "A report"), ("sentence", "The report opens on this point."),
        ("heading", "1. Costs"), ("sentence", "Costs rose in every year."), ("sentence", "Staff costs rose most of all."),
        ("heading", "2. Benefits"), ("sentence", "Benefits came later than planned."),
        ("sentence", "They were larger than expected."),
        ("heading", "3. Outlook"), ("sentence", "The outlook is steady for now."),
        ("sentence", "It recommends care in all things."),
    ])
    return doc, Corpus(doc, {"d": "A report"}, 1)


@pytest.mark.parametrize("question, first_sentence", [
    ("Summarize section 2.", "Benefits came later than planned."),
    ("What does the conclusion say?", "The outlook is steady for now."),  # no "Conclusion" heading: the last section
    ("Summarize the introduction.", "The report opens on this point."),
    ("Summarize section 7.", None),  # no such section
])
def test_a_section_named_by_number_or_role(question, first_sentence):
    from service.rag.scope import resolve

    doc, corpus = _scope_corpus()
    scope = resolve(question, np.zeros(8), corpus, lambda ids: {})
    if first_sentence is None:
        assert scope.section is None
        return
    doc_id, lo, hi = scope.section
    sentences = [c.text for c in doc[lo:hi] if c.kind == "sentence"]
    assert doc_id == "d" and sentences[0] == first_sentence
