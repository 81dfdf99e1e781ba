"""The HTTP API (FastAPI). Routes parse, call the engine, and return its answer."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from service.errors import QAError


class AskRequest(BaseModel):
    question: str = Field(..., description="The question, in plain language.")
    mode: Literal["auto", "extractive", "llm"] | None = Field(
        None, description="Answer mode; default from the QA_ANSWER_MODE setting."
    )
    conversation_id: str | None = Field(None, description="Continue this conversation (follow-up questions).")


class Citation(BaseModel):
    n: int = Field(..., description="Citation number, as [n] in the answer.")
    source: str = Field(..., description="File name of the cited document.")
    doc_id: str = Field(..., description="Stable id of the cited document.")
    quote: str = Field(..., description="Verbatim text of the document between start_char and end_char.")
    start_char: int = Field(..., description="Start offset of the quote in the document's text.")
    end_char: int = Field(..., description="End offset (exclusive) of the quote in the document's text.")
    score: float = Field(
        ..., description="Support: share of the question the passage covers (extractive) or MiniLM similarity "
        "of the answer sentence to the passage (llm)."
    )
    verified: bool = Field(..., description="The passage was checked to hold what the answer says.")


class Unsupported(BaseModel):
    sentence: str = Field(..., description="A sentence the model wrote that the sources do not back; not shown.")
    reason: str = Field(..., description="Why it was dropped.")


class Answer(BaseModel):
    answer: str = Field(..., description="The answer, with [n] markers pointing at citations.")
    abstained: bool = Field(..., description="True when the documents do not answer the question.")
    mode: str = Field(..., description="The answer mode used.")
    conversation_id: str = Field(..., description="Conversation this turn belongs to.")
    citations: list[Citation]
    timings_ms: dict[str, float] = Field(
        ..., description="retrieve, answer and total time in milliseconds; in llm mode also generate and first_token."
    )
    unsupported: list[Unsupported] = Field(
        default_factory=list, description="LLM sentences dropped by verification (empty in extractive mode)."
    )
    notice: str | None = Field(
        None, description="Why the answer is not in the requested mode (e.g. the LLM is unavailable), if it is not."
    )


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


def create_app(container) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield

    app = FastAPI(title="Document QA", description="Grounded answers with exact citations.", lifespan=lifespan)

    @app.exception_handler(QAError)
    async def qa_error(request: Request, exc: QAError):
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid request')}".strip(": "))

    @app.get("/healthz", summary="Process is alive")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.post("/v1/ask", response_model=Answer, summary="Ask one question")
    def ask(body: AskRequest) -> dict:
        # A plain `def` route runs in the thread pool, so embedding and scoring never block the event loop.
        return container.engine.ask(body.question, conversation_id=body.conversation_id, mode=body.mode,
                                    create_conversation=False)

    return app
