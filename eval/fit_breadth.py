"""Fit the broad-question model (service/rag/breadth.json) on the tune split and the example questions.

    python -m eval.fit_breadth

Positives: the tune split's `broad` cases and the broad examples of service/rag/question_kinds.json; negatives: every
other tune question (the last turn of a follow-up) and the factoid examples. The frozen split is never read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from eval.run import BROAD, DATASETS_DIR, load_cases

# Heavier than the scorer's: 384 correlated dimensions and a few hundred questions.
L2 = 10.0


def training_set(cases: list[dict], examples: dict[str, list[str]]) -> tuple[list[str], np.ndarray]:
    from service.rag.breadth import FACTOID

    texts = [t for kind in sorted(examples) for t in examples[kind]]
    labels = [kind != FACTOID for kind in sorted(examples) for _ in examples[kind]]
    for case in cases:
        texts.append((case.get("turns") or [case["question"]])[-1])
        labels.append(case["category"] == BROAD)
    return texts, np.asarray(labels, dtype=float)


def main(argv: list[str] | None = None) -> int:
    from service import offline  # noqa: F401
    from service.rag.breadth import MODEL_FILE, BreadthModel, load_examples
    from service.rag.embeddings import load_embedding_model
    from service.rag.ranking import fit_logistic

    parser = argparse.ArgumentParser(prog="python -m eval.fit_breadth", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASETS_DIR)
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument("--l2", type=float, default=L2)
    args = parser.parse_args(argv)

    cases = load_cases(args.dataset, "tune")
    texts, y = training_set(cases, load_examples())
    x = np.asarray(load_embedding_model().get_text_embedding_batch(texts), dtype=np.float64)
    weights, bias, mean, scale = fit_logistic(x, y, args.l2)
    model = BreadthModel(weights, bias, mean, scale)
    wrong = [t for t, label, v in zip(texts, y, x) if (model.probability(v) >= model.threshold) != bool(label)]
    args.out.write_text(model.to_json(fitted_on={"split": "tune", "questions": len(texts), "broad": int(y.sum()),
                                                 "l2": args.l2, "command": "python -m eval.fit_breadth"}),
                        encoding="utf-8")
    print(f"fitted on {len(texts)} questions ({int(y.sum())} broad); {len(wrong)} misread by the fit -> {args.out}")
    for t in wrong:
        print(f"  misread: {t}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
