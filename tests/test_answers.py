"""Answers on the real article: correct facts, the right passage cited, exact quotes, abstention."""

import re

from eval.metrics import answer_correct, citation_supported
from tests.conftest import ARTICLE

FACTUAL = [
    "fact-001", "fact-005", "fact-007", "fact-009", "fact-012", "fact-014", "fact-016", "fact-017",
    "fact-019", "fact-024", "fact-026", "fact-028", "fact-030", "fact-033", "multi-006", "para-001",
]
UNANSWERABLE = ["unans-001", "unans-003", "unans-004", "unans-005", "unans-007", "unans-008", "unans-016", "unans-019"]


def _assert_quotes_exact(answer):
    text = ARTICLE.read_text(encoding="utf-8")
    for citation in answer["citations"]:
        assert text[citation["start_char"] : citation["end_char"]] == citation["quote"]
        assert citation["source"] == ARTICLE.name


def test_factual_questions_are_answered_with_the_right_passage(indexed, eval_cases):
    # Whether one question clears the fitted threshold moves with each refit; the share that does is the quality
    # floor. Every answer that is given must be right, cited to the gold passage, exact and short.
    answered = {}
    for case_id in FACTUAL:
        case = eval_cases[case_id]
        answer = indexed.engine.ask(case["question"], mode="extractive")
        if answer["abstained"]:
            continue
        _assert_quotes_exact(answer)
        assert len(answer["citations"]) <= 5  # short: a few sentences at most, each marked with its number
        assert all(f"[{c['n']}]" in answer["answer"] for c in answer["citations"])
        answered[case_id] = (answer_correct(answer["answer"], case["answer_patterns"])
                             and citation_supported(answer["citations"], case["gold"]))
    right = [case_id for case_id, ok in answered.items() if ok]
    assert len(right) >= len(FACTUAL) - 3, {"wrong": [c for c, ok in answered.items() if not ok],
                                            "refused": sorted(set(FACTUAL) - set(answered))}


def test_unanswerable_questions_abstain(indexed, eval_cases):
    abstained = []
    for case_id in UNANSWERABLE:
        answer = indexed.engine.ask(eval_cases[case_id]["question"], mode="extractive")
        if answer["abstained"]:
            abstained.append(case_id)
            assert answer["citations"] == []
            assert "don't say" in answer["answer"]
            # The closest passages are offered apart, as related reading, never as the answer.
            assert answer["related"] and not any(r["verified"] for r in answer["related"])
    assert len(abstained) >= len(UNANSWERABLE) - 3, sorted(set(UNANSWERABLE) - set(abstained))


def test_answer_json_shape(indexed):
    answer = indexed.engine.ask("How long is the Resht–Astara railway?")
    assert set(answer) == {
        "answer", "abstained", "mode", "conversation_id", "citations", "timings_ms", "unsupported", "related", "notice"}
    assert answer["mode"] == "extractive"
    assert set(answer["timings_ms"]) == {"retrieve", "answer", "total"}
    citation = answer["citations"][0]
    assert set(citation) == {"n", "source", "doc_id", "quote", "start_char", "end_char", "score", "verified"}
    assert "162" in answer["answer"]


def test_follow_up_is_resolved_against_the_earlier_turn(indexed):
    first = indexed.engine.ask("What is the key missing link of the North–South Transport Corridor?")
    assert "Resht" in first["answer"]
    follow = indexed.engine.ask("How long is it?", conversation_id=first["conversation_id"])
    assert follow["conversation_id"] == first["conversation_id"]
    assert not follow["abstained"]
    assert re.search(r"162[- ]kilomet", follow["answer"])
    _assert_quotes_exact(follow)


def test_elliptical_follow_up_keeps_the_question_of_the_earlier_turn(indexed):
    first = indexed.engine.ask("What rail gauge does Russia use?")
    assert "1,520" in first["answer"]
    follow = indexed.engine.ask("And Iran?", conversation_id=first["conversation_id"])
    assert "1,435" in follow["answer"]


def test_the_same_question_without_the_earlier_turn_is_not_resolved(indexed):
    alone = indexed.engine.ask("How long is it?")
    assert not re.search(r"162[- ]kilomet", alone["answer"])


def test_conversations_persist_across_processes(indexed, tmp_path):
    from service.conversations import ConversationStore

    first = indexed.engine.ask("Who is the Kremlin's special representative for INSTC development?")
    reopened = ConversationStore(indexed.settings.conversations_db)
    turns = reopened.turns(first["conversation_id"])
    assert [t["question"] for t in turns] == ["Who is the Kremlin's special representative for INSTC development?"]
    assert turns[0]["answer"]["answer"] == first["answer"]


def test_sources_that_disagree_are_both_cited(fresh, article_dir, tmp_path):
    other = tmp_path / "briefing"
    other.mkdir()
    (other / "railway-briefing.md").write_text(
        "# Railway briefing\n\nThe Resht–Astara railway in northern Iran is 164 kilometers long, "
        "according to the project office.\n",
        encoding="utf-8",
    )
    fresh.ingest([article_dir, other])
    answer = fresh.engine.ask("How long is the Resht–Astara railway?")
    sources = {c["source"] for c in answer["citations"]}
    assert sources == {ARTICLE.name, "railway-briefing.md"}
    assert "162" in answer["answer"] and "164" in answer["answer"]
    assert answer["answer"].startswith("The sources differ.")
