"""Calibrate the abstention threshold (QA_ABSTAIN_BELOW) on an evaluation split.

Every case is answered once with no threshold; the table then shows, for each candidate
threshold, how many answerable cases stay correct, how many are falsely abstained, and how
many unanswerable cases are abstained. Pick the threshold from the dev split, report on test.
"""

from __future__ import annotations

from eval.metrics import answer_correct
from service.rag import extractive
from service.rag.engine import search_queries

THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)


def calibrate(container, cases: list[dict]) -> list[dict]:
    engine, retriever = container.engine, container.retriever
    container.warm_up()
    outcomes = []
    for case in cases:
        turns = case.get("turns") or [case["question"]]
        question, history = turns[-1], turns[:-1]
        selection = extractive.select(
            question, history, retriever.retrieve(*search_queries(question, history)), retriever.corpus(),
            abstain_below=0.0, max_sentences=container.settings.max_answer_sentences, vectors=engine.word_vectors,
        )
        text = " ".join(chunk.text for chunk in selection.chunks)
        correct = not selection.abstained and answer_correct(text, case.get("answer_patterns", []))
        outcomes.append((bool(case.get("unanswerable")), selection, correct))
    rows = []
    for threshold in THRESHOLDS:
        answerable = [(s, ok) for unans, s, ok in outcomes if not unans]
        unanswerable = [s for unans, s, _ in outcomes if unans]
        rows.append({
            "threshold": threshold,
            "answerable_correct": sum(ok and s.support >= threshold for s, ok in answerable),
            "answerable": len(answerable),
            "false_abstentions": sum(s.abstained or s.support < threshold for s, _ in answerable),
            "unanswerable_abstained": sum(s.abstained or s.support < threshold for s in unanswerable),
            "unanswerable": len(unanswerable),
        })
    return rows


def format_table(rows: list[dict], current: float) -> str:
    lines = ["threshold  answerable correct  false abstentions  unanswerable abstained  all correct"]
    for r in rows:
        total = r["answerable"] + r["unanswerable"]
        good = r["answerable_correct"] + r["unanswerable_abstained"]
        mark = "  <- current" if abs(r["threshold"] - current) < 1e-9 else ""
        lines.append(
            f"{r['threshold']:9.2f}  {r['answerable_correct']:>8}/{r['answerable']:<9} {r['false_abstentions']:>17}"
            f"  {r['unanswerable_abstained']:>14}/{r['unanswerable']:<7}  {good / max(total, 1):10.1%}{mark}"
        )
    return "\n".join(lines)
