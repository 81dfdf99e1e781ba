"""A cap on request bodies, enforced while they arrive.

A declared Content-Length over the cap is refused before any of the body is read; a body without one (chunked) is
counted as it streams and cut off at the cap, so neither a 1 GB upload nor an endless stream is ever held in memory
or spooled to disk.
"""

from __future__ import annotations

import json
from typing import Callable

Limit = Callable[[str, str], int]  # (method, path) -> the largest body allowed, in bytes


class BodyLimit:
    def __init__(self, app, limit_for: Limit):
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["method"], scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await _refuse(send, f"request body of {int(declared)} bytes exceeds the limit of {limit} bytes")

        received = 0
        exceeded = False
        started = False

        async def counting_receive():
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Tell the application the client went away; it stops reading, and the reply below is a 413.
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            nonlocal started
            if exceeded:
                return  # whatever the application answers to a cut-off body is replaced by the 413 below
            started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _refuse(send, f"request body exceeds the limit of {limit} bytes")


async def _refuse(send, message: str) -> None:
    body = json.dumps({"error": {"code": "payload_too_large", "message": message}}).encode()
    await send({
        "type": "http.response.start", "status": 413,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close")],
    })
    await send({"type": "http.response.body", "body": body})
