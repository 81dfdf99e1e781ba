"""Fit the answer scorer on the tune split: `python -m eval.fit` writes service/rag/scorer.json.

1. Every tune case is retrieved as the service retrieves it, and each candidate sentence's evidence is
   measured (service/rag/evidence.py). A candidate is a positive when it overlaps the case's gold span.
2. A logistic model over that evidence is fitted (service/rag/ranking.py).
3. Each case is then answered with the fitted model and no threshold; the abstention threshold is one with the best
   accuracy (the share of all cases answered right or rightly refused) and, among those, the best balanced score.
4. With --llm, every case is also answered by the model with no gate and no fallback. From what the model and
   verification then decide, two more thresholds are chosen the same way: the fallback (the least probability at
   which the passages are shown when the model's answer cannot be verified; below it the question is refused),
   then the gate (the least probability at which the model is asked at all).

Frozen cases are never read here: they only measure.

    QA_DATA_DIR=.eval-index python -m eval.fit --corpus data/corpus --corpus eval/corpus
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

from eval.metrics import answer_correct, spans_overlap
from eval.run import DATASETS_DIR, load_cases

L2 = 1.0


def _turns(case: dict) -> tuple[str, list[str]]:
    turns = case.get("turns") or [case["question"]]
    return turns[-1], list(turns[:-1])


def _is_gold(chunk, gold: list[dict]) -> bool:
    return any(g["source"] == chunk.source and spans_overlap(chunk.start_char, chunk.end_char, g["start_char"],
                                                              g["end_char"]) for g in gold)


_VECTORS: dict = {}


def _word_vectors(container):
    """Word vectors of the container's embedding model (not its engine's: the engine needs a fitted scorer)."""
    from service.rag.semantic import WordVectors

    return _VECTORS.setdefault(id(container), WordVectors(container.embed_texts))


def gather_examples(container, cases: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """One row of features per candidate sentence of every case, labelled 1 when it overlaps the gold span."""
    from service.rag import analysis, evidence, selection
    from service.rag.engine import search_queries
    from service.rag.ranking import features

    retriever, vectors = container.retriever, _word_vectors(container)
    rows, labels = [], []
    for n, case in enumerate(cases, 1):
        question, history = _turns(case)
        candidates = retriever.retrieve(*search_queries(question, history))
        corpus = retriever.corpus()
        pool = selection.answer_pool(candidates, corpus)
        for e in evidence.gather(analysis.analyze(question, history), pool, corpus, vectors):
            rows.append(features(e))
            labels.append(0.0 if case.get("unanswerable") else float(_is_gold(e.chunk, case.get("gold", []))))
        print(f"\rgathering evidence: {n}/{len(cases)} cases", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return np.asarray(rows, dtype=float), np.asarray(labels, dtype=float)


def outcomes(container, cases: list[dict], scorer) -> list[tuple[bool, float, bool]]:
    """(unanswerable, best probability, answer correct if given) for every case, answered with no threshold."""
    from service.rag import analysis, selection
    from service.rag.engine import search_queries
    from service.rag.text import prose

    retriever = container.retriever
    out = []
    for case in cases:
        question, history = _turns(case)
        chosen = selection.select(
            analysis.analyze(question, history), retriever.retrieve(*search_queries(question, history)),
            retriever.corpus(), scorer, threshold=0.0, max_sentences=container.settings.max_answer_sentences,
            vectors=_word_vectors(container),
        )
        text = prose(" ".join(c.text for c in chosen.chunks))
        correct = bool(chosen.chunks) and answer_correct(text, case.get("answer_patterns", []))
        out.append((bool(case.get("unanswerable")), chosen.support, correct))
    return out


def _row(threshold: float, answerable_right: int, refused: int, false_refusals: int, n_answerable: int,
         n_unanswerable: int) -> dict:
    n_answerable, n_unanswerable = max(1, n_answerable), max(1, n_unanswerable)
    return {"threshold": threshold, "right": answerable_right + refused, "answerable_right": answerable_right,
            "unanswerable_refused": refused, "false_refusals": false_refusals,
            "accuracy": round((answerable_right + refused) / (n_answerable + n_unanswerable), 4),
            "balanced": round((answerable_right / n_answerable + refused / n_unanswerable) / 2, 4)}


def sweep(results: list[tuple[bool, float, bool]]) -> list[dict]:
    """Cases right at each candidate threshold (each distinct best probability, and 0).

    "accuracy" is the share of all cases right: every question costs the same, whether it was wrongly refused or
    wrongly answered. "balanced" (the mean of the share of answerable cases answered right and the share of
    unanswerable cases refused) is reported beside it."""
    n_answerable = sum(not unans for unans, _, _ in results)
    n_unanswerable = sum(unans for unans, _, _ in results)
    rows = []
    for t in sorted({0.0, *(p for _, p, _ in results)}):
        answered_right = sum(ok and p >= t for unans, p, ok in results if not unans)
        refused = sum(p < t for unans, p, _ in results if unans)
        false_refusals = sum(p < t for unans, p, _ in results if not unans)
        rows.append(_row(t, answered_right, refused, false_refusals, n_answerable, n_unanswerable))
    return rows


# What a threshold is chosen to maximise: accuracy over all cases, so that every question costs the same, whether
# it was wrongly refused or wrongly answered. Accuracy is flat over a wide range of thresholds (each one more
# refusal trades an answerable case for an unanswerable one); within that range the threshold with the best balanced
# score (the mean of the shares of answerable cases answered right and of unanswerable cases refused) is taken,
# so that a refusal that costs nothing in accuracy is made. See docs/abstention.md.
CRITERION = "accuracy"
TIE_BREAK = "balanced"
# Thresholds scoring within this of the best count as equally good (on 143 cases, about one case).
TOLERANCE = 0.01


def choose_threshold(rows: list[dict], tolerance: float = TOLERANCE) -> float:
    """The middle of the thresholds that score within `tolerance` of the best accuracy and, among those, best on the
    balanced score, so that the choice does not sit on one case of what the tune split happened to contain."""
    best = max(r[CRITERION] for r in rows)
    good = [r for r in rows if r[CRITERION] >= best - tolerance]
    best_tie = max(r[TIE_BREAK] for r in good)
    chosen = [r["threshold"] for r in good if r[TIE_BREAK] >= best_tie - 1e-9]
    return round((min(chosen) + max(chosen)) / 2, 4)


def llm_outcomes(container, cases: list[dict], scorer) -> list[tuple[bool, bool, bool, bool]]:
    """(unanswerable, model answered, its answer correct, extractive answer correct) of every case. The llm mode is
    run with the model asked whatever the retrieval evidence (gate 0) and no fallback, so what the model and
    verification decide on their own is seen; the extractive answer is what a fallback would show."""
    from dataclasses import replace

    from eval.run import run_case

    engine = container.engine
    out = []
    for n, case in enumerate(cases, 1):
        engine.scorer = replace(scorer, llm_threshold=0.0, fallback_threshold=NEVER)
        model = run_case(engine, case, "llm")["answer"]
        engine.scorer = scorer
        extractive = run_case(engine, case, "extractive")["answer"]
        out.append((bool(case.get("unanswerable")), not model["abstained"], _correct(model, case),
                    _correct(extractive, case)))
        print(f"\rllm answers: {n}/{len(cases)} cases", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return out


# A probability no sentence reaches: the threshold switched off.
NEVER = 2.0


def _correct(answer: dict, case: dict) -> bool:
    return not answer["abstained"] and answer_correct(answer["answer"], case.get("answer_patterns", []))


class LlmThresholds(NamedTuple):
    gate: float  # below it the question is refused without asking the model
    fallback: float  # the passages stand in for an unverifiable model answer at or above it


def llm_sweep(supports: list[float], llm: list[tuple[bool, bool, bool, bool]], settings: list[LlmThresholds],
              varies: str) -> list[dict]:
    """Cases right under each setting of the llm mode's thresholds; each row's "threshold" is the `varies` one.

    Below the gate the question is refused; at or above it the model's verified answer stands, and when there is
    none the extractive answer is shown if the best passage reaches the fallback threshold, else the question is
    refused."""
    cases = [(p, *outcome) for p, outcome in zip(supports, llm)]
    n_answerable = sum(not c[1] for c in cases)
    n_unanswerable = sum(c[1] for c in cases)
    rows = []
    for t in settings:
        right = refused = false_refusals = 0
        for p, unans, answered, model_ok, extractive_ok in cases:
            if p < t.gate or (not answered and p < t.fallback):
                refused += unans
                false_refusals += not unans
            elif not unans:
                right += model_ok if answered else extractive_ok
        rows.append(_row(getattr(t, varies), right, refused, false_refusals, n_answerable, n_unanswerable))
    return rows


def fit_llm(supports: list[float], llm: list[tuple[bool, bool, bool, bool]], threshold: float
            ) -> tuple[LlmThresholds, dict[str, list[dict]]]:
    """The llm mode's thresholds, one at a time: the fallback (with every question put to the model), then the
    gate (with that fallback)."""
    above = sorted({threshold, NEVER, *(p for p in supports if p >= threshold)})
    below = sorted({0.0, *(p for p in supports if p <= threshold)})
    rows = {"fallback": llm_sweep(supports, llm, [LlmThresholds(0.0, f) for f in above], "fallback")}
    fallback = choose_threshold(rows["fallback"])
    rows["gate"] = llm_sweep(supports, llm, [LlmThresholds(g, fallback) for g in below], "gate")
    return LlmThresholds(choose_threshold(rows["gate"]), fallback), rows


def main(argv: list[str] | None = None) -> int:
    from service import offline  # noqa: F401
    from service.container import Container
    from service.rag.ranking import FEATURES, SCORER_FILE, Scorer, fit_logistic
    from service.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m eval.fit", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASETS_DIR)
    parser.add_argument("--corpus", type=Path, action="append", default=[], help="ingest these paths first")
    parser.add_argument("--out", type=Path, default=SCORER_FILE)
    parser.add_argument("--l2", type=float, default=L2, help="L2 penalty on the standardised weights")
    parser.add_argument("--llm", action="store_true",
                        help="also fit the llm mode's gate: answers every tune case with the model (minutes)")
    args = parser.parse_args(argv)

    container = Container(Settings(answer_mode="llm" if args.llm else "extractive"))
    if args.corpus:
        report = container.ingest(args.corpus)
        if report.failed:
            print(report.summary(), file=sys.stderr)
            return 1
    container.retriever.corpus()
    cases = load_cases(args.dataset, "tune")
    x, y = gather_examples(container, cases)
    weights, bias, mean, scale = fit_logistic(x, y, args.l2)
    scorer = Scorer(tuple(weights), bias, tuple(mean), tuple(scale), threshold=0.0, llm_threshold=0.0)
    extractive = outcomes(container, cases, scorer)
    rows = sweep(extractive)
    threshold = choose_threshold(rows)
    scorer = Scorer(tuple(weights), bias, tuple(mean), tuple(scale), threshold, llm_threshold=threshold)
    llm_rows = {}
    if args.llm:
        chosen, llm_rows = fit_llm([p for _, p, _ in extractive], llm_outcomes(container, cases, scorer), threshold)
        scorer = Scorer(tuple(weights), bias, tuple(mean), tuple(scale), threshold, chosen.gate, chosen.fallback)
    args.out.write_text(scorer.to_json(fitted_on={
        "split": "tune", "cases": len(cases), "candidates": int(len(y)), "positives": int(y.sum()), "l2": args.l2,
        "command": "python -m eval.fit",
    }), encoding="utf-8")

    print(f"fitted on {len(cases)} tune cases, {len(y)} candidate sentences ({int(y.sum())} gold)")
    print("feature         weight (per standard deviation)")
    for name, w in sorted(zip(FEATURES, weights), key=lambda nw: -abs(nw[1])):
        print(f"  {name:13} {w:+.3f}")
    print(f"  {'bias':13} {bias:+.3f}")
    _print_rows(rows, threshold)
    for name, chosen_value, meaning in [
        ("fallback", scorer.fallback_threshold, "an unverifiable model answer gives way to the passages at or above it"),
        ("gate", scorer.llm_threshold, "the model is asked at or above it"),
    ]:
        if name in llm_rows:
            print(f"llm {name} ({meaning}): {chosen_value}")
            _print_rows(llm_rows[name], chosen_value)
    print(f"threshold {threshold}, llm gate {scorer.llm_threshold}, fallback {scorer.fallback_threshold} "
          f"-> {args.out}")
    return 0


def _print_rows(rows: list[dict], chosen: float) -> None:
    """The sweep near its best score."""
    print("threshold  accuracy  balanced  right  answerable right  unanswerable refused  false refusals")
    best = max(r[CRITERION] for r in rows)
    below = max((r for r in rows if r["threshold"] <= chosen), key=lambda r: r["threshold"])
    for r in rows:
        if r[CRITERION] >= best - 0.03:
            mark = "  <- chosen" if r is below else ""
            print(f"{r['threshold']:9.3f}  {r['accuracy']:8.3f}  {r['balanced']:8.3f}  {r['right']:5}  {r['answerable_right']:16}  "
                  f"{r['unanswerable_refused']:20}  {r['false_refusals']:14}{mark}")


if __name__ == "__main__":
    raise SystemExit(main())
