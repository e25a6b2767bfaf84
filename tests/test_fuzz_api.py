"""Issue 21: schemathesis over every operation of ``/openapi.json`` with an admin key,
against a server on a database of its own (it runs detections, applies and draws), asserting
no 5xx and no answer that breaks the schema.

The suite's run has a budget of about two minutes (``GIS_FUZZ_EXAMPLES`` examples per
operation, default 10, positive and negative data); ``make test-fuzz`` runs it deeper
(``GIS_FUZZ_EXAMPLES=60``). Failures are collected over all operations and reported
together, each with the request that caused it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import Engine, create_engine, text

from gis.auth import issue_key
from gis.db.engine import make_engine
from gis.db.migrate import upgrade
from gis.samples import load_samples
from gis.settings import Settings
from tests.conftest import free_port

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
FUZZ_DB = "onemap_fuzz"
EXAMPLES = int(os.environ.get("GIS_FUZZ_EXAMPLES", "10"))
#: Operations whose answers are files or pages, checked for status only.
CHECKS = [not_a_server_error, response_schema_conformance]


def fuzz_database(engine: Engine) -> str:
    """A fresh database beside the test database (same server), migrated, with the samples:
    the fuzzer's writes never touch the data other tests see."""
    url = engine.url
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{FUZZ_DB}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{FUZZ_DB}"'))
    finally:
        admin.dispose()
    return url.set(database=FUZZ_DB).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def fuzz_server(settings: Settings, engine: Engine) -> Iterator[tuple[str, dict[str, str]]]:
    url = fuzz_database(engine)
    fuzz_settings = settings.with_changes(database={"url": url})
    fuzz = make_engine(fuzz_settings)
    try:
        with fuzz.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        upgrade(fuzz)
        load_samples(fuzz, fuzz_settings.with_changes(data={"samples_dir": SAMPLES}))
        key = issue_key(fuzz, "fuzz-admin", "admin", 1_000_000)
    finally:
        fuzz.dispose()
    env = {"GIS_DATABASE_URL": url, "GIS_RASTER_DIR": str(SAMPLES),
           "GIS_DEM_PATH": str(SAMPLES / "dem.tif"), "GIS_LOG_LEVEL": "ERROR"}
    with server(env) as base:
        yield base, {"X-API-Key": key}


@contextmanager
def server(env: dict[str, str]) -> Iterator[str]:
    """``uvicorn api.asgi:app`` in its own process on the fuzz database; waits up to two
    minutes for ``/health`` (a loaded machine takes more than the usual 30 s to import)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.asgi:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env={**os.environ, **env}, cwd=Path(__file__).resolve().parent.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "the fuzz server exited"
            assert time.monotonic() < deadline, "the fuzz server did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def fuzz(operation, mode: GenerationMode, base: str, headers: dict[str, str],
         failures: list[str]) -> int:
    """Run ``EXAMPLES`` generated requests of one operation; failures are collected (with
    the request to reproduce them), not raised. Returns the number of requests."""
    calls = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None,
                         phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        nonlocal calls
        calls += 1
        try:
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS, timeout=60)
        except (Exception, BaseExceptionGroup) as exc:  # a FailureGroup, or no answer
            failures.append(f"{operation.label} [{mode.value}]: {str(exc).strip()[:800]}")

    run()
    return calls


def test_no_5xx_and_no_schema_violation(fuzz_server) -> None:
    base, headers = fuzz_server
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    calls = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            calls += fuzz(result.ok(), mode, base, headers, failures)
    elapsed = time.monotonic() - started
    print(f"schemathesis: {calls} requests, {len(failures)} failures, {elapsed:.0f} s")
    assert failures == [], "\n\n".join(failures[:20])
