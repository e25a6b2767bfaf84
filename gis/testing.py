"""Assertion helpers for tests and notebooks: table fingerprints and area comparisons."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql
from sqlalchemy import Engine

from gis.layers.catalogue import get_layer


@dataclass(frozen=True)
class TableState:
    count: int
    checksum: str | None


def table_state(engine: Engine, layer_id: str) -> TableState:
    """Row count and an md5 over every row (including geometry and updated_at): equal states
    mean the table is exactly as it was."""
    table = sql.Identifier(get_layer(layer_id).table)
    query = sql.SQL(
        "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {} AS t"
    ).format(table)
    with engine.connect() as conn:
        cur = conn.connection.driver_connection.cursor()
        cur.execute(query)
        count, checksum = cur.fetchone()
    return TableState(count, checksum)


def assert_close(actual: float, expected: float, rel: float, what: str = "value") -> None:
    if expected == 0:
        assert abs(actual) <= rel, f"{what}: {actual} != 0"
        return
    diff = abs(actual - expected) / abs(expected)
    assert diff <= rel, f"{what}: {actual} vs {expected} (relative difference {diff:.2e} > {rel})"
