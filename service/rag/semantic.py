"""Soft word matching with the embedding model, for questions worded unlike the text.

"How much did Moscow lend for the rail link?" shares no stem with "Russia allocated a €1.3
billion loan to finance the railway", yet lend/loan and Moscow/Russia are close in MiniLM's
space. Word vectors are cached, so each word is embedded once per process.
"""

from __future__ import annotations

import threading
from typing import Callable, Iterable, Sequence

import numpy as np

# Cosine similarity of two single words below LOW earns no credit, above HIGH full credit.
# Measured with MiniLM: lend/loan 0.81, Moscow/Russia 0.83, unmanned/drones 0.69,
# pact/treaty 0.57, minister/president 0.50, budget/loan 0.41, Georgia/Armenia 0.43.
LOW = 0.5
HIGH = 0.8
_MAX_CACHE = 500_000


class WordVectors:
    def __init__(self, embed_batch: Callable[[list[str]], list[list[float]]]):
        self._embed_batch = embed_batch
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def ensure(self, words: Iterable[str]) -> None:
        missing = sorted({w for w in words if w not in self._cache})
        if not missing:
            return
        vectors = np.asarray(self._embed_batch(missing), dtype=np.float32)
        with self._lock:
            if len(self._cache) + len(missing) > _MAX_CACHE:
                self._cache.clear()
            self._cache.update(zip(missing, vectors))

    def matrix(self, words: Sequence[str]) -> np.ndarray:
        self.ensure(words)
        return np.stack([self._cache[w] for w in words]) if words else np.zeros((0, 1), dtype=np.float32)


def credit(similarity: float) -> float:
    return float(min(1.0, max(0.0, (similarity - LOW) / (HIGH - LOW))))


def soft_credits(vectors: WordVectors, question_words: Sequence[str], text_words: Sequence[str]) -> dict[str, float]:
    """For each question word, the credit of its closest word in the text."""
    if not question_words or not text_words:
        return {w: 0.0 for w in question_words}
    sims = vectors.matrix(list(question_words)) @ vectors.matrix(list(text_words)).T
    return {w: credit(s) for w, s in zip(question_words, sims.max(axis=1))}
