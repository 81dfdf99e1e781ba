"""Question analysis, piece by piece (no model, no index)."""

import pytest

from service.rag.analysis import analyze, counted_noun, expected_kind, is_elliptical


@pytest.mark.parametrize("question, kind", [
    ("When did Russia and Iran sign the treaty?", "date"),
    ("In what year did Iran join the SCO?", "date"),
    ("By when must the railway be finished?", "date"),
    ("What is the deadline for filing a claim?", "date"),
    # "when" opening a clause is a condition, not a request for a date
    ("What must a maintainer do when there is no leader?", None),
    ("Who approves the trip when the manager is away?", "entity"),
    ("When I leave the project, what should I do about my packages?", None),
    ("When?", "date"),
    ("What is the only value the header may take?", None),  # a value is not an amount of money
    ("How long is the Resht–Astara railway?", "length"),
    ("How far is Baku from Tbilisi?", "length"),
    ("How much did Russia lend for the railway?", "money"),
    ("What is the budget of the pipeline?", "money"),
    ("How much gas flows through it?", "quantity"),
    ("How many members does BRICS have?", "number"),
    ("By how much did trade fall?", "percent"),
    ("Who wrote the article?", "person"),
    ("Who is the author?", "person"),
    ("Who might support the corridor?", "entity"),
    ("Which countries border Armenia?", "entity"),
    ("Where is the border crossing?", "entity"),
    ("What does Article 12 say?", None),
])
def test_expected_kind(question, kind):
    assert expected_kind(question) == kind


@pytest.mark.parametrize("question, elliptical", [
    ("And Iran?", True),
    ("What about the expansion?", True),
    ("the gauge in Iran", True),
    ("How long is it?", False),
    ("What does Iran use?", False),
])
def test_is_elliptical(question, elliptical):
    assert is_elliptical(question) is elliptical


@pytest.mark.parametrize("question, noun", [
    ("How many members does BRICS have?", "member"),
    ("How many new permanent members joined?", "member"),
    ("What is it?", None),
])
def test_counted_noun(question, noun):
    assert counted_noun(question) == noun


def test_names_are_required_terms_of_the_current_turn_only():
    q = analyze("How long is the Resht–Astara railway in Iran?", ["What did Russia finance?"])
    names = {t.word for t in q.names}
    assert {"resht", "astara", "iran"} <= names and "russia" not in names
    assert q.terms["russia"].weight == 0.5 and q.terms["railway"].weight == 1.0


def test_an_elliptical_follow_up_inherits_the_previous_kind_and_subject():
    q = analyze("And Iran?", ["When did Russia join the treaty?"])
    assert q.elliptical and q.kind == "date"
    assert q.terms["russia"].weight == 1.0


@pytest.mark.parametrize("follow_up, history_weight", [
    ("How long is it?", 1.0),  # the subject is a pronoun for the earlier turn's
    ("Who has to approve them?", 1.0),
    ("How long is the Baku railway?", 0.5),  # names its own subject: the earlier turn only helps
])
def test_a_follow_up_that_names_its_subject_by_a_pronoun_keeps_the_earlier_subject(follow_up, history_weight):
    q = analyze(follow_up, ["What is the key missing link of the corridor?"])
    assert q.terms["corridor"].weight == history_weight
