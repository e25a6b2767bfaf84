"""Request ids, the access log, gzip and CORS, on a real uvicorn process whose stderr (the
JSON log) is read back: the id a user sees in a problem details body finds its log line."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine

from api.app import create_app
from gis.db.engine import make_engine
from gis.settings import ApiSettings, Settings
from tests.server_fixtures import uvicorn_process

ROOT = Path(__file__).resolve().parent.parent


class LoggedServer:
    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log

    def lines(self) -> list[dict]:
        out = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def line_for(self, request_id: str, logger: str = "api.access") -> dict:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            found = [r for r in self.lines()
                     if r.get("request_id") == request_id and r["logger"] == logger]
            if found:
                return found[-1]
            time.sleep(0.05)
        raise AssertionError(f"no {logger} line with request id {request_id}")


@pytest.fixture(scope="module")
def server(engine: Engine, tmp_path_factory) -> Iterator[LoggedServer]:
    log = tmp_path_factory.mktemp("log") / "server.log"
    with log.open("w") as sink, uvicorn_process({"GIS_LOG_LEVEL": "INFO"}, sink) as (_, url):
        yield LoggedServer(url, log)


def test_problem_details_request_id_is_on_the_access_line(server: LoggedServer,
                                                         role_keys) -> None:
    key = role_keys["planner"]["X-API-Key"]
    answer = httpx.get(f"{server.url}/api/v1/analysis/siting/no-such-run",
                       headers=role_keys["planner"])
    assert answer.status_code == 404
    body = answer.json()
    request_id = body["request_id"]
    assert answer.headers["X-Request-ID"] == request_id
    line = server.line_for(request_id)
    assert line["method"] == "GET" and line["path"] == "/api/v1/analysis/siting/no-such-run"
    assert line["status"] == 404 and line["caller"] == "test-planner"
    assert isinstance(line["duration_ms"], float) and line["level"] == "INFO"
    assert key not in server.log.read_text(encoding="utf-8")  # the key itself never


def test_callers_request_id_is_kept_when_sane(server: LoggedServer) -> None:
    mine = httpx.get(f"{server.url}/api/v1/no-such-endpoint",
                     headers={"X-Request-ID": "desk-42.a_b"})
    assert mine.headers["X-Request-ID"] == "desk-42.a_b"
    assert mine.json()["request_id"] == "desk-42.a_b"
    assert server.line_for("desk-42.a_b")["status"] == 404
    odd = httpx.get(f"{server.url}/health", headers={"X-Request-ID": "x" * 65})
    assert odd.headers["X-Request-ID"] != "x" * 65 and len(odd.headers["X-Request-ID"]) == 32


def test_anonymous_requests_are_logged_as_public(server: LoggedServer) -> None:
    answer = httpx.get(f"{server.url}/health")
    assert server.line_for(answer.headers["X-Request-ID"])["caller"] == "public"


def test_gzip_for_text_not_for_pdf_or_small(server: LoggedServer) -> None:
    plain = httpx.get(f"{server.url}/static/vendor/leaflet/leaflet.js",
                      headers={"Accept-Encoding": "identity"})
    with httpx.stream("GET", f"{server.url}/static/vendor/leaflet/leaflet.js",
                      headers={"Accept-Encoding": "gzip"}) as gz:
        content = gz.read()
        sent = gz.num_bytes_downloaded  # compressed bytes on the wire
    assert plain.status_code == gz.status_code == 200
    assert gz.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert content == plain.content  # httpx decodes: the same file
    assert sent < len(plain.content) / 2
    for path in ("/openapi.json", "/ogc/collections", "/"):  # JSON, JSON, HTML
        answer = httpx.get(f"{server.url}{path}", headers={"Accept-Encoding": "gzip"})
        assert answer.headers.get("content-encoding") == "gzip", path
    small = httpx.get(f"{server.url}/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers


def test_gzip_level_follows_the_setting(settings: Settings, engine,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """GIS_GZIP_LEVEL reaches the compressor: level 9 sends fewer bytes than level 1 for the
    same file, and both decode to it; a level outside 1-9 is refused at start-up."""
    path = "/static/vendor/leaflet/leaflet.js"
    sizes = {}
    for level in (1, 9):
        with TestClient(create_app(settings.with_changes(api={"gzip_level": level}))) as c:
            with c.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as answer:
                body = answer.read()
                sizes[level] = answer.num_bytes_downloaded
            assert answer.headers["content-encoding"] == "gzip"
            assert body == c.get(path, headers={"Accept-Encoding": "identity"}).content
    assert sizes[9] < sizes[1]
    for bad in ("0", "10"):
        monkeypatch.setenv("GIS_GZIP_LEVEL", bad)
        with pytest.raises(ValidationError, match="GIS_GZIP_LEVEL"):
            ApiSettings()


def test_cors_closed_by_default_and_opened_per_origin(settings: Settings, engine) -> None:
    preflight = {"Origin": "https://gis.example.cn", "Access-Control-Request-Method": "GET"}
    with TestClient(create_app(settings)) as closed:
        answer = closed.options("/ogc/collections", headers=preflight)
        assert "access-control-allow-origin" not in answer.headers
    opened = settings.with_changes(api={"cors_origins": ["https://gis.example.cn"]})
    with TestClient(create_app(opened)) as client:
        ok = client.options("/ogc/collections", headers=preflight)
        assert ok.headers["access-control-allow-origin"] == "https://gis.example.cn"
        other = client.options("/ogc/collections", headers={
            **preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_a_bug_is_a_500_with_its_traceback_logged_under_the_request_id(
        settings: Settings, engine, caplog) -> None:
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR, logger="api.errors"), \
            TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/boom")
    assert answer.status_code == 500
    body = answer.json()
    assert "secret internals" not in answer.text and body["request_id"]
    assert answer.headers["X-Request-ID"] == body["request_id"]
    record = next(r for r in caplog.records if r.name == "api.errors")
    assert record.exc_info and "secret internals" in str(record.exc_info[1])
    from gis.logs import JsonFormatter

    logged = json.loads(JsonFormatter().format(record))
    assert logged["request_id"] == body["request_id"] and "RuntimeError" in logged["traceback"]


def test_settings_are_read_per_concern_from_the_documented_variables(monkeypatch) -> None:
    for name, value in {"GIS_DB_POOL_SIZE": "7", "GIS_TILE_POOL_MAX_SIZE": "4",
                        "GIS_BASEMAP": "offline", "GIS_CORS_ORIGINS": '["https://a.cn"]',
                        "GIS_RASTER_DIR": "/tmp", "GIS_JOB_WORKERS": "3"}.items():
        monkeypatch.setenv(name, value)
    fresh = Settings()
    assert fresh.database.pool_size == 7 and fresh.tiles.pool_max_size == 4
    assert fresh.portal.basemap == "offline" and fresh.api.cors_origins == ["https://a.cn"]
    assert str(fresh.data.raster_dir) == "/tmp" and fresh.api.job_workers == 3
    monkeypatch.setenv("GIS_DB_POOL_SIZE", "0")
    with pytest.raises(ValueError, match=r"pool_size|GIS_DB_POOL_SIZE"):
        Settings()
    with pytest.raises(KeyError):
        fresh.with_changes(database={"no_such_field": 1})


def test_pool_comes_from_settings(settings: Settings) -> None:
    engine = make_engine(settings.with_changes(database={
        "pool_size": 3, "max_overflow": 1, "pool_timeout_seconds": 2.5}))
    try:
        assert engine.pool.size() == 3 and engine.pool._max_overflow == 1
        assert engine.pool._timeout == 2.5
    finally:
        engine.dispose()


def test_streamed_body_over_the_limit_is_refused(server: LoggedServer) -> None:
    """A chunked body (no Content-Length) is counted as it arrives: refused with 413 once it
    passes GIS_MAX_REQUEST_BYTES (20 MB), never read whole into memory."""
    sent = 0

    def chunks():
        nonlocal sent
        block = b"x" * 1_000_000
        for _ in range(40):
            sent += len(block)
            yield block

    try:
        answer = httpx.post(f"{server.url}/api/v1/footprints/parse",
                            params={"filename": "big.geojson"}, content=chunks(), timeout=30)
    except httpx.HTTPError:  # the server may close the connection after answering
        pytest.fail("the server did not answer 413")
    assert answer.status_code == 413, answer.text[:200]
    assert answer.json()["title"] == "请求内容过大"
    assert sent > 20_000_000


def test_tile_pool_takes_its_size_and_timeout_from_settings(settings: Settings, engine) -> None:
    import asyncio

    from gis.tiles import tile_pool

    configured = settings.with_changes(tiles={"pool_min_size": 1, "pool_max_size": 2,
                                              "statement_timeout_ms": 1234})

    async def probe() -> tuple[int, str]:
        pool = tile_pool(configured)
        await pool.open(wait=True)
        try:
            async with pool.connection() as conn:
                cur = await conn.execute("SHOW statement_timeout")
                return pool.max_size, (await cur.fetchone())[0]
        finally:
            await pool.close()

    assert asyncio.run(probe()) == (2, "1234ms")
