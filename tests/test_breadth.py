"""Broad questions told from factoid ones by their nearest examples (the real MiniLM, no index)."""

import pytest

from service.rag.breadth import FACTOID, QuestionKinds, load_examples
from service.rag.embeddings import load_embedding_model


@pytest.fixture(scope="module")
def kinds():
    return QuestionKinds(load_embedding_model().get_text_embedding_batch)


# None of these is an example of question_kinds.json or a question of the evaluation set.
@pytest.mark.parametrize("question, kind", [
    ("Can you summarise the handbook for me?", "summary"),
    ("Give me the main points of the annual review.", "summary"),
    ("What does the report recommend doing about energy prices?", "argument"),
    ("What is the authors' conclusion on remote work?", "argument"),
    ("How would the change affect part-time staff?", "implications"),
    ("How is the old contract different from the new one?", "comparison"),
    ("List all the safety requirements for the lab.", "list"),
    ("When does the office open?", FACTOID),
    ("How much is the deposit?", FACTOID),
    ("Who signed the lease?", FACTOID),
    ("Which port handles the most freight?", FACTOID),
    ("What must a visitor show at reception?", FACTOID),
])
def test_kind_of_question(kinds, question, kind):
    assert kinds.classify(question).kind == kind


def test_examples_name_only_known_kinds(tmp_path):
    examples = load_examples()
    assert FACTOID in examples and all(texts for texts in examples.values())
    with pytest.raises(ValueError, match="question kinds must be"):
        QuestionKinds(lambda texts: [], {"summary": ["Sum it up."], "trivia": ["Who?"]})


def test_the_fit_reads_tune_questions_and_examples_only():
    from eval.fit_breadth import training_set

    cases = [{"question": "Summarize the memo.", "category": "broad"},
             {"turns": ["How long is it?", "And the other one?"], "category": "followup"}]
    texts, labels = training_set(cases, {"factoid": ["Who?"], "summary": ["Sum it up."]})
    assert texts == ["Who?", "Sum it up.", "Summarize the memo.", "And the other one?"]
    assert labels.tolist() == [0.0, 1.0, 1.0, 0.0]
