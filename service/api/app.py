"""The HTTP API (FastAPI). Routes parse, call the engine or the store, and return its result.

Plain `def` routes run in the thread pool, so embedding, scoring and generation never block the
event loop: /healthz keeps answering while questions are being answered.
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest.loaders import SUPPORTED_SUFFIXES
from service.api import models
from service.api.limits import BodyLimit
from service.api.metrics import Metrics
from service.api.security import RateLimited, RateLimiter, principal_of
from service.errors import (
    ConversationNotFound,
    DocumentNotFound,
    InvalidFileName,
    NotReady,
    PayloadTooLarge,
    QAError,
    StorageFull,
    UnsupportedMediaType,
    is_disk_full,
)

log = logging.getLogger(__name__)

ERRORS = {status: {"model": models.Error} for status in (401, 404, 413, 415, 422, 429, 503, 507)}


# Questions are capped far lower (max_question_chars); this only stops a huge JSON body before it is parsed.
MAX_BODY_BYTES = 1024 * 1024


def _error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}}, headers=headers)


def create_app(container) -> FastAPI:
    settings = container.settings
    metrics = Metrics()
    limiter = RateLimiter(settings.rate_limit_per_minute)
    api_keys = settings.api_key_list

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield

    app = FastAPI(
        title="Document QA",
        description="Grounded answers with exact citations: every quote is the document's text between its offsets.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.metrics = metrics

    if settings.slack_enabled:
        from slack_bolt.adapter.fastapi import SlackRequestHandler

        from service.slack.app import build_slack_app

        slack = SlackRequestHandler(build_slack_app(container, container.slack_state, metrics))

        @app.post("/slack/events", include_in_schema=False)
        async def slack_events(request: Request):
            # Bolt checks the signature and timestamp (401 otherwise) and acknowledges before answering.
            return await slack.handle(request)

    def guard(request: Request) -> None:
        limiter.check(principal_of(request, api_keys))

    # -- errors: one JSON shape everywhere ---------------------------------------------------------
    @app.exception_handler(QAError)
    async def qa_error(request: Request, exc: QAError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return _error(exc.status, exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid request')}".strip(": "))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal_error", "internal error; the details are in the service log")

    @app.middleware("http")
    async def measure(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        metrics.observe_request(
            request.method, getattr(route, "path", "unmatched"), response.status_code, time.perf_counter() - started
        )
        return response

    # -- health ------------------------------------------------------------------------------------
    @app.get("/healthz", response_model=models.Health, summary="Process is alive")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", response_model=models.Ready, responses={503: {"model": models.Error}},
             summary="Index reachable and models loaded")
    def readyz() -> dict:
        checks = readiness(container)
        failing = [f"{name}: {state}" for name, state in checks.items() if state not in ("ok", "loaded", "not configured")
                   and not name.startswith("llm")]
        if failing:
            raise NotReady("not ready: " + "; ".join(failing))
        return {"status": "ready", "checks": checks}

    @app.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
    async def prometheus() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    # -- answers -----------------------------------------------------------------------------------
    @app.post("/v1/ask", response_model=models.Answer, responses=ERRORS, dependencies=[Depends(guard)],
              summary="Ask one question")
    def ask(body: models.AskRequest) -> dict:
        answer = container.engine.ask(body.question, conversation_id=body.conversation_id, mode=body.mode,
                                      create_conversation=False)
        metrics.observe_answer(answer)
        return answer

    @app.post("/v1/chat", response_model=models.Answer, responses=ERRORS, dependencies=[Depends(guard)],
              summary="Ask in a conversation, optionally streamed as Server-Sent Events")
    def chat(body: models.ChatRequest, request: Request):
        engine = container.engine
        stream = body.stream or "text/event-stream" in request.headers.get("accept", "")
        if not stream:
            return ask(body)
        # Request errors are answered as JSON before the stream starts.
        engine.validate(body.question)
        engine.resolve_mode(body.mode)
        if body.conversation_id and not engine.conversations.exists(body.conversation_id):
            raise ConversationNotFound(f"conversation '{body.conversation_id}' not found")
        events = engine.ask_stream(body.question, conversation_id=body.conversation_id, mode=body.mode,
                                   create_conversation=False)
        return StreamingResponse(_sse(events, metrics), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    # -- conversations -----------------------------------------------------------------------------
    @app.get("/v1/conversations/{conversation_id}", response_model=models.Conversation, responses=ERRORS,
             dependencies=[Depends(guard)], summary="A conversation's turns")
    def get_conversation(conversation_id: str) -> dict:
        from service.conversations import UnknownConversation

        try:
            turns = container.conversations.turns(conversation_id)
        except UnknownConversation:
            raise ConversationNotFound(f"conversation '{conversation_id}' not found") from None
        return {"conversation_id": conversation_id, "turns": turns}

    @app.delete("/v1/conversations/{conversation_id}", status_code=204, responses=ERRORS,
                dependencies=[Depends(guard)], summary="Delete a conversation")
    def delete_conversation(conversation_id: str) -> Response:
        if not container.conversations.delete(conversation_id):
            raise ConversationNotFound(f"conversation '{conversation_id}' not found")
        return Response(status_code=204)

    # -- documents ---------------------------------------------------------------------------------
    @app.get("/v1/documents", response_model=list[models.Document], responses=ERRORS,
             dependencies=[Depends(guard)], summary="Indexed documents")
    def list_documents() -> list[dict]:
        return [{"doc_id": d.doc_id, "source": d.source, "chunks": d.chunks} for d in container.store.documents()]

    @app.post("/v1/documents", response_model=models.UploadResult, responses=ERRORS,
              dependencies=[Depends(guard)], summary="Upload and ingest files (.txt .md .html .pdf)")
    def upload_documents(files: list[UploadFile] = File(..., description="One or more files.")) -> dict:
        saved = _save_uploads(files, settings.uploads_dir, settings.max_upload_bytes)
        try:
            report = container.ingest([path for _, path in saved], progress=False)
        except StorageFull:
            indexed = {d.path for d in container.store.documents()}
            for _, path in saved:  # keep only the files whose documents made it into the index
                if str(path.resolve()) not in indexed:
                    path.unlink(missing_ok=True)
            raise
        by_path = {f.path: f for f in report.files}
        results = []
        for name, path in saved:
            f = by_path[str(path.resolve())]
            error = f.error.replace(str(path.resolve()), name) if f.error else None
            results.append({"file": name, "status": f.status, "doc_id": f.doc_id, "chunks": f.chunks, "error": error})
            if f.status == "failed":
                path.unlink(missing_ok=True)
        return {"files": results}

    @app.delete("/v1/documents/{doc_id}", status_code=204, responses=ERRORS, dependencies=[Depends(guard)],
                summary="Delete a document and its chunks")
    def delete_document(doc_id: str) -> Response:
        record = container.store.document(doc_id)
        if record is None or not container.store.delete_document(doc_id):
            raise DocumentNotFound(f"document '{doc_id}' not found")
        path = Path(record.path)
        if path.parent == settings.uploads_dir.resolve():
            path.unlink(missing_ok=True)
        container.retriever.invalidate()
        return Response(status_code=204)

    # Outermost, so oversized bodies are refused before anything reads them.
    app.add_middleware(BodyLimit, limit_for=lambda method, path: (
        settings.max_upload_bytes if (method, path) == ("POST", "/v1/documents") else MAX_BODY_BYTES))
    return app


def readiness(container) -> dict[str, str]:
    checks = {}
    try:
        container.store.generation()
        checks["index"] = "ok"
    except Exception as exc:  # any failure to reach Chroma means "not ready"
        checks["index"] = f"unreachable ({exc.__class__.__name__})"
    checks["embedding_model"] = "loaded" if "embed_model" in container.__dict__ else "not loaded"
    provider = container.llm_provider
    if not provider.configured:
        checks["llm"] = "not configured"
    else:
        checks["llm"] = "loaded" if provider.loaded else "not loaded (answers fall back to extractive)"
    return checks


def _sse(events, metrics: Metrics):
    try:
        for event in events:
            kind = event.pop("type")
            if kind == "answer":
                metrics.observe_answer(event)
            yield f"event: {kind}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"
    except QAError as exc:
        yield f"event: error\ndata: {json.dumps({'code': exc.code, 'message': exc.message})}\n\n"


def _save_uploads(files: list[UploadFile], folder: Path, max_bytes: int) -> list[tuple[str, Path]]:
    """Check every file first (name, type, size), then write them; nothing is written if any is refused."""
    checked = []
    for upload in files:
        raw = upload.filename or ""
        name = Path(raw.replace("\\", "/")).name
        if not name or name != raw or name.startswith("."):
            raise InvalidFileName(f"file name {raw!r} is not allowed: use a plain name without folders")
        if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            raise UnsupportedMediaType(
                f"{name}: unsupported file type '{Path(name).suffix or '(none)'}'; supported: {', '.join(SUPPORTED_SUFFIXES)}"
            )
        data = upload.file.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise PayloadTooLarge(f"{name} is larger than the limit of {max_bytes} bytes")
        checked.append((name, data))
    saved = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in checked:
            path = folder / name
            saved.append((name, path))
            path.write_bytes(data)
    except OSError as exc:
        for _, path in saved:  # all or nothing, as for refused files
            path.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise StorageFull("no space left to store the upload; nothing was saved or ingested") from exc
        raise
    return saved
