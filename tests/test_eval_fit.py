"""The threshold fitting of `python -m eval.fit`, on hand-made outcomes."""

from eval.fit import NEVER, choose_threshold, fit_llm, sweep

# (unanswerable, best probability, the answer would be correct)
OUTCOMES = [(False, 0.9, True), (False, 0.7, True), (False, 0.4, True), (False, 0.3, False),
            (True, 0.35, False), (True, 0.2, False), (True, 0.1, False)]


def test_sweep_counts_each_kind_of_outcome():
    rows = {r["threshold"]: r for r in sweep(OUTCOMES)}
    assert rows[0.0] == {"threshold": 0.0, "right": 3, "answerable_right": 3, "unanswerable_refused": 0,
                         "false_refusals": 0, "accuracy": 0.4286, "balanced": 0.375}
    at = rows[0.4]
    assert (at["answerable_right"], at["unanswerable_refused"], at["false_refusals"]) == (3, 3, 1)
    assert at["balanced"] == 0.875 and at["accuracy"] == 0.8571


def test_the_threshold_has_the_best_accuracy_and_among_those_the_best_balanced_score():
    rows = sweep(OUTCOMES)
    # 0.4 alone scores best (all three unanswerable refused, three answers right)
    assert choose_threshold(rows) == 0.4
    # with a wide tolerance 0.3, 0.35 and 0.7 (accuracy 0.714 each) join it; 0.4 still has the best balanced score
    assert choose_threshold(rows, tolerance=0.2) == 0.4
    # two thresholds alike on both scores (refusing the wrong answer at 0.7 costs nothing): the middle of them
    tied = [(False, 0.9, True), (False, 0.7, False), (True, 0.5, False)]
    assert choose_threshold(sweep(tied)) == 0.8


def test_the_llm_gate_weighs_what_the_model_and_verification_decide():
    supports = [0.9, 0.2, 0.15, 0.1]
    # (unanswerable, model answered, its answer correct, the extractive answer correct): the model answers the
    # second case right though its support is low, and finds no answer to the third (unanswerable) on its own
    llm = [(False, True, True, False), (False, True, True, False), (True, False, False, False),
           (True, True, False, False)]
    chosen, rows = fit_llm(supports, llm, threshold=0.5)
    rows = {r["threshold"]: r for r in rows["gate"]}
    assert rows[0.15]["answerable_right"] == 2 and rows[0.15]["unanswerable_refused"] == 2
    assert rows[0.15]["balanced"] == 1.0 and chosen.gate == 0.175  # 0.15 and 0.2 tie: the middle
    assert max(rows) <= 0.5


def test_the_fallback_shows_the_passages_only_where_they_were_right_when_the_model_failed():
    supports = [0.9, 0.8, 0.6, 0.55]
    # the model fails on all four; the passages answer the two best right; the other two are unanswerable
    llm = [(False, False, False, True), (False, False, False, True), (True, False, False, False),
           (True, False, False, False)]
    chosen, rows = fit_llm(supports, llm, threshold=0.5)
    rows = {r["threshold"]: r for r in rows["fallback"]}
    assert rows[0.5]["right"] == 2 and rows[0.8]["right"] == 4 and rows[NEVER]["right"] == 2
    assert 0.6 < chosen.fallback <= 0.8

