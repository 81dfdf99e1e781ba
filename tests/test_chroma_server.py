"""Server mode: a real `chroma run` on loopback instead of the embedded database."""

import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from eval.local_servers import ChromaServer
from tests.conftest import ARTICLE, make_container

@pytest.fixture()
def chroma_server(tmp_path):
    server = ChromaServer(tmp_path / "chroma-data")
    server.start()
    yield server
    server.stop()


def test_ingest_and_answer_through_a_chroma_server_and_survive_its_restart(indexed, chroma_server, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(ARTICLE, corpus / ARTICLE.name)
    container = make_container(
        tmp_path / "local", share_model_with=indexed, chroma_url=f"http://127.0.0.1:{chroma_server.port}"
    )
    report = container.ingest([corpus])
    assert not report.failed
    assert not (tmp_path / "local" / "chroma").exists()  # nothing went to the embedded database

    with TestClient(create_app(container)) as client:
        question = {"question": "How long is the Resht–Astara railway?"}
        assert "162" in client.post("/v1/ask", json=question).json()["answer"]
        assert client.get("/readyz").status_code == 200

        chroma_server.stop()
        down = client.post("/v1/ask", json=question)
        assert down.status_code == 503 and down.json()["error"]["code"] == "index_unavailable"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "index: unreachable" in ready.json()["error"]["message"]
        assert client.get("/healthz").status_code == 200

        chroma_server.start()  # same data, same port: answers resume without restarting the service
        assert client.get("/readyz").status_code == 200
        again = client.post("/v1/ask", json=question)
        assert again.status_code == 200 and "162" in again.json()["answer"]


def test_a_replica_sees_documents_another_one_ingested(indexed, chroma_server, tmp_path):
    url = f"http://127.0.0.1:{chroma_server.port}"
    writer = make_container(tmp_path / "a", share_model_with=indexed, chroma_url=url)
    reader = make_container(tmp_path / "b", share_model_with=indexed, chroma_url=url)
    first = tmp_path / "first.md"
    first.write_text("# Ports\n\nThe port of Poti has 15 berths.\n", encoding="utf-8")
    writer.ingest([first])
    assert "15 berths" in reader.engine.ask("How many berths does the port of Poti have?")["answer"]

    second = tmp_path / "second.md"
    second.write_text("# Tunnels\n\nThe Rikoti tunnel is 1.7 kilometers long.\n", encoding="utf-8")
    writer.ingest([second])  # the reader's BM25 and chunk table are now stale
    time.sleep(1.1)  # replicas check the index generation at most once a second
    answer = reader.engine.ask("How long is the Rikoti tunnel?")
    assert "1.7 kilometers" in answer["answer"] and answer["citations"][0]["source"] == "second.md"
