"""Smoke test with the real local model (Qwen2.5-Coder-1.5B-Instruct GGUF from the pinned part packages)."""

import pytest

from service.rag import model_files
from tests.conftest import ARTICLE, make_container


@pytest.fixture(scope="module")
def local_llm(indexed):
    assert model_files.parts_installed(), "the model part packages are installed by `make setup`"
    container = make_container(indexed.settings.data_dir, answer_mode="auto", share_model_with=indexed)
    return container


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How long is the Resht–Astara railway?", "162"),
        ("Who is the Kremlin's special representative for INSTC development?", "Savelyev"),
    ],
)
def test_local_model_answers_with_exact_citations(local_llm, question, expected):
    answer = local_llm.engine.ask(question)  # auto: the local model is installed
    assert answer["mode"] == "llm", answer["notice"]
    assert expected in answer["answer"]
    text = ARTICLE.read_text(encoding="utf-8")
    assert answer["citations"]
    for c in answer["citations"]:
        assert text[c["start_char"] : c["end_char"]] == c["quote"]
        assert c["verified"] is True
    assert expected in " ".join(c["quote"] for c in answer["citations"])
    assert (local_llm.settings.models_dir / model_files.MODEL_FILE).stat().st_size == model_files.MODEL_BYTES
