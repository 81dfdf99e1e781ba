"""Run the answer engine over an evaluation dataset and score it.

Each case runs as its own conversation (follow-up chains turn by turn) and is graded on its
last turn: answerable cases on their key-fact patterns and cited spans, unanswerable ones on
abstaining.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

from eval import metrics

DEFAULT_DATASET = Path(__file__).parent / "datasets" / "article.jsonl"


def load_cases(path: Path, split: str | None = None) -> list[dict]:
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [c for c in cases if split in (None, "all") or c.get("split") == split]


def run_case(engine, case: dict, mode: str) -> dict:
    turns = case.get("turns") or [case["question"]]
    conversation_id = None
    started = time.perf_counter()
    for turn in turns:
        answer = engine.ask(turn, conversation_id=conversation_id, mode=mode)
        conversation_id = answer["conversation_id"]
    elapsed_ms = (time.perf_counter() - started) * 1000
    return {"case": case, "answer": answer, "latency_ms": answer["timings_ms"]["total"], "wall_ms": elapsed_ms}


def grade(result: dict, document_texts: dict[str, str]) -> dict:
    case, answer = result["case"], result["answer"]
    unanswerable = bool(case.get("unanswerable"))
    abstained = bool(answer["abstained"])
    correct = abstained if unanswerable else (not abstained and metrics.answer_correct(answer["answer"], case["answer_patterns"]))
    citations = answer["citations"]
    return {
        "id": case["id"],
        "category": case["category"],
        "split": case.get("split"),
        "question": (case.get("turns") or [case.get("question")])[-1],
        "unanswerable": unanswerable,
        "abstained": abstained,
        "correct": correct,
        "citations_exact": all(metrics.citation_exact(c, document_texts.get(c["doc_id"])) for c in citations),
        "citation_supported": None if unanswerable else metrics.citation_supported(citations, case.get("gold", [])),
        "latency_ms": result["latency_ms"],
        "first_token_ms": answer["timings_ms"].get("first_token"),
        "mode": answer["mode"],
        "notice": answer.get("notice"),
        "answer": answer["answer"],
    }


def summarize(graded: list[dict]) -> dict:
    answerable = [g for g in graded if not g["unanswerable"]]
    unanswerable = [g for g in graded if g["unanswerable"]]
    abstained = [g for g in graded if g["abstained"]]
    latencies = [g["latency_ms"] for g in graded]
    by_category: dict[str, list[dict]] = defaultdict(list)
    for g in graded:
        by_category[g["category"]].append(g)
    return {
        "cases": len(graded),
        "accuracy": metrics.ratio(sum(g["correct"] for g in graded), len(graded)),
        "answerable_accuracy": metrics.ratio(sum(g["correct"] for g in answerable), len(answerable)),
        "abstention_recall": metrics.ratio(sum(g["abstained"] for g in unanswerable), len(unanswerable)),
        "abstention_precision": metrics.ratio(sum(g["unanswerable"] for g in abstained), len(abstained)),
        "false_abstention_rate": metrics.ratio(sum(g["abstained"] for g in answerable), len(answerable)),
        "citation_exactness": metrics.ratio(sum(g["citations_exact"] for g in graded), len(graded)),
        "citation_support": metrics.ratio(
            sum(bool(g["citation_supported"]) for g in answerable), len(answerable)
        ),
        "fallbacks": sum(1 for g in graded if g.get("notice")),
        "latency_p50_ms": metrics.percentile(latencies, 50),
        "latency_p95_ms": metrics.percentile(latencies, 95),
        "by_category": {
            cat: {"cases": len(items), "accuracy": metrics.ratio(sum(g["correct"] for g in items), len(items))}
            for cat, items in sorted(by_category.items())
        },
    }


def evaluate(container, dataset: Path = DEFAULT_DATASET, mode: str = "extractive", split: str | None = None) -> dict:
    cases = load_cases(dataset, split)
    document_texts = {r.doc_id: container.store.document_text(r.doc_id) for r in container.store.documents()}
    container.warm_up()
    graded = [grade(run_case(container.engine, case, mode), document_texts) for case in cases]
    return {"mode": mode, "dataset": str(dataset), "split": split or "all", "summary": summarize(graded), "cases": graded}


def format_summary(result: dict) -> str:
    s = result["summary"]

    def pct(v):
        return "n/a" if v is None else f"{v * 100:.1f}%"

    lines = [
        f"mode={result['mode']} split={result['split']} cases={s['cases']}",
        f"  accuracy {pct(s['accuracy'])} (answerable {pct(s['answerable_accuracy'])})",
        f"  abstention recall {pct(s['abstention_recall'])}, precision {pct(s['abstention_precision'])}, "
        f"false abstentions {pct(s['false_abstention_rate'])}",
        f"  citations exact {pct(s['citation_exactness'])}, supported {pct(s['citation_support'])}",
        f"  latency p50 {s['latency_p50_ms']:.1f} ms, p95 {s['latency_p95_ms']:.1f} ms"
        + (f"; {s['fallbacks']} answers fell back to extractive" if s["fallbacks"] else ""),
    ]
    for cat, c in s["by_category"].items():
        lines.append(f"  {cat:13} {pct(c['accuracy'])} of {c['cases']}")
    return "\n".join(lines)
