"""Request ids and the access log: one structured line per request.

Every request gets an id (the caller's ``X-Request-ID`` when it is a sane token, else a new
one). It is answered in the ``X-Request-ID`` header, put into every problem details body
(``request_id``) by :mod:`api.errors`, and written on the request's access-log line, so a
user who reports "请求编号 3f2a…" leads an operator straight to the log line and, for a 500,
the traceback logged with the same id.

The access line carries method, path, status, duration and the API key's holder name (set
by :func:`api.auth.current_principal`), never the key. A pure ASGI middleware rather than
``BaseHTTPMiddleware``: it does not buffer streamed responses (tiles, exports).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis.logs import request_id_var
from gis.messages import negotiate

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("api.access")


def current_request_id() -> str | None:
    """The id of the request being handled in this context (None outside a request)."""
    return request_id_var.get()


def set_caller(scope_state: dict, name: str) -> None:
    """Record who is calling (a key holder's name) for the access log."""
    scope_state["caller"] = name


class RequestContext:
    """Assign the request id, time the request and write its access-log line. An exception
    that escapes the app is answered here by ``on_error`` (a problem details 500 that logs
    the traceback), while the request's id is still set."""

    def __init__(self, app: ASGIApp,
                 on_error: Callable[[str, BaseException, str], Response]) -> None:
        self.app = app
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _VALID_ID.match(incoming) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before answering
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if started_response:  # too late to answer: the client sees a cut response
                raise
            lang = negotiate(_header(scope, b"accept-language"))
            await self.on_error(scope["path"], exc, lang)(scope, receive, send_with_id)
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            access_log.info(
                "%s %s %s %.1f ms", scope["method"], scope["path"], status, duration_ms,
                extra={"request_id": request_id, "method": scope["method"],
                       "path": scope["path"], "status": status,
                       "duration_ms": round(duration_ms, 1),
                       "caller": state.get("caller", "public")})
            request_id_var.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1").strip()
    return None
