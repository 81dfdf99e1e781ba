"""Shared fixtures: a real Chroma in a temp dir, the real MiniLM model, the real article."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from service import offline  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "data" / "corpus" / "russia-iran-partnership-south-caucasus.txt"
DATASET = ROOT / "eval" / "datasets" / "article.jsonl"


def make_container(data_dir: Path, share_model_with=None, **overrides):
    """A container on data_dir; extractive answers unless the test asks for another mode.

    share_model_with: another container whose loaded embedding model this one reuses (loading costs seconds).
    """
    from service.container import Container
    from service.settings import Settings

    overrides.setdefault("answer_mode", "extractive")
    container = Container(Settings(data_dir=data_dir, **overrides))
    if share_model_with is not None:
        container.__dict__["embed_model"] = share_model_with.embed_model
    return container


@pytest.fixture(scope="session")
def article_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    shutil.copy(ARTICLE, folder / ARTICLE.name)
    return folder


@pytest.fixture(scope="session")
def indexed(tmp_path_factory, article_dir):
    """A container whose index holds the article (ingested once per test session)."""
    container = make_container(tmp_path_factory.mktemp("index"))
    report = container.ingest([article_dir])
    assert not report.failed, report.files
    return container


@pytest.fixture(scope="session")
def eval_cases() -> dict[str, dict]:
    cases = [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {c["id"]: c for c in cases}


@pytest.fixture()
def fresh(tmp_path):
    """A container with an empty index of its own."""
    return make_container(tmp_path / "index")
