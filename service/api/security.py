"""API keys and per-key rate limits for /v1 routes."""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time

from fastapi import Request

from service.errors import QAError


class Unauthorized(QAError):
    code = "unauthorized"
    status = 401


class RateLimited(QAError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class RateLimiter:
    """A token bucket per principal: `per_minute` requests a minute, bursts up to the same number."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, principal: str) -> None:
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(principal, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[principal] = (tokens, now)
                retry_after = max(1, math.ceil((1.0 - tokens) / rate))
                raise RateLimited(f"rate limit of {self.per_minute} requests per minute exceeded", retry_after)
            self._buckets[principal] = (tokens - 1.0, now)


def principal_of(request: Request, api_keys: list[str]) -> str:
    """Who is calling: a digest of the API key when keys are required, else the client address.

    Raises Unauthorized when keys are set and the request has none or a wrong one.
    """
    if not api_keys:
        return f"addr:{request.client.host if request.client else 'unknown'}"
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    token = token.strip()
    if not any(hmac.compare_digest(token.encode(), key.encode()) for key in api_keys):
        raise Unauthorized("invalid API key")
    return "key:" + hashlib.sha256(token.encode()).hexdigest()[:12]
