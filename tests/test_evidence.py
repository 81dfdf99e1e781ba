"""Evidence and the fitted scorer, piece by piece (no model, no index)."""

import numpy as np
import pytest

from service.rag.analysis import analyze
from service.rag.evidence import Evidence, disagree, holds_kind, measurements, novelty, spelling_similarity
from service.rag.ranking import FEATURES, Scorer, features, fit_logistic


@pytest.mark.parametrize("question, text, holds", [
    ("When was the treaty signed?", "The treaty was signed on 17 January 2025.", True),
    ("When was the treaty signed?", "The treaty was signed in Moscow.", False),
    # a time asked for can be given as a span
    ("When must a claim be filed?", "Claims are filed within 30 days of the trip.", True),
    ("How long is the railway?", "It is a 162-kilometer railway.", True),
    ("How long is the railway?", "It is a key railway.", False),
    ("How much did Russia lend?", "Russia lent €1.3 billion.", True),
    ("How much did Russia lend?", "Russia lent 1.3 billion.", False),
    ("How many members does BRICS have?", "BRICS now has ten members.", True),
    ("How many members does BRICS have?", "BRICS was founded in 2009 by five states.", False),
    ("Who wrote the article?", "Sergei Melkonian", True),
    ("Who led the delegation?", "It was led by deputy prime ministers.", True),
    ("Who wrote the article?", "The article was published in March.", False),
    ("What does Article 12 say?", "Anything at all.", True),
    # sums in minor units, and spans of working days
    ("How much extra per mile can I claim?", "an extra 5p per mile for each colleague carried", True),
    ("How much is the mileage rate?", "45 pence per mile for the first 10,000 miles", True),
    ("How much is the mileage rate?", "See Section 4c for the rates.", False),
    ("How far ahead must it be approved?", "at least 5 working days before departure", True),
])
def test_holds_kind(question, text, holds):
    assert holds_kind(text, analyze(question)) is holds


@pytest.mark.parametrize("a, b, alike", [
    ("resht", "rasht", True),
    ("tbilisi", "tbilissi", True),
    ("azerbaijan", "azerbaidjan", True),
    ("iran", "iraq", True),  # letters alone cannot tell these: the embedding view and context must
    ("russia", "armenia", False),
    ("gas", "gap", False),  # too short to compare
])
def test_spelling_similarity(a, b, alike):
    assert (spelling_similarity(a, b) >= 0.75) is alike


@pytest.mark.parametrize("a, b, kind, conflict", [
    ("the 162-kilometer railway", "a 164 km rail link", "length", True),
    ("the 162-kilometer railway", "the railway, 162 km long", "length", False),
    ("a €1.3 billion loan", "a loan of €1.6 billion", "money", True),
    ("signed in 2025", "signed in 2024", "date", True),
    ("162 km long", "opened in 2019", "length", False),  # no shared unit: nothing to compare
])
def test_conflicting_measurements(a, b, kind, conflict):
    assert disagree(measurements(a, kind), measurements(b, kind)) is conflict


def test_novelty_is_the_share_of_new_terms():
    terms = analyze("How long is the railway?").terms
    assert novelty("The railway is long.", terms) == 0.0
    assert novelty("The railway crosses Gilan province.", terms) == pytest.approx(3 / 4)


def test_fit_logistic_recovers_the_direction_of_each_signal():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] - 2 * x[:, 1] + 0.1 * rng.normal(size=400) > 0).astype(float)
    weights, _, mean, scale = fit_logistic(x, y, l2=1.0)
    assert weights[0] > 0 > weights[1] and abs(weights[2]) < abs(weights[0]) / 3
    again = fit_logistic(x, y, l2=1.0)
    assert np.array_equal(weights, again[0])  # deterministic


def _evidence(**overrides):
    values = dict(candidate=None, own=0.5, context=0.0, soft=0.0, names=1.0, type_missing=False, novelty=0.5,
                  retrieval=1.0, cosine=0.5, front_matter=False)
    values.update(overrides)
    return Evidence(**values)


def test_scorer_probability_follows_its_weights_and_round_trips(tmp_path):
    n = len(FEATURES)
    weights = tuple(1.0 if f == "own" else -1.0 if f == "type_missing" else 0.0 for f in FEATURES)
    scorer = Scorer(weights, 0.0, (0.0,) * n, (1.0,) * n, threshold=0.6, llm_threshold=0.4)
    assert scorer.probability(_evidence(own=0.9)) > scorer.probability(_evidence(own=0.1))
    assert scorer.probability(_evidence(type_missing=True)) < scorer.probability(_evidence())
    assert len(features(_evidence())) == n
    path = tmp_path / "scorer.json"
    path.write_text(scorer.to_json(fitted_on={"cases": 1}), encoding="utf-8")
    assert Scorer.load(path) == scorer


def test_a_scorer_fitted_on_other_features_is_refused(tmp_path):
    path = tmp_path / "scorer.json"
    path.write_text('{"features": ["own"], "weights": [1], "bias": 0, "mean": [0], "scale": [1], '
                    '"threshold": 0.5, "llm_threshold": 0.5}', encoding="utf-8")
    with pytest.raises(ValueError, match="refit"):
        Scorer.load(path)
