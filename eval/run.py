"""Run an answerer over an evaluation dataset and score it.

Each case runs as its own conversation (follow-up chains turn by turn) and is graded on its
last turn: answerable cases on their key-fact patterns and cited spans, unanswerable ones on
abstaining. Retrieval is scored separately (hit@k, MRR of the first passage overlapping the gold span).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

from eval import metrics

DATASETS_DIR = Path(__file__).parent / "datasets"
# The documents the datasets ask about: the sample corpus plus the evaluation's own documents.
EVAL_CORPUS = [Path(__file__).resolve().parents[1] / "data" / "corpus", Path(__file__).parent / "corpus"]
# "tune" cases may guide any choice of rule, weight or threshold; "frozen" cases never do: they only measure.
SPLITS = ("tune", "frozen")


# Questions answered with a digest of several sentences (a summary, an argument, a comparison), scored on key points.
BROAD = "broad"


def dataset_files(path: Path) -> list[Path]:
    """A JSONL dataset file, or every *.jsonl file of a folder in name order."""
    return sorted(path.glob("*.jsonl")) if path.is_dir() else [path]


def load_cases(path: Path = DATASETS_DIR, split: str | None = None, sample: int | None = None) -> list[dict]:
    cases = [json.loads(line) for file in dataset_files(path)
             for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    cases = [c for c in cases if split in (None, "all") or c.get("split") == split]
    if sample and sample < len(cases):
        step = len(cases) / sample  # evenly spread, so every category is represented
        cases = [cases[int(i * step)] for i in range(sample)]
    return cases


def run_case(answerer, case: dict, mode: str) -> dict:
    """Ask the case's turns in one conversation. "retrieved" is the last turn's (source, start, end) passages, best
    first, where the answerer reports them (the engine's typed answer does)."""
    turns = case.get("turns") or [case["question"]]
    conversation_id = None
    retrieved = None
    for turn in turns:
        if hasattr(answerer, "answer"):
            typed = answerer.answer(turn, conversation_id=conversation_id, mode=mode)
            answer = typed.to_dict()
            retrieved = [(c.chunk.source, c.chunk.start_char, c.chunk.end_char) for c in typed.retrieved]
        else:
            answer = answerer.ask(turn, conversation_id=conversation_id, mode=mode)
        conversation_id = answer["conversation_id"] or None
    return {"case": case, "answer": answer, "latency_ms": answer["timings_ms"]["total"], "retrieved": retrieved}


def gold_rank(passages: list[tuple[str, int, int]], gold: list[dict]) -> int | None:
    """1-based rank of the first (source, start, end) passage overlapping a gold span."""
    for rank, (source, start, end) in enumerate(passages, start=1):
        if any(g["source"] == source and metrics.spans_overlap(start, end, g["start_char"], g["end_char"]) for g in gold):
            return rank
    return None


def case_document(case: dict) -> str:
    """The document a case is about: its own field, else the source of its first gold span."""
    return case.get("document") or next((g["source"] for g in case.get("gold", [])), "?")


def grade(result: dict, document_texts: dict[str, str], rank: int | None, retrieved: list[str] = ()) -> dict:
    case, answer = result["case"], result["answer"]
    unanswerable = bool(case.get("unanswerable"))
    abstained = bool(answer["abstained"])
    citations = answer["citations"]
    if unanswerable:
        correct = abstained
    elif case["category"] == BROAD:
        correct = not abstained and metrics.key_points_cited(answer["answer"], citations, case["answer_patterns"])
    else:
        correct = not abstained and metrics.answer_correct(answer["answer"], case["answer_patterns"])
    return {
        "id": case["id"],
        "category": case["category"],
        "split": case.get("split"),
        "document": case_document(case),
        "question": (case.get("turns") or [case.get("question")])[-1],
        "unanswerable": unanswerable,
        "abstained": abstained,
        "correct": correct,
        "citations_exact": all(metrics.citation_exact(c, document_texts.get(c["doc_id"])) for c in citations),
        "citation_supported": None if unanswerable else metrics.citation_supported(citations, case.get("gold", [])),
        "retrieval_rank": rank,
        "retrieved": list(retrieved),  # "source:start-end" of each retrieved passage, best first: a trace to
        # compare two runs that answered the same question differently
        "latency_ms": result["latency_ms"],
        "first_token_ms": answer["timings_ms"].get("first_token"),
        "mode": answer["mode"],
        "notice": answer.get("notice"),
        "answer": answer["answer"],
    }


def summarize(graded: list[dict], k: int, breakdown: bool = True) -> dict:
    """The headline figures are over factoid questions (a fact, or that the documents do not give it); broad questions
    (a summary, an argument, a comparison) are scored apart, so that adding them leaves the factoid figures
    comparable from one report to the next."""
    broad = [g for g in graded if g["category"] == BROAD]
    every = graded
    graded = [g for g in graded if g["category"] != BROAD]
    answerable = [g for g in graded if not g["unanswerable"]]
    unanswerable = [g for g in graded if g["unanswerable"]]
    abstained = [g for g in graded if g["abstained"]]
    latencies = [g["latency_ms"] for g in graded]
    by_category: dict[str, list[dict]] = defaultdict(list)
    for g in every:
        by_category[g["category"]].append(g)
    ranks = [g["retrieval_rank"] for g in answerable]
    return {
        "cases": len(graded),
        "accuracy": metrics.ratio(sum(g["correct"] for g in graded), len(graded)),
        "answerable_accuracy": metrics.ratio(sum(g["correct"] for g in answerable), len(answerable)),
        "abstention_recall": metrics.ratio(sum(g["abstained"] for g in unanswerable), len(unanswerable)),
        "abstention_precision": metrics.ratio(sum(g["unanswerable"] for g in abstained), len(abstained)),
        "false_abstention_rate": metrics.ratio(sum(g["abstained"] for g in answerable), len(answerable)),
        "citation_exactness": metrics.ratio(sum(g["citations_exact"] for g in graded), len(graded)),
        "citation_support": metrics.ratio(sum(bool(g["citation_supported"]) for g in answerable), len(answerable)),
        "retrieval_k": k,
        "retrieval_hit_at_k": metrics.ratio(sum(r is not None and r <= k for r in ranks), len(ranks)),
        "retrieval_mrr": (sum(1.0 / r for r in ranks if r) / len(ranks)) if ranks else None,
        "fallbacks": sum(1 for g in graded if g.get("notice")),
        "latency_p50_ms": metrics.percentile(latencies, 50),
        "latency_p95_ms": metrics.percentile(latencies, 95),
        "broad_cases": len(broad),
        "broad_accuracy": metrics.ratio(sum(g["correct"] for g in broad), len(broad)),
        "broad_latency_p50_ms": metrics.percentile([g["latency_ms"] for g in broad], 50) if broad else None,
        "by_category": {
            cat: {
                "cases": len(items),
                "accuracy": metrics.ratio(sum(g["correct"] for g in items), len(items)),
                "latency_p50_ms": metrics.percentile([g["latency_ms"] for g in items], 50),
            }
            for cat, items in sorted(by_category.items())
        },
        **(_breakdown(every, k) if breakdown else {}),
    }


def _breakdown(graded: list[dict], k: int) -> dict:
    """The same summary for each split and each document."""
    out = {}
    for key, field in (("by_split", "split"), ("by_document", "document")):
        groups: dict[str, list[dict]] = defaultdict(list)
        for g in graded:
            groups[g.get(field) or "?"].append(g)
        out[key] = {name: summarize(items, k, breakdown=False) for name, items in sorted(groups.items())}
    return out


def _history(case: dict) -> tuple[str, list[str]]:
    turns = case.get("turns") or [case["question"]]
    return turns[-1], turns[:-1]


def evaluate(container, dataset: Path = DATASETS_DIR, mode: str = "extractive", split: str | None = None,
             sample: int | None = None) -> dict:
    """Score `mode` ("extractive", "llm" or "baseline") on the dataset."""
    cases = load_cases(dataset, split, sample)
    document_texts = {r.doc_id: r.text for r in container.store.documents(with_text=True)}
    container.warm_up()
    if mode == "baseline":
        from eval.baseline import TOP_K, Baseline

        answerer, k = Baseline(container), TOP_K

        def passages(case):
            question, _ = _history(case)
            return [(h.node.metadata.get("source", ""), h.node.start_char_idx, h.node.end_char_idx)
                    for h in answerer.retrieve(question)]
    else:
        answerer, k = container.engine, container.settings.top_k

    started = time.perf_counter()
    graded = []
    for case in cases:
        result = run_case(answerer, case, None if mode == "baseline" else mode)
        retrieved = result["retrieved"] if result["retrieved"] is not None else passages(case)
        rank = None if case.get("unanswerable") else gold_rank(retrieved, case.get("gold", []))
        graded.append(grade(result, document_texts, rank,
                            [f"{source}:{start}-{end}" for source, start, end in retrieved]))
    return {"mode": mode, "dataset": str(dataset), "split": split or "all", "seconds": time.perf_counter() - started,
            "summary": summarize(graded, k), "cases": graded}


def pct(value) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def format_summary(result: dict) -> str:
    s = result["summary"]
    lines = [
        f"mode={result['mode']} split={result['split']} cases={s['cases']}",
        f"  accuracy {pct(s['accuracy'])} (answerable {pct(s['answerable_accuracy'])})",
        f"  abstention recall {pct(s['abstention_recall'])}, precision {pct(s['abstention_precision'])}, "
        f"false abstentions {pct(s['false_abstention_rate'])}",
        f"  citations exact {pct(s['citation_exactness'])}, supported {pct(s['citation_support'])}",
        f"  retrieval hit@{s['retrieval_k']} {pct(s['retrieval_hit_at_k'])}, MRR {s['retrieval_mrr'] or 0:.3f}",
        f"  latency p50 {s['latency_p50_ms']:.1f} ms, p95 {s['latency_p95_ms']:.1f} ms"
        + (f"; {s['fallbacks']} answers fell back to extractive" if s["fallbacks"] else ""),
    ]
    if s.get("broad_cases"):
        lines.append(f"  broad questions {pct(s['broad_accuracy'])} of {s['broad_cases']} with every key point cited, "
                     f"p50 {s['broad_latency_p50_ms']:.1f} ms (not in the figures above)")
    for cat, c in s["by_category"].items():
        lines.append(f"  {cat:13} {pct(c['accuracy'])} of {c['cases']}, p50 {c['latency_p50_ms']:.1f} ms")
    for key in ("by_split", "by_document"):
        for name, part in s.get(key, {}).items():
            lines.append(f"  {key[3:]} {name}: " + _short(part))
    return "\n".join(lines)


def _short(s: dict) -> str:
    """One line of a part's figures: answerable correct, unanswerable refused, false refusals, latency."""
    return (f"{s['cases']} cases, accuracy {pct(s['accuracy'])}; answerable correct {pct(s['answerable_accuracy'])}, "
            f"unanswerable refused {pct(s['abstention_recall'])}, false refusals {pct(s['false_abstention_rate'])}, "
            f"p50 {s['latency_p50_ms']:.0f} ms, p95 {s['latency_p95_ms']:.0f} ms"
            + (f"; broad {pct(s['broad_accuracy'])} of {s['broad_cases']}" if s.get("broad_cases") else ""))


def check_thresholds(result: dict, thresholds: dict) -> list[str]:
    """Failures of result against thresholds[mode]: {"metric": minimum} or {"metric_max": maximum}.

    With "_split": "frozen" the metrics are those of that split (the run must include it)."""
    failures = []
    bounds = thresholds.get(result["mode"], {})
    summary = result["summary"]
    if bounds.get("_split"):
        summary = summary.get("by_split", {}).get(bounds["_split"])
        if summary is None:
            return [f"{result['mode']}: the run has no '{bounds['_split']}' split to check"]
    for name, bound in bounds.items():
        if name.startswith("_"):
            continue
        metric = name.removesuffix("_max")
        value = summary.get(metric)
        if value is None:
            continue
        if name.endswith("_max") and value > bound:
            failures.append(f"{result['mode']}: {metric} {value:.3f} above the maximum {bound}")
        elif not name.endswith("_max") and value < bound:
            failures.append(f"{result['mode']}: {metric} {value:.3f} below the threshold {bound}")
    return failures
