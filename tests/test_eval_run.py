"""The evaluation suite itself: scoring, the baseline, the report and the CI thresholds."""

import json

from eval.report import write_report
from eval.run import check_thresholds, evaluate, gold_rank, load_cases
from tests.conftest import DATASET


def test_sample_is_spread_over_the_dataset():
    cases = load_cases(DATASET, sample=20)
    assert len(cases) == 20
    assert {c["category"] for c in cases} == {"fact", "multi", "paraphrase", "followup", "unanswerable"}


def test_gold_rank():
    gold = [{"source": "a.txt", "start_char": 10, "end_char": 20}]
    assert gold_rank([("a.txt", 0, 5), ("b.txt", 10, 20), ("a.txt", 15, 30)], gold) == 3
    assert gold_rank([("a.txt", 0, 5)], gold) is None


def test_evaluate_extractive_and_baseline_and_write_the_report(indexed, tmp_path):
    small = tmp_path / "small.jsonl"
    wanted = {"fact-012", "unans-001", "follow-001"}
    small.write_text("".join(line + "\n" for line in DATASET.read_text(encoding="utf-8").splitlines()
                             if json.loads(line)["id"] in wanted), encoding="utf-8")
    ours = evaluate(indexed, small, "extractive")
    baseline = evaluate(indexed, small, "baseline")
    assert [c["id"] for c in ours["cases"]] == ["fact-012", "follow-001", "unans-001"]
    for case in ours["cases"]:  # an unanswerable case is right exactly when it abstains
        assert not case["unanswerable"] or case["correct"] == case["abstained"]
    assert ours["summary"]["accuracy"] == sum(c["correct"] for c in ours["cases"]) / 3
    assert ours["summary"]["by_split"]["tune"]["cases"] == 3
    assert ours["summary"]["citation_exactness"] == 1.0
    assert ours["summary"]["retrieval_hit_at_k"] == 1.0
    assert baseline["summary"]["abstention_recall"] == 0.0  # the usual approach never abstains
    assert baseline["summary"]["citation_exactness"] == 1.0  # its chunks have exact offsets too
    texts = {r.source: r.text for r in indexed.store.documents(with_text=True)}
    for case in ours["cases"] + baseline["cases"]:  # every case, unanswerable ones too, keeps its retrieval trace
        assert case["retrieved"], case["id"]
        for span in case["retrieved"]:
            source, _, offsets = span.rpartition(":")
            start, end = map(int, offsets.split("-"))
            assert source in texts and 0 <= start < end <= len(texts[source]), span

    write_report([ours, baseline], tmp_path / "report", {"up": 2, "down": 1}, command="qa eval --mode extractive")
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "| metric | extractive | baseline |" in report and "👍 2, 👎 1" in report
    for chart in ("accuracy_by_category.png", "latency.png"):
        assert (tmp_path / "report" / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    measured = ours["summary"]["accuracy"]
    assert check_thresholds(ours, {"extractive": {"accuracy": measured, "_comment": "x"}}) == []
    assert check_thresholds(ours, {"extractive": {"_split": "tune", "accuracy": measured}}) == []
    assert check_thresholds(ours, {"extractive": {"_split": "frozen", "accuracy": 0.0}}) == [
        "extractive: the run has no 'frozen' split to check"]
    failures = check_thresholds(baseline, {"baseline": {"accuracy": 0.99, "false_abstention_rate_max": -1}})
    assert any("accuracy" in f and "below the threshold 0.99" in f for f in failures)
    assert any("false_abstention_rate" in f and "above the maximum" in f for f in failures)
