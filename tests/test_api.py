"""The HTTP API through the real FastAPI app, and once through a real uvicorn on loopback."""

import json
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from eval.local_servers import serving
from service.api.app import create_app
from tests.conftest import make_container
from tests.fake_llm_server import FakeLLMServer
from tests.pdfgen import minimal_pdf


@pytest.fixture(scope="module")
def client(indexed):
    with TestClient(create_app(indexed)) as c:
        yield c


def _container(indexed, data_dir, **settings):
    container = make_container(data_dir, **settings, share_model_with=indexed)
    return container


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


def test_unknown_route_uses_the_error_shape(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_chat_follow_up_and_conversation_lifecycle(client):
    first = client.post("/v1/chat", json={"question": "What is the key missing link of the North–South corridor?"})
    assert first.status_code == 200
    cid = first.json()["conversation_id"]
    follow = client.post("/v1/chat", json={"question": "How long is it?", "conversation_id": cid})
    assert "162" in follow.json()["answer"]
    conversation = client.get(f"/v1/conversations/{cid}").json()
    assert [t["question"] for t in conversation["turns"]] == [
        "What is the key missing link of the North–South corridor?", "How long is it?"]
    assert client.delete(f"/v1/conversations/{cid}").status_code == 204
    assert client.get(f"/v1/conversations/{cid}").status_code == 404
    assert client.delete(f"/v1/conversations/{cid}").json()["error"]["code"] == "conversation_not_found"


def _sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_chat_streams_extractive_answer_as_a_final_event(client):
    response = client.post("/v1/chat", json={"question": "How long is the Resht–Astara railway?", "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _sse_events(response.text)
    assert [kind for kind, _ in events] == ["answer"]
    assert "162" in events[0][1]["answer"]


def test_chat_streams_a_draft_at_once_then_llm_tokens_then_the_answer(indexed):
    # The model takes a second to start: the draft must not wait for it.
    with FakeLLMServer("The Resht–Astara railway is 162 kilometers long [1].", delay_s=1.0) as fake:
        container = _container(indexed, indexed.settings.data_dir, llm_url=fake.url)
        with TestClient(create_app(container)) as c:
            started = time.perf_counter()
            with c.stream(
                "POST", "/v1/chat",
                json={"question": "How long is the Resht–Astara railway?", "mode": "llm"},
                headers={"Accept": "text/event-stream"},
            ) as response:
                lines = response.iter_lines()
                first = next(lines)
                draft_after_s = time.perf_counter() - started
                text = first + "\n" + "\n".join(lines)
    events = _sse_events(text)
    kinds = [kind for kind, _ in events]
    assert first == "event: draft" and draft_after_s < 1.0
    assert "162-kilometer" in events[0][1]["answer"] and events[0][1]["citations"]
    assert kinds[-1] == "answer" and kinds.count("token") > 3
    assert "".join(data["text"] for kind, data in events if kind == "token").startswith("The Resht–Astara railway")
    assert events[-1][1]["mode"] == "llm" and events[-1][1]["citations"][0]["verified"] is True


def test_documents_upload_list_ask_delete(indexed, tmp_path):
    container = _container(indexed, tmp_path / "index")
    with TestClient(create_app(container)) as c:
        note = ("bridge-note.md", "# Bridge note\n\nThe Kars bridge is 740 meters long. It opened in 2019.\n")
        response = c.post("/v1/documents", files=[("files", (note[0], note[1].encode(), "text/markdown")),
                                                   ("files", ("scan.pdf", b"%PDF-1.4 broken", "application/pdf"))])
        assert response.status_code == 200
        results = response.json()["files"]
        assert [(r["file"], r["status"]) for r in results] == [("bridge-note.md", "added"), ("scan.pdf", "failed")]
        assert "scan.pdf: corrupt or unreadable PDF" in results[1]["error"]
        assert str(tmp_path) not in results[1]["error"]  # no server paths in answers
        again = c.post("/v1/documents", files=[("files", (note[0], note[1].encode(), "text/markdown"))])
        assert again.json()["files"][0]["status"] == "unchanged"
        pdf = c.post("/v1/documents", files=[("files", ("brief.pdf", minimal_pdf(["The tunnel is 9 km long."]), "application/pdf"))])
        assert pdf.json()["files"][0]["status"] == "added"

        docs = c.get("/v1/documents").json()
        assert sorted(d["source"] for d in docs) == ["bridge-note.md", "brief.pdf"]
        answer = c.post("/v1/ask", json={"question": "How long is the Kars bridge?"}).json()
        assert "740 meters" in answer["answer"] and answer["citations"][0]["source"] == "bridge-note.md"

        doc_id = next(d["doc_id"] for d in docs if d["source"] == "bridge-note.md")
        assert c.delete(f"/v1/documents/{doc_id}").status_code == 204
        assert c.delete(f"/v1/documents/{doc_id}").json()["error"]["code"] == "document_not_found"
        assert [d["source"] for d in c.get("/v1/documents").json()] == ["brief.pdf"]


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [("table.csv", 415, "unsupported_file_type"), ("../../etc/evil.md", 422, "invalid_file_name"),
     (".hidden.md", 422, "invalid_file_name")],
)
def test_refused_uploads(indexed, tmp_path, name, status, code):
    container = _container(indexed, tmp_path / "index")
    with TestClient(create_app(container)) as c:
        response = c.post("/v1/documents", files=[("files", (name, b"some text here.", "text/plain"))])
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not (tmp_path / "index" / "uploads").exists() or not any((tmp_path / "index" / "uploads").iterdir())


def test_oversized_upload_is_refused(indexed, tmp_path):
    container = _container(indexed, tmp_path / "index", max_upload_bytes=1000)
    with TestClient(create_app(container)) as c:
        response = c.post("/v1/documents", files=[("files", ("big.txt", b"word " * 1000, "text/plain"))])
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_api_keys_guard_v1_but_not_health(indexed):
    container = _container(indexed, indexed.settings.data_dir, api_keys="key-one,key-two")
    with TestClient(create_app(container)) as c:
        question = {"question": "How long is the Resht–Astara railway?"}
        assert c.post("/v1/ask", json=question).json()["error"]["code"] == "unauthorized"
        wrong = c.post("/v1/ask", json=question, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "invalid API key"
        assert c.post("/v1/ask", json=question, headers={"Authorization": "Bearer key-two"}).status_code == 200
        assert c.get("/v1/documents").status_code == 401
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 200


def test_rate_limit_per_key(indexed):
    container = _container(indexed, indexed.settings.data_dir, api_keys="a,b", rate_limit_per_minute=2)
    with TestClient(create_app(container)) as c:
        for _ in range(2):
            assert c.get("/v1/documents", headers={"Authorization": "Bearer a"}).status_code == 200
        limited = c.get("/v1/documents", headers={"Authorization": "Bearer a"})
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        assert c.get("/v1/documents", headers={"Authorization": "Bearer b"}).status_code == 200  # per key


def test_readyz_and_metrics(client):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["index"] == "ok"
    client.post("/v1/ask", json={"question": "Who is the prime minister of Georgia?"})
    text = client.get("/metrics").text
    assert 'qa_http_requests_total{method="POST",route="/v1/ask",status="200"}' in text
    assert 'qa_answers_total{mode="extractive",abstained="true"}' in text
    assert 'qa_http_request_duration_seconds_count{route="/v1/ask"}' in text


def test_readyz_reports_an_unreachable_index(indexed, tmp_path, monkeypatch):
    container = _container(indexed, tmp_path / "index")
    with TestClient(create_app(container)) as c:
        monkeypatch.setattr(container.store, "generation", lambda: (_ for _ in ()).throw(ConnectionError("down")))
        response = c.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"] == {"code": "not_ready", "message": "not ready: index: unreachable (ConnectionError)"}


def test_llm_mode_is_unavailable_when_no_model_is_configured(indexed, monkeypatch):
    from service.rag import model_files

    monkeypatch.setattr(model_files, "parts_installed", lambda: False)
    with TestClient(create_app(indexed)) as c:
        response = c.post("/v1/ask", json={"question": "How long?", "mode": "llm"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "mode_unavailable"
    assert "answer mode 'llm' is not available" in response.json()["error"]["message"]


def test_openapi_describes_every_field(client):
    spec = client.get("/openapi.json").json()
    for name, schema in spec["components"]["schemas"].items():
        if name.startswith(("HTTPValidationError", "ValidationError", "Body_")):
            continue
        for field, prop in schema.get("properties", {}).items():
            assert prop.get("description"), f"{name}.{field} has no description"
    assert {"/v1/ask", "/v1/chat", "/v1/documents", "/v1/conversations/{conversation_id}", "/readyz"} <= set(spec["paths"])


def test_real_server_on_loopback_keeps_health_responsive_while_answering(indexed):
    with FakeLLMServer("The Resht–Astara railway is 162 kilometers long [1].", delay_s=2) as fake:
        container = _container(indexed, indexed.settings.data_dir, llm_url=fake.url)
        with serving(create_app(container)) as base, httpx.Client(base_url=base, timeout=30) as http:
            slow = {}
            asking = threading.Thread(target=lambda: slow.update(r=http.post(
                "/v1/ask", json={"question": "How long is the Resht–Astara railway?", "mode": "llm"})))
            asking.start()
            while not fake.requests:
                time.sleep(0.02)
            started = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            assert time.perf_counter() - started < 1.0  # the LLM call is still in progress
            asking.join()
            assert slow["r"].status_code == 200 and "162" in slow["r"].json()["answer"]


def test_unreachable_index_is_a_503_not_a_crash(indexed, tmp_path, monkeypatch):
    container = _container(indexed, tmp_path / "index")
    with TestClient(create_app(container)) as c:
        monkeypatch.setattr(container.store, "generation", lambda: (_ for _ in ()).throw(ConnectionError("down")))
        response = c.post("/v1/ask", json={"question": "How long is the railway?"})
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "index_unavailable"
        assert "the index is unavailable (ConnectionError)" in response.json()["error"]["message"]
        assert c.get("/healthz").status_code == 200
