"""Fixtures for tests that need the samples in the database and a real HTTP server (real
clients such as GDAL and OWSLib cannot talk to an in-process TestClient)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest
from sqlalchemy import Engine, text

from gis.layers.schema import layer_tables, metadata
from gis.samples import load_samples
from gis.settings import Settings

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def truncate_all(engine: Engine) -> None:
    """Empty every table but the session's API keys."""
    layer_tables()
    names = ", ".join(t.name for t in metadata.sorted_tables if t.name != "api_keys")
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="module")
def sample_db(settings: Settings, engine: Engine) -> Engine:
    """The sample one-map loaded into the test database, once per module."""
    truncate_all(engine)
    load_samples(engine, settings.with_changes(data={"samples_dir": SAMPLES}))
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return engine


@contextmanager
def uvicorn_process(env: dict[str, str] | None = None, stderr: IO | None = None,
                    command: list[str] | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """``uvicorn api.asgi:app`` in its own process on a free port, with the test session's
    environment (GIS_DATA_DIR/GIS_DB_PORT, set by the settings fixture) plus ``env``; yields
    the process and its base URL once ``/health`` answers, and stops it afterwards.
    ``command`` replaces the uvicorn command (``--host`` and ``--port`` are appended), e.g.
    ``gis serve --workers 2``.

    A separate process, not a thread: GDAL (through pyogrio) holds the GIL while it waits for
    HTTP answers, so a server thread in the test process would never get to answer.
    """
    from tests.conftest import free_port

    port = free_port()
    command = command or [sys.executable, "-m", "uvicorn", "api.asgi:app", "--log-level",
                          "warning", "--no-access-log"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **(env or {})}, cwd=Path(__file__).resolve().parent.parent,
        stderr=stderr, stdout=subprocess.DEVNULL if stderr is not None else None)
    url = f"http://127.0.0.1:{port}"
    try:
        # Generous: on a loaded 2-core machine the import alone took over 30 s; a server that
        # exits is reported at once with its exit code.
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                raise RuntimeError(f"the test server exited with code {server.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not answer /health within 120 s")
            time.sleep(0.1)
        yield server, url
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


@pytest.fixture(scope="module")
def live_server(settings: Settings, sample_db: Engine) -> Iterator[str]:
    """The API over HTTP on the samples, in its own process (:func:`uvicorn_process`)."""
    with uvicorn_process() as (_, url):
        yield url
