"""The fitted scorer: the probability that a retrieved sentence answers the question, from its evidence.

One logistic model over the signals of `evidence.py` ranks the sentences and decides abstention: the best
sentence answers when its probability reaches the fitted threshold. Its weights and thresholds are not set by
hand: `python -m eval.fit` fits them on the tune split of the evaluation set and writes `scorer.json` beside this
file (see docs/abstention.md).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from service.rag.evidence import Evidence

SCORER_FILE = Path(__file__).with_name("scorer.json")
# Standardised signals are clipped to this many standard deviations, in fitting and in scoring alike: a signal that is
# rare in the tune split (a near-synonym match, say) would otherwise outweigh all the others where it is large.
CLIP = 3.0

# The signals, in the order of the weight vector.
FEATURES = ("own", "context", "soft", "names", "type_missing", "novelty", "retrieval", "cosine", "front_matter")


def features(e: Evidence) -> list[float]:
    return [e.own, e.context, e.soft, e.names, float(e.type_missing), e.novelty, e.retrieval, e.cosine,
            float(e.front_matter)]


@dataclass(frozen=True)
class Scorer:
    weights: tuple[float, ...]  # per feature, on standardised features
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float  # the best sentence answers at or above this probability (extractive mode)
    llm_threshold: float  # the model is asked at or above this one; verification decides the rest
    # When the model's answer cannot be used, the extractive answer stands in for it only at or above this
    # probability (and the threshold): a model that found no verifiable answer is evidence that there is none.
    fallback_threshold: float = 0.0

    def probability(self, e: Evidence) -> float:
        z = self.bias + sum(w * _clip((x - m) / s) for w, x, m, s in zip(self.weights, features(e), self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def score(self, evidence: Sequence[Evidence]) -> None:
        for e in evidence:
            e.probability = self.probability(e)

    def to_json(self, **about) -> str:
        return json.dumps({
            "features": list(FEATURES), "weights": list(self.weights), "bias": self.bias, "mean": list(self.mean),
            "scale": list(self.scale), "threshold": self.threshold, "llm_threshold": self.llm_threshold,
            "fallback_threshold": self.fallback_threshold, **about,
        }, indent=2) + "\n"

    @classmethod
    def load(cls, path: Path = SCORER_FILE) -> "Scorer":
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted on features {data['features']}, expected {list(FEATURES)}: "
                             "refit it with `python -m eval.fit`")
        return cls(tuple(data["weights"]), data["bias"], tuple(data["mean"]), tuple(data["scale"]),
                   data["threshold"], data["llm_threshold"], data.get("fallback_threshold", 0.0))


def _clip(z: float) -> float:
    return max(-CLIP, min(CLIP, z))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50
                 ) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """L2-regularised logistic regression by Newton's method on standardised features.

    Returns (weights, bias, mean, scale). Deterministic: the same data always gives the same model.
    """
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), np.clip((x - mean) / scale, -CLIP, CLIP)])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -30, 30)))
        gradient = z.T @ (p - y) + penalty * beta
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    return beta[1:], float(beta[0]), mean, scale
