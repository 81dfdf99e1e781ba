"""Sanity checks for the article evaluation dataset (eval/datasets/article.jsonl)."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATASET = ROOT / "eval" / "datasets" / "article.jsonl"
CORPUS_DIR = ROOT / "data" / "corpus"
SOURCE = "russia-iran-partnership-south-caucasus.txt"

CATEGORY_MINIMUMS = {
    "fact": 30,
    "multi": 12,
    "paraphrase": 15,
    "followup": 12,
    "unanswerable": 16,
}
ALLOWED_CATEGORIES = set(CATEGORY_MINIMUMS)
ALLOWED_SPLITS = {"dev", "test"}
REQUIRED_FIELDS = {"id", "category", "answer_patterns", "gold", "unanswerable", "split"}


def _load_lines():
    return DATASET.read_text(encoding="utf-8").splitlines()


def _load_cases():
    return [json.loads(line) for line in _load_lines() if line.strip()]


def _load_text(source=SOURCE):
    return (CORPUS_DIR / source).read_bytes().decode("utf-8")


CASES = _load_cases()
ANSWERABLE = [c for c in CASES if not c.get("unanswerable")]


def _gold_text(case):
    texts = {}
    parts = []
    for span in case["gold"]:
        src = span["source"]
        if src not in texts:
            texts[src] = _load_text(src)
        parts.append(texts[src][span["start_char"]:span["end_char"]])
    return "\n".join(parts)


def test_every_line_parses():
    lines = _load_lines()
    assert lines, "dataset is empty"
    for n, line in enumerate(lines, 1):
        assert line.strip(), f"blank line {n}"
        obj = json.loads(line)
        assert isinstance(obj, dict), f"line {n} is not a JSON object"


def test_ids_unique():
    ids = [c["id"] for c in CASES]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    assert all(isinstance(i, str) and i for i in ids)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.get("id", "?"))
def test_required_fields_and_types(case):
    missing = REQUIRED_FIELDS - case.keys()
    assert not missing, f"missing fields: {missing}"
    assert case["category"] in ALLOWED_CATEGORIES
    assert case["split"] in ALLOWED_SPLITS
    assert isinstance(case["unanswerable"], bool)
    assert isinstance(case["answer_patterns"], list)
    assert isinstance(case["gold"], list)
    assert case["unanswerable"] == (case["category"] == "unanswerable")
    if case["category"] == "followup":
        assert "question" not in case
        turns = case.get("turns")
        assert isinstance(turns, list) and 2 <= len(turns) <= 3
        assert all(isinstance(t, str) and t.strip() for t in turns)
    else:
        assert "turns" not in case
        assert isinstance(case.get("question"), str) and case["question"].strip()


def test_category_minimums():
    counts = Counter(c["category"] for c in CASES)
    for cat, minimum in CATEGORY_MINIMUMS.items():
        assert counts[cat] >= minimum, f"{cat}: {counts[cat]} < {minimum}"


def test_both_splits_in_every_category():
    for cat in CATEGORY_MINIMUMS:
        splits = {c["split"] for c in CASES if c["category"] == cat}
        assert splits == ALLOWED_SPLITS, f"{cat} has splits {splits}"


@pytest.mark.parametrize("case", [c for c in CASES if c.get("unanswerable")], ids=lambda c: c["id"])
def test_unanswerable_has_no_patterns_or_gold(case):
    assert case["answer_patterns"] == []
    assert case["gold"] == []


@pytest.mark.parametrize("case", ANSWERABLE, ids=lambda c: c["id"])
def test_answerable_has_patterns_and_gold(case):
    assert len(case["answer_patterns"]) >= 1
    assert len(case["gold"]) >= 1


@pytest.mark.parametrize("case", ANSWERABLE, ids=lambda c: c["id"])
def test_gold_spans_in_range(case):
    for span in case["gold"]:
        assert {"source", "start_char", "end_char"} <= span.keys()
        path = CORPUS_DIR / span["source"]
        assert path.is_file(), f"missing source {span['source']}"
        text = _load_text(span["source"])
        s, e = span["start_char"], span["end_char"]
        assert isinstance(s, int) and isinstance(e, int)
        assert 0 <= s < e <= len(text), f"bad span {s}:{e} (len {len(text)})"
        assert text[s:e].strip(), "empty span"


@pytest.mark.parametrize("case", ANSWERABLE, ids=lambda c: c["id"])
def test_patterns_compile_and_match_gold(case):
    gold_text = _gold_text(case)
    for pattern in case["answer_patterns"]:
        assert isinstance(pattern, str) and pattern
        rx = re.compile(pattern, re.IGNORECASE)
        assert rx.search(gold_text), f"{pattern!r} not found in gold text: {gold_text!r}"


def test_all_patterns_compile():
    for case in CASES:
        for pattern in case["answer_patterns"]:
            re.compile(pattern, re.IGNORECASE)
