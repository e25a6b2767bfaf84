"""Test session: a real PostGIS started through the same cluster code the app uses.

The cluster lives in a fresh temporary directory on a free port and is removed at the end.
Set ``GIS_TEST_DATABASE_URL`` to run against an external PostGIS instead. Nothing here mocks
the database.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from gis.db.cluster import LocalCluster
from gis.db.engine import make_engine
from gis.db.migrate import upgrade
from gis.layers.schema import layer_tables, metadata
from gis.settings import Settings, get_settings

#: Fixture modules shared by several test files.
pytest_plugins = ["tests.siting_fixtures", "tests.planning_fixtures", "tests.server_fixtures"]

#: The desktop-client tests (QGIS under xvfb) belong to `make test-clients`, which installs
#: QGIS first (minutes); `make test` does not collect them rather than skipping them.
collect_ignore = [] if os.environ.get("ONEMAP_TEST_CLIENTS") == "1" else ["clients"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_tmp_dir(prefix: str) -> Path:
    """A temp dir the unprivileged server account can traverse (mkdtemp makes 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    external = os.environ.get("GIS_TEST_DATABASE_URL")
    root = make_tmp_dir("onemap-test-")
    env = {
        "GIS_DATA_DIR": str(root / "cluster"),
        "GIS_DB_PORT": str(free_port()),
    }
    if external:
        env["GIS_DATABASE_URL"] = external
    saved = {k: os.environ.get(k) for k in [*env, "GIS_DATABASE_URL"]}
    os.environ.update(env)
    if not external:
        os.environ.pop("GIS_DATABASE_URL", None)
    get_settings.cache_clear()
    test_settings = Settings()
    cluster = None
    if not external:
        cluster = LocalCluster(test_settings.database.data_dir, test_settings.database.port,
                               os_user=test_settings.database.os_user)
        cluster.up()
    try:
        yield test_settings
    finally:
        if cluster is not None:
            cluster.down()
        shutil.rmtree(root, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def clean_db(engine: Engine) -> Engine:
    """An engine on an empty database: every table of the schema, layers and work lists."""
    layer_tables()
    # API keys survive: the session's role keys (``role_keys``) are issued once.
    tables = ", ".join(t.name for t in metadata.sorted_tables if t.name != "api_keys")
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session")
def role_keys(engine: Engine) -> dict[str, dict[str, str]]:
    """Request headers carrying a key per role: ``role_keys["planner"]``; public sends none."""
    from gis.auth import issue_key

    headers: dict[str, dict[str, str]] = {"public": {}}
    for role in ("planner", "forestry", "admin"):
        # A generous limit: the tests of rate limiting issue their own key.
        headers[role] = {"X-API-Key": issue_key(engine, f"test-{role}", role, 100_000)}
    return headers
