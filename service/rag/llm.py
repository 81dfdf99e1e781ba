"""Generator backends: the local GGUF model in-process (xllamacpp), or any OpenAI-compatible server.

One model instance per process. Requests queue for it; a request that waits longer than the
configured bound gets LLMBusy ("busy, try again") instead of piling up.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

OnToken = Callable[[str], None]


class LLMUnavailable(Exception):
    """The LLM cannot answer now (missing model, server down, timeout); the caller falls back."""


class LLMBusy(LLMUnavailable):
    """Every model slot stayed busy for longer than the queue wait."""


@dataclass
class Completion:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    timings: dict = field(default_factory=dict)


class _Queue:
    """At most `slots` generations at once; others wait up to `wait_s`."""

    def __init__(self, slots: int, wait_s: float):
        self._slots = threading.BoundedSemaphore(slots)
        self._wait_s = wait_s

    def __enter__(self):
        if not self._slots.acquire(timeout=self._wait_s):
            raise LLMBusy(f"the language model is busy; try again in a few seconds (waited {self._wait_s:.0f} s)")
        return self

    def __exit__(self, *exc):
        self._slots.release()


class LocalLlama:
    """The GGUF model in this process through xllamacpp."""

    name = "local"

    def __init__(self, model_path: Path, threads: int, context: int, queue_wait_s: float):
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(model_path)
        params.n_ctx = context
        params.n_parallel = 1
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.verbosity = 0
        # xllamacpp also opens its own HTTP endpoint; keep it on loopback, on a port the OS picks.
        params.hostnames = ["127.0.0.1"]
        params.port = 0
        started = time.perf_counter()
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # the binding raises plain RuntimeError/ValueError on a bad model
            raise LLMUnavailable(f"cannot load the model {model_path}: {exc}") from exc
        self._queue = _Queue(1, queue_wait_s)
        self._cache_holds_more = True  # than the system prompt: see _reset_cache
        self.model_path = model_path
        log.info("local model loaded path=%s seconds=%.1f", model_path, time.perf_counter() - started)

    def _reset_cache(self, system: str) -> None:
        """Leave the prompt cache holding the system prompt and nothing more.

        llama.cpp reuses the longest prefix a request shares with the one before it, and evaluating the rest in a
        batch of another size gives slightly different numbers: the same question got a different answer depending
        on the question asked before it (one of 82 in an eval run). A request with an empty user message brings
        the cache back to the system prompt, so every request starts from the same state. Called with the queue held.
        """
        if self._cache_holds_more:
            messages = [{"role": "system", "content": system}, {"role": "user", "content": ""}]
            _raise_if_error(self._server.handle_chat_completions(
                {"messages": messages, "max_tokens": 1, "temperature": 0.0, "cache_prompt": True}))
            self._cache_holds_more = False

    def _reset_cache_soon(self, system: str) -> None:
        """Reset the cache after an answer, off the request's time; the next request resets it itself if it gets
        the model first."""

        def run() -> None:
            try:
                with self._queue:
                    self._reset_cache(system)
            except LLMUnavailable as exc:  # busy: the next request resets it first
                log.debug("prompt cache not reset now: %s", exc)

        threading.Thread(target=run, name="llm-cache-reset", daemon=True).start()

    def complete(self, system: str, user: str, max_tokens: int, on_token: OnToken | None = None) -> Completion:
        payload = {
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "cache_prompt": True,  # the byte-identical system prompt is reused across requests
        }
        with self._queue:
            self._reset_cache(system)
            self._cache_holds_more = True
            try:
                return self._complete(payload, on_token)
            finally:
                self._reset_cache_soon(system)  # waits for the queue this request still holds

    def _complete(self, payload: dict, on_token: OnToken | None) -> Completion:
        if on_token is None:
            result = self._server.handle_chat_completions(payload)
            _raise_if_error(result)
            usage = result.get("usage", {})
            return Completion(
                result["choices"][0]["message"]["content"] or "",
                usage.get("prompt_tokens"),
                usage.get("completion_tokens"),
                result.get("timings", {}),
            )
        parts: list[str] = []
        final: dict = {}

        def on_chunk(chunk: dict) -> None:
            _raise_if_error(chunk)
            delta = (chunk.get("choices") or [{}])[0].get("delta", {}).get("content")
            if delta:
                parts.append(delta)
                on_token(delta)
            if "timings" in chunk:
                final.update(chunk)

        self._server.handle_chat_completions({**payload, "stream": True}, on_chunk)
        timings = final.get("timings", {})
        return Completion("".join(parts), timings.get("prompt_n"), timings.get("predicted_n"), timings)


def _raise_if_error(result) -> None:
    if isinstance(result, dict) and "error" in result:
        raise LLMUnavailable(f"the model returned an error: {result['error']}")


class OpenAICompatible:
    """Any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp server, OpenAI) via LlamaIndex."""

    name = "server"

    def __init__(self, url: str, model: str, api_key: str | None, timeout_s: float, queue_wait_s: float, slots: int):
        from llama_index.llms.openai_like import OpenAILike

        self._llm = OpenAILike(
            api_base=url.rstrip("/"),
            model=model,
            api_key=api_key or "unused",
            is_chat_model=True,
            temperature=0.0,
            timeout=timeout_s,
            max_retries=0,
        )
        self._queue = _Queue(slots, queue_wait_s)
        self.url = url

    def complete(self, system: str, user: str, max_tokens: int, on_token: OnToken | None = None) -> Completion:
        from llama_index.core.llms import ChatMessage

        messages = [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]
        with self._queue:
            try:
                if on_token is None:
                    response = self._llm.chat(messages, max_tokens=max_tokens)
                    return Completion(response.message.content or "")
                parts = []
                for chunk in self._llm.stream_chat(messages, max_tokens=max_tokens):
                    if chunk.delta:
                        parts.append(chunk.delta)
                        on_token(chunk.delta)
                return Completion("".join(parts))
            except LLMUnavailable:
                raise
            except Exception as exc:  # connection refused, timeout, HTTP 5xx, bad JSON: all mean "not now"
                raise LLMUnavailable(f"the LLM server at {self.url} did not answer: {_describe(exc)}") from exc


def _describe(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{exc.__class__.__name__}: {text}"[:300] if text else exc.__class__.__name__


class LLMProvider:
    """Builds the configured backend once, on first use; remembers a failure for a minute rather than
    re-checking a 1 GB model file on every request."""

    RETRY_AFTER_S = 60.0

    def __init__(self, settings):
        self.settings = settings
        self._backend = None
        self._error: tuple[float, str] | None = None
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        from service.rag.model_files import parts_installed

        s = self.settings
        return bool(s.llm_url or s.llm_gguf) or parts_installed()

    @property
    def loaded(self) -> bool:
        return self._backend is not None

    def get(self):
        if self._backend is not None:
            return self._backend
        with self._lock:
            if self._backend is not None:
                return self._backend
            if self._error and time.monotonic() - self._error[0] < self.RETRY_AFTER_S:
                raise LLMUnavailable(self._error[1])
            try:
                self._backend = self._build()
                self._error = None
            except LLMUnavailable as exc:
                self._error = (time.monotonic(), str(exc))
                log.error("llm unavailable: %s", exc)
                raise
            return self._backend

    def _build(self):
        from service.rag.model_files import ModelFileError, check_gguf, ensure_local_model

        s = self.settings
        if s.llm_url:
            key = s.llm_api_key.get_secret_value() if s.llm_api_key else None
            return OpenAICompatible(s.llm_url, s.llm_model, key, s.llm_timeout_s, s.llm_queue_wait_s, s.llm_server_slots)
        try:
            path = check_gguf(s.llm_gguf) if s.llm_gguf else ensure_local_model(s.models_dir)
        except ModelFileError as exc:
            raise LLMUnavailable(str(exc)) from exc
        return LocalLlama(path, s.llm_threads, s.llm_context_tokens, s.llm_queue_wait_s)
