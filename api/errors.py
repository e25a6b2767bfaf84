"""RFC 7807 problem details for every error, mapped from the library's exceptions in one table,
in the request's language (``Accept-Language``: Chinese by default, English on request).

Titles and API messages come from the message catalogue (gis/messages), library errors render
their catalogue message, and request-validation errors are explained per field from pydantic's
error type, so a Chinese client never reads "the request does not match the schema".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.observability import current_request_id
from gis import errors as gis_errors
from gis.messages import Lang, negotiate, text, validation_message
from gis.rules import UnknownProfile

log = logging.getLogger("api.errors")

PROBLEM_JSON = "application/problem+json"

STATUS_BY_ERROR: list[tuple[type[gis_errors.GISError], int]] = [
    (gis_errors.Unauthorized, 401),
    (gis_errors.Forbidden, 403),
    (gis_errors.RateLimited, 429),
    (gis_errors.UnknownLayer, 404),
    (gis_errors.NotFound, 404),
    (UnknownProfile, 404),
    (gis_errors.DuplicateKey, 409),
    (gis_errors.Conflict, 409),
    (gis_errors.InvalidParameter, 400),
    (gis_errors.InputError, 422),
    (gis_errors.DatabaseUnavailable, 503),
    (gis_errors.ConfigurationError, 500),
    (gis_errors.GISError, 400),
]


def problem(status: int, title: str, detail: str, instance: str | None = None,
            headers: Mapping[str, str] | None = None, **extra) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    # The id of the request, also on its access-log line (and its traceback, for a 500).
    if request_id := current_request_id():
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON,
                        headers=dict(headers) if headers else None)


def lang_of(headers: Mapping[str, str]) -> Lang:
    """The language a request asked for (``Accept-Language``; Chinese by default)."""
    return negotiate(headers.get("accept-language"))


def status_for(exc: gis_errors.GISError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 400


def register_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(gis_errors.GISError)
    async def _gis_error(request: Request, exc: gis_errors.GISError) -> JSONResponse:
        lang = lang_of(request.headers)
        response = problem(status_for(exc), exc.title_in(lang), exc.render(lang),
                           str(request.url.path), details=exc.details or None)
        if isinstance(exc, gis_errors.Unauthorized):
            # A Basic challenge only to clients that sent Basic credentials (QGIS, GDAL):
            # offered to a browser, it would pop a login dialog over the portal.
            basic = request.headers.get("authorization", "").lower().startswith("basic")
            response.headers["WWW-Authenticate"] = 'ApiKey header="X-API-Key"' + (
                ', Basic realm="One-Map", charset="UTF-8"' if basic else "")
        if isinstance(exc, gis_errors.RateLimited):
            response.headers["Retry-After"] = str(exc.details.get("retry_after_seconds", 60))
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        lang, path = lang_of(request.headers), str(request.url.path)
        if exc.status_code == 404:
            detail = text("api.not_found", lang, path=path)
        elif exc.status_code == 405:
            detail = text("api.method_not_allowed", lang, method=request.method)
        else:
            detail = text("api.http_error", lang, status=exc.status_code)
        return problem(exc.status_code, text("error.HTTP", lang), detail, path,
                       headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = lang_of(request.headers)
        errors = [{"loc": list(e.get("loc", ())), "type": e.get("type"),
                   "msg": validation_message(e).render(lang)} for e in exc.errors()]
        # OGC API answers bad parameters with 400; the rest of the API uses FastAPI's 422.
        status = 400 if request.url.path.startswith("/ogc") else 422
        return problem(status, text("error.InvalidRequest", lang),
                       text("api.invalid_request", lang), str(request.url.path), errors=errors)



def internal_error(path: str, exc: BaseException, lang: Lang = "zh") -> JSONResponse:
    """The answer to a bug: logged with its traceback under the request's id, and a problem
    details body carrying that id and nothing of the exception. Called by
    :class:`api.observability.RequestContext` (inside the request's context, so the id is
    known; Starlette's outermost error middleware runs after it is gone)."""
    log.error("unexpected error in %s", path, exc_info=(type(exc), exc, exc.__traceback__),
              extra={"request_id": current_request_id()})
    return problem(500, text("error.Internal", lang),
                   text("api.internal_error", lang, request_id=current_request_id() or "-"),
                   path)
