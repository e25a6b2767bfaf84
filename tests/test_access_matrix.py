"""Issue 21: every route of the app against every kind of caller, compared with the access
matrix in docs/security.md (the table is the specification; a route missing from it fails).

Callers: no key, a planner, a forestry and an admin key, a revoked key and a garbage key.
A cell is ``ok`` when the caller got past access control (any answer but 401/403: a 404 for
the sample id, a 422 for the empty body are the route's own answers), else the status. Bodies
are empty, so a route that decides access from its body (a job's kind) shows ``ok`` here and
is tested by its own tests.
Path parameters take the sample values in ``SAMPLES``; layer routes are shown for the red
line (a planner layer), as the table says.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gis.auth import issue_key, revoke_key

DOC = Path(__file__).resolve().parent.parent / "docs" / "security.md"
CALLERS = ("none", "planner", "forestry", "admin", "revoked", "garbage")
SAMPLES = {"layer_id": "eco_redline", "collection_id": "eco_redline", "profile_id": "ningxia",
           "run_id": "1", "village_code": "640202", "draw_id": "1", "division": "640202",
           "finding_id": "1", "patch_id": "1", "feature_id": "1", "fmt": "xlsx",
           "job_id": "1", "tileMatrixSetId": "WebMercatorQuad", "tileMatrix": "0",
           "tileRow": "0", "tileCol": "0", "name": "leaflet", "path": "leaflet.js",
           "which": "a", "z": "0", "x": "0", "y": "0"}
#: Query parameters some routes require, sent to every route (the others ignore them), so the
#: access check inside a route is reached rather than a 422 for a missing parameter.
QUERY = {"from": "1", "to": "2", "q": "a", "filename": "a.gpkg"}
_ROW = re.compile(r"^\|\s*`(?P<route>[A-Z]+ [^`]+)`\s*\|(?P<cells>.*)\|\s*$")


def app_routes(app) -> list[str]:
    """``METHOD /path`` of every route the app answers (HEAD only where declared)."""
    found: set[str] = set()

    def walk(routes) -> None:
        for route in routes:
            if hasattr(route, "effective_route_contexts"):
                walk(route.effective_route_contexts())
                continue
            for method in getattr(route, "methods", None) or ():
                if method == "HEAD" and "GET" in route.methods:
                    continue  # Starlette's implicit HEAD of a GET
                found.add(f"{method} {route.path}")

    walk(app.routes)
    return sorted(found)


def documented() -> dict[str, dict[str, str]]:
    """The access matrix of docs/security.md: route -> caller -> ok | 401 | 403."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Access matrix", 1)[1].split("\n## ", 1)[0]
    table: dict[str, dict[str, str]] = {}
    for line in section.splitlines():
        match = _ROW.match(line.strip())
        if match:
            cells = [c.strip() for c in match["cells"].split("|")]
            table[match["route"]] = dict(zip(CALLERS, cells, strict=True))
    return table


def _url(route: str) -> tuple[str, str]:
    method, path = route.split(" ", 1)
    return method, re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLES[m[1]], path)


def _cell(status: int) -> str:
    return str(status) if status in (401, 403) else "ok"


@pytest.fixture(scope="module")
def headers(engine, role_keys) -> dict[str, dict[str, str]]:
    revoked = issue_key(engine, "matrix-revoked", "admin")
    revoke_key(engine, "matrix-revoked")
    return {"none": {}, "planner": role_keys["planner"], "forestry": role_keys["forestry"],
            "admin": role_keys["admin"], "revoked": {"X-API-Key": revoked},
            "garbage": {"X-API-Key": "om_garbage_not-a-key"}}


def test_every_route_is_in_the_matrix(settings) -> None:
    routes = app_routes(create_app(settings))
    table = documented()
    assert sorted(set(routes) - set(table)) == [], "routes missing from docs/security.md"
    assert sorted(set(table) - set(routes)) == [], "docs/security.md lists routes that are gone"


def test_access_matrix_matches_the_docs(settings, clean_db, headers) -> None:
    table = documented()
    app = create_app(settings.with_changes(api={"rate_limit_per_minute": 100_000}))
    found: dict[str, dict[str, str]] = {}
    with TestClient(app, raise_server_exceptions=False) as client:
        for route in app_routes(app):
            method, url = _url(route)
            found[route] = {}
            for caller in CALLERS:
                response = client.request(method, url, params=QUERY, headers=headers[caller])
                found[route][caller] = _cell(response.status_code)
    wrong = [r for r in found if found[r] != table.get(r)]
    # the rows as they should read, ready to paste into docs/security.md
    rows = "\n".join(f"| `{r}` | " + " | ".join(found[r][c] for c in CALLERS) + " |"
                     for r in wrong)
    assert wrong == [], f"docs/security.md differs from the app; the app's rows:\n{rows}"
    # A bad key is never treated as anonymous (issue 21, defect 5).
    assert all(found[r]["revoked"] == found[r]["garbage"] == "401" for r in found)
