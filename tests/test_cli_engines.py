"""Every ``gis`` command closes its database connections, also when it fails.

A command that leaves its engine to the garbage collector keeps its pooled connections open
until the cycle collector happens to run (an engine's pool and events refer to each other),
and code running many commands in one process (tests, notebooks calling the app) runs the
server out of connections. The garbage collector is switched off here so that only an
explicit ``dispose()`` can close them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from gis.cli import app
from gis.errors import NotFound

COMMANDS = [
    ["layers", "--json"],
    ["db", "status", "--json"],
    ["db", "invalid", "--json"],
    ["reserve", "report", "--json"],
    ["reserve", "ledger", "--invalid", "--json"],
    ["control-lines", "check", "--json"],
    ["reconcile", "list", "--json"],
    ["reconcile", "summary", "--json"],
    ["monitor", "list", "--json"],
    ["users", "list", "--json"],
]


def _other_connections(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()


@pytest.fixture
def no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_commands_leave_no_connection_open(clean_db: Engine, settings, no_gc) -> None:
    before = _other_connections(clean_db)
    runner = CliRunner()
    for args in COMMANDS:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output, result.exception)
    failed = runner.invoke(app, ["reserve", "draw", "000000000000", "--project", "P",
                                 "--area-m2", "10", "--purpose", "key_industry"])
    assert isinstance(failed.exception, NotFound), failed.output
    assert _other_connections(clean_db) == before
