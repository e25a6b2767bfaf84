"""The request-body limit, for declared and streamed bodies alike.

A ``Content-Length`` above the limit is refused with 413 before anything is read. A body sent
without one (chunked transfer encoding) is counted as it streams in and refused the moment it
passes the limit, so no endpoint ever holds more than ``GIS_MAX_REQUEST_BYTES`` of a body in
memory. A pure ASGI middleware: ``BaseHTTPMiddleware`` would also turn every response into a
stream (which, among other things, defeats gzip's minimum size).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import lang_of, problem
from gis.messages import text


class _TooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send, declared)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, None)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send,
                      declared: int | None) -> None:
        lang = lang_of({k.decode("latin-1"): v.decode("latin-1")
                        for k, v in scope.get("headers", [])})
        detail = (text("api.payload_declared", lang, size=declared, limit=self.max_bytes)
                  if declared is not None
                  else text("api.payload_streamed", lang, limit=self.max_bytes))
        response = problem(413, text("error.PayloadTooLarge", lang), detail, scope["path"])
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None
