"""Broad questions: a summary, the author's argument, implications, a comparison, "list all …".

A question is told broad or factoid by a logistic model over its MiniLM vector, fitted by `python -m
eval.fit_breadth` on the tune split's questions and on the example questions of `question_kinds.json` (none of them
from the evaluation set); the weights are in `breadth.json` beside this file. No keyword list decides: new wording
is recognised as far as the embedding carries it. The kind of a broad question (which decides how its digest is
chosen, service/rag/digest.py) is the one whose examples' mean vector is nearest.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from service.rag.ranking import CLIP

EXAMPLES_FILE = Path(__file__).with_name("question_kinds.json")
MODEL_FILE = Path(__file__).with_name("breadth.json")
FACTOID = "factoid"
BROAD_KINDS = ("summary", "argument", "implications", "comparison", "list")


@dataclass(frozen=True)
class Breadth:
    kind: str  # one of BROAD_KINDS, or FACTOID
    probability: float  # that the question is broad
    similarity: float  # to the mean vector of its kind's examples

    @property
    def broad(self) -> bool:
        return self.kind != FACTOID


@dataclass(frozen=True)
class BreadthModel:
    """The fitted logistic model: weights over the standardised question vector."""

    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    threshold: float = 0.5

    def probability(self, vector: np.ndarray) -> float:
        z = self.bias + float(np.clip((vector - self.mean) / self.scale, -CLIP, CLIP) @ self.weights)
        return 1.0 / (1.0 + np.exp(-max(-30.0, min(30.0, z))))

    def to_json(self, **about) -> str:
        return json.dumps({"weights": self.weights.tolist(), "bias": self.bias, "mean": self.mean.tolist(),
                           "scale": self.scale.tolist(), "threshold": self.threshold, **about}) + "\n"

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> "BreadthModel":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(np.asarray(data["weights"], dtype=np.float32), float(data["bias"]),
                   np.asarray(data["mean"], dtype=np.float32), np.asarray(data["scale"], dtype=np.float32),
                   float(data["threshold"]))


class QuestionKinds:
    """Nearest-example classifier of questions; the examples are embedded once, on first use."""

    def __init__(self, embed_texts: Callable[[list[str]], list[list[float]]], examples: dict[str, list[str]] | None = None,
                 model: BreadthModel | None = None):
        self.embed_texts = embed_texts
        self.examples = examples if examples is not None else load_examples()
        unknown = set(self.examples) - {FACTOID, *BROAD_KINDS}
        if unknown or not set(BROAD_KINDS) & set(self.examples):
            raise ValueError(f"question kinds must be {FACTOID!r} and some of {BROAD_KINDS}; got {sorted(self.examples)}")
        self.model = model if model is not None else BreadthModel.load()
        self._labels: list[str] = []
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> np.ndarray:
        """One unit vector per broad kind: the mean of its examples' vectors, in which their topics average out
        and their form remains (the nearest single example is mostly the one on the nearest topic)."""
        with self._lock:
            if self._vectors is None:
                self._labels = [kind for kind in BROAD_KINDS if kind in self.examples]
                centroids = []
                for kind in self._labels:
                    mean = np.asarray(self.embed_texts(self.examples[kind]), dtype=np.float32).mean(axis=0)
                    centroids.append(mean / max(float(np.linalg.norm(mean)), 1e-9))
                self._vectors = np.asarray(centroids)
            return self._vectors

    def classify(self, question: str, vector: Sequence[float] | None = None) -> Breadth:
        centroids = self._ensure()
        q = np.asarray(vector if vector is not None else self.embed_texts([question])[0], dtype=np.float32)
        probability = self.model.probability(q)
        if probability < self.model.threshold:
            return Breadth(FACTOID, probability, 0.0)
        sims = centroids @ q
        best = int(np.argmax(sims))
        return Breadth(self._labels[best], probability, float(sims[best]))


def load_examples(path: Path = EXAMPLES_FILE) -> dict[str, list[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {kind: list(texts) for kind, texts in data.items() if not kind.startswith("_")}
