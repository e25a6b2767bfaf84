"""``/openapi.json``, ``/docs`` and ``/redoc`` as routes of the app, and the OpenAPI document's
error answers as they really are.

FastAPI adds its documentation routes as plain Starlette routes, outside the application's
dependencies, so a revoked key got 200 there while every other route said 401. Added here as
API routes (not in the schema), they share the key check and the NUL refusal.

FastAPI documents every 422 as its ``HTTPValidationError`` in ``application/json``; this API
answers errors as RFC 7807 problem details (``application/problem+json``, api/errors.py).
The document says so, for 422 and for the 4xx/5xx any route may give, so a client generated
from it (and schemathesis' schema checks) reads the answers it will get.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse

from api.errors import PROBLEM_JSON

#: The problem details body (RFC 7807) every error carries.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
    },
    "additionalProperties": True,
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
#: Answers any route may give besides its own (access, limits, the database away).
_COMMON = {"400": "Bad request", "401": "No key or a bad key", "403": "Role not allowed",
           "404": "Not found", "409": "Conflict", "413": "Payload too large",
           "422": "Invalid request", "429": "Rate limited",
           "503": "Database unavailable (Retry-After)"}


def problem_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each operation's error answers described as problem details."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, description in _COMMON.items():
                responses[status] = {"description": description, **problem}
    schemas = schema["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return schema


def add_docs(app: FastAPI) -> None:
    """The documentation routes, as API routes of ``app`` (created with ``openapi_url=None``,
    ``docs_url=None``, ``redoc_url=None``)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_responses(get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_json() -> JSONResponse:
        return JSONResponse(openapi())

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - Swagger UI",
                                   oauth2_redirect_url="/docs/oauth2-redirect")

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} - ReDoc")
