"""Request and response models of the HTTP API; every field is described in the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Mode = Literal["auto", "extractive", "llm"]


class AskRequest(BaseModel):
    question: str = Field(..., description="The question, in plain language.")
    mode: Mode | None = Field(None, description="Answer mode; default from the QA_ANSWER_MODE setting.")
    conversation_id: str | None = Field(None, description="Continue this conversation (follow-up questions).")


class ChatRequest(AskRequest):
    stream: bool = Field(
        False, description="Stream Server-Sent Events: in llm mode a `draft` event (the extractive answer, at once), "
        "`token` events as the model writes, then one `answer` event with the verified answer, which replaces the "
        "draft (also with `Accept: text/event-stream`)."
    )


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
    citations: list[Citation] = Field(..., description="The passages that support the answer.")
    timings_ms: dict[str, float] = Field(
        ..., description="retrieve, answer and total time in milliseconds; in llm mode also generate and first_token."
    )
    unsupported: list[Unsupported] = Field(
        default_factory=list, description="LLM sentences dropped by verification (empty in extractive mode)."
    )
    related: list[Citation] = Field(
        default_factory=list, description="When the answer abstains: the passages closest to the question, to read "
        "as related material. They do not answer it (`verified` is false)."
    )
    notice: str | None = Field(
        None, description="Why the answer is not in the requested mode (e.g. the LLM is unavailable), if it is not."
    )


class Turn(BaseModel):
    n: int = Field(..., description="Turn number, from 1.")
    question: str = Field(..., description="The question asked.")
    answer: Answer = Field(..., description="The answer given.")
    created: float = Field(..., description="Unix time of the turn.")


class Conversation(BaseModel):
    conversation_id: str = Field(..., description="The conversation's id.")
    turns: list[Turn] = Field(..., description="Its turns, oldest first.")


class Document(BaseModel):
    doc_id: str = Field(..., description="Stable id of the document.")
    source: str = Field(..., description="File name.")
    chunks: int = Field(..., description="Number of indexed chunks (sentences and headings).")


class FileResult(BaseModel):
    file: str = Field(..., description="Uploaded file name.")
    status: Literal["added", "updated", "unchanged", "failed"] = Field(..., description="What ingest did with it.")
    doc_id: str | None = Field(None, description="Id of the document, when ingested.")
    chunks: int = Field(0, description="Chunks indexed for it.")
    error: str | None = Field(None, description="Why it failed, when it did.")


class UploadResult(BaseModel):
    files: list[FileResult] = Field(..., description="One result per uploaded file, in upload order.")


class ErrorBody(BaseModel):
    code: str = Field(..., description="Stable machine-readable error code.")
    message: str = Field(..., description="What went wrong, for people.")


class Error(BaseModel):
    error: ErrorBody = Field(..., description="The error.")


class Health(BaseModel):
    status: str = Field(..., description="'ok' while the process is alive.")


class Ready(BaseModel):
    status: str = Field(..., description="'ready' when the index is reachable and the models are loaded.")
    checks: dict[str, str] = Field(..., description="Each check and its state.")
