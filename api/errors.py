"""RFC 7807 problem details for every error, mapped from the library's exceptions in one table."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis import errors as gis_errors
from gis.rules import UnknownProfile

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
            **extra) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def status_for(exc: gis_errors.GISError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 400


def register_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(gis_errors.GISError)
    async def _gis_error(request: Request, exc: gis_errors.GISError) -> JSONResponse:
        response = problem(status_for(exc), exc.title, exc.message, str(request.url.path),
                           details=exc.details or None)
        if isinstance(exc, gis_errors.Unauthorized):
            response.headers["WWW-Authenticate"] = 'ApiKey header="X-API-Key"'
        if isinstance(exc, gis_errors.RateLimited):
            response.headers["Retry-After"] = str(exc.details.get("retry_after_seconds", 60))
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, "HTTP error", str(exc.detail), str(request.url.path))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in exc.errors()]
        # OGC API answers bad parameters with 400; the rest of the API uses FastAPI's 422.
        status = 400 if request.url.path.startswith("/ogc") else 422
        return problem(status, "Invalid request", "the request does not match the schema",
                       str(request.url.path), errors=errors)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem(500, "Internal error", "an unexpected error occurred; it has been logged",
                       str(request.url.path))


def register_body_limit(app: FastAPI, max_bytes: int) -> None:
    """Refuse oversized bodies (by Content-Length) with 413 before anything reads them."""

    @app.middleware("http")
    async def _limit(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            return problem(413, "Payload too large",
                           f"the request body has {int(length):,} bytes; the limit is "
                           f"{max_bytes:,}", str(request.url.path))
        return await call_next(request)
