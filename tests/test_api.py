"""The HTTP API through the real FastAPI app, and once through a real uvicorn on loopback."""

import socket
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app


@pytest.fixture(scope="module")
def client(indexed):
    with TestClient(create_app(indexed)) as c:
        yield c


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_ask_returns_a_cited_answer(client):
    response = client.post("/v1/ask", json={"question": "How long is the Resht–Astara railway?"})
    assert response.status_code == 200
    body = response.json()
    assert "162" in body["answer"]
    assert body["citations"][0]["quote"] in body["answer"]
    assert body["abstained"] is False


@pytest.mark.parametrize(
    ("payload", "status", "code", "message"),
    [
        ({"question": "   "}, 422, "invalid_question", "the question is empty"),
        ({"question": "x" * 5000}, 422, "invalid_question", "the question is too long (5000 characters; limit 2000)"),
        ({}, 422, "invalid_request", "question: Field required"),
        ({"question": "How long?", "mode": "poetry"}, 422, "invalid_request", "mode:"),
        ({"question": "How long?", "conversation_id": "nope"}, 404, "conversation_not_found", "conversation 'nope'"),
    ],
)
def test_errors_have_one_json_shape(client, payload, status, code, message):
    response = client.post("/v1/ask", json=payload)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert message in error["message"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_server_on_loopback(indexed):
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(indexed), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            assert http.get("/healthz").status_code == 200
            response = http.post("/v1/ask", json={"question": "When was the Resht–Astara railway due to be completed?"})
            assert response.status_code == 200
            assert "2028" in response.json()["answer"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_llm_mode_is_unavailable_when_no_model_is_configured(indexed, monkeypatch):
    from service.rag import model_files

    monkeypatch.setattr(model_files, "parts_installed", lambda: False)
    with TestClient(create_app(indexed)) as c:
        response = c.post("/v1/ask", json={"question": "How long?", "mode": "llm"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "mode_unavailable"
    assert "answer mode 'llm' is not available" in response.json()["error"]["message"]
