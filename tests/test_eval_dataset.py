"""Sanity checks for the evaluation datasets (every file in eval/datasets/)."""

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from eval.run import DATASETS_DIR, EVAL_CORPUS, SPLITS, dataset_files
from ingest.loaders import load

CATEGORIES = {"fact", "multi", "paraphrase", "list", "followup", "unanswerable", "conflict", "broad"}
REQUIRED_FIELDS = {"id", "document", "category", "answer_patterns", "gold", "unanswerable", "split"}
# The frozen split measures generalisation: enough cases, on several documents, the article included.
FROZEN_MINIMUM = 60
FROZEN_DOCUMENTS_MINIMUM = 4


def _corpus_files() -> dict[str, Path]:
    return {p.name: p for folder in EVAL_CORPUS for p in sorted(folder.iterdir()) if p.is_file()}


CORPUS = _corpus_files()
LINES = [(f.name, n, line) for f in dataset_files(DATASETS_DIR)
         for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)]
CASES = [json.loads(line) for _, _, line in LINES if line.strip()]
ANSWERABLE = [c for c in CASES if not c.get("unanswerable")]


@lru_cache(maxsize=None)
def _text(source: str) -> str:
    """The document's text as ingest stores it (the converted text for HTML and PDF)."""
    return load(CORPUS[source]).text


def _gold_text(case):
    return "\n".join(_text(g["source"])[g["start_char"]:g["end_char"]] for g in case["gold"])


def test_every_line_parses():
    assert LINES, "no dataset"
    for name, n, line in LINES:
        assert line.strip(), f"{name}: blank line {n}"
        assert isinstance(json.loads(line), dict), f"{name}: line {n} is not a JSON object"


def test_ids_unique():
    dupes = [i for i, n in Counter(c["id"] for c in CASES).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.get("id", "?"))
def test_required_fields_and_types(case):
    missing = REQUIRED_FIELDS - case.keys()
    assert not missing, f"missing fields: {missing}"
    assert case["category"] in CATEGORIES
    assert case["split"] in SPLITS
    assert case["document"] in CORPUS, f"unknown document {case['document']}"
    assert case["unanswerable"] == (case["category"] == "unanswerable")
    if "turns" in case:
        assert "question" not in case
        assert 2 <= len(case["turns"]) <= 3 and all(isinstance(t, str) and t.strip() for t in case["turns"])
    else:
        assert case["category"] != "followup"
        assert isinstance(case.get("question"), str) and case["question"].strip()


def test_frozen_split_is_large_and_covers_several_documents():
    frozen = [c for c in CASES if c["split"] == "frozen"]
    assert len(frozen) >= FROZEN_MINIMUM
    documents = {c["document"] for c in frozen}
    assert len(documents) >= FROZEN_DOCUMENTS_MINIMUM and "russia-iran-partnership-south-caucasus.txt" in documents
    assert {"fact", "paraphrase", "list", "followup", "unanswerable"} <= {c["category"] for c in frozen}


@pytest.mark.parametrize("case", [c for c in CASES if c.get("unanswerable")], ids=lambda c: c["id"])
def test_unanswerable_has_no_patterns_or_gold(case):
    assert case["answer_patterns"] == [] and case["gold"] == []


@pytest.mark.parametrize("case", ANSWERABLE, ids=lambda c: c["id"])
def test_gold_spans_exist_and_patterns_match_them(case):
    assert case["answer_patterns"] and case["gold"]
    for span in case["gold"]:
        text = _text(span["source"])
        s, e = span["start_char"], span["end_char"]
        assert 0 <= s < e <= len(text) and text[s:e].strip(), f"bad span {s}:{e}"
    gold = " ".join(_gold_text(case).split())  # answers read with normalised whitespace
    for pattern in case["answer_patterns"]:
        assert re.search(pattern, gold, re.IGNORECASE), f"{pattern!r} not in gold text {gold!r}"
