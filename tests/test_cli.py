"""The `qa` command as users and scripts run it: a real process, real index, real model."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ARTICLE

QA = Path(sys.executable).parent / "qa"


def run_qa(data_dir: Path, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "QA_DATA_DIR": str(data_dir), "QA_ANSWER_MODE": "extractive"}
    return subprocess.run(
        [str(QA), *args], env=env, capture_output=True, text=True, timeout=300, input=input_text
    )


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("cli-index")
    corpus = tmp_path_factory.mktemp("cli-corpus")
    shutil.copy(ARTICLE, corpus / ARTICLE.name)
    (corpus / "empty.md").write_bytes(b"")
    result = run_qa(data_dir, "ingest", str(corpus))
    return data_dir, corpus, result


def test_ingest_reports_bad_files_and_still_ingests_the_rest(cli_index):
    _, corpus, result = cli_index
    assert result.returncode == 1
    assert f"error: {corpus / 'empty.md'}: file is empty" in result.stderr
    assert "added" in result.stdout and ARTICLE.name in result.stdout
    assert "documents: 1 added, 0 updated, 0 unchanged, 1 failed" in result.stderr


def test_documents_list_json(cli_index):
    data_dir, _, _ = cli_index
    result = run_qa(data_dir, "documents", "list", "--json")
    assert result.returncode == 0, result.stderr
    docs = json.loads(result.stdout)
    assert len(docs) == 1
    assert set(docs[0]) == {"doc_id", "source", "chunks"}
    assert docs[0]["source"] == ARTICLE.name and docs[0]["chunks"] > 80


def test_ask_json_quotes_exactly(cli_index):
    data_dir, _, _ = cli_index
    result = run_qa(data_dir, "ask", "--json", "--mode", "extractive", "What loan did Russia allocate in 2023?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert "1.3 billion" in answer["answer"]
    text = ARTICLE.read_text(encoding="utf-8")
    for c in answer["citations"]:
        assert text[c["start_char"] : c["end_char"]] == c["quote"]


def test_ask_batch_answers_in_input_order_and_reports_bad_lines(cli_index, tmp_path):
    data_dir, _, _ = cli_index
    batch = tmp_path / "questions.jsonl"
    batch.write_text(
        "\n".join(
            [
                json.dumps({"id": "q1", "question": "How long is the Resht–Astara railway?"}),
                "not json",
                json.dumps({"id": 7, "turns": ["What rail gauge does Russia use?", "And Iran?"]}),
                json.dumps({"id": "q3", "question": "Who is the prime minister of Georgia?"}),
            ]
        ),
        encoding="utf-8",
    )
    result = run_qa(data_dir, "ask", "--batch", str(batch))
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.get("id") for line in lines] == ["q1", None, 7, "q3"]
    assert "162" in lines[0]["answer"]
    assert "invalid JSON" in lines[1]["error"]
    assert "1,435" in lines[2]["answer"]
    assert lines[3]["abstained"] is True
    assert f"{batch}:2: invalid JSON" in result.stderr


def test_unknown_document_delete_fails_clearly(cli_index):
    data_dir, _, _ = cli_index
    result = run_qa(data_dir, "documents", "delete", "0000000000000000")
    assert result.returncode == 1
    assert "no document with id 0000000000000000" in result.stderr


def test_llm_mode_with_a_broken_model_answers_extractively_and_says_why(cli_index, tmp_path):
    data_dir, _, _ = cli_index
    bogus = tmp_path / "broken.gguf"
    bogus.write_bytes(b"GGUF but not really")
    env_result = subprocess.run(
        [str(QA), "ask", "--json", "--mode", "llm", "How long is the Resht–Astara railway?"],
        env={**os.environ, "QA_DATA_DIR": str(data_dir), "QA_LLM_GGUF": str(bogus)},
        capture_output=True, text=True, timeout=300,
    )
    assert env_result.returncode == 0, env_result.stderr
    answer = json.loads(env_result.stdout)
    assert answer["mode"] == "extractive"
    assert "the language model is unavailable" in answer["notice"] and "162" in answer["answer"]


def test_invalid_setting_is_a_clear_error(tmp_path):
    result = subprocess.run([str(QA), "documents", "list"], env={**os.environ, "QA_DATA_DIR": str(tmp_path), "QA_TOP_K": "many"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "error: invalid setting QA_TOP_K: Input should be a valid integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_terminal_answer_shows_its_notice_and_escapes_it():
    from service.cli import format_answer

    text = format_answer({"answer": "A. [1]", "notice": "a digest of evil\x1b[2J.txt", "related": [],
                          "citations": [{"n": 1, "source": "a.txt", "start_char": 0, "end_char": 2}]})
    assert text.splitlines()[:2] == ["A. [1]", "(a digest of evil\\x1b[2J.txt)"]  # the escape shown, not sent


def test_summarize_writes_every_stored_summary_once_then_has_nothing_to_do(tmp_path):
    from tests.fake_llm_server import FakeLLMServer

    data_dir = tmp_path / "index"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(ARTICLE, corpus / ARTICLE.name)
    assert run_qa(data_dir, "ingest", str(corpus)).returncode == 0
    with FakeLLMServer("The documents don't say.") as fake:
        env = {**os.environ, "QA_DATA_DIR": str(data_dir), "QA_LLM_URL": fake.url}
        first = subprocess.run([str(QA), "summarize"], env=env, capture_output=True, text=True, timeout=300)
        assert first.returncode == 0, first.stderr
        written = len(fake.requests)
        assert written > 1 and f"summaries written: {written} of {written}" in first.stderr
        again = subprocess.run([str(QA), "summarize"], env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0 and len(fake.requests) == written

