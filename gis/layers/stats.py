"""Cheap facts about the layer tables (feature counts) for listings and health checks."""

from __future__ import annotations

from psycopg import sql
from sqlalchemy import Engine

from gis.layers.catalogue import load_catalogue


def feature_counts(engine: Engine) -> dict[str, int | None]:
    """Exact counts per layer id; ``None`` where the table does not exist (not migrated)."""
    counts: dict[str, int | None] = {}
    with engine.connect() as sa_conn:
        cur = sa_conn.connection.driver_connection.cursor()
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        existing = {row[0] for row in cur.fetchall()}
        for layer in load_catalogue():
            if layer.table not in existing:
                counts[layer.id] = None
                continue
            # A control line counts its version in force (the one every reader sees).
            where = sql.SQL(" WHERE version = (SELECT control_line_version(%(id)s))"
                            ) if layer.versioned else sql.SQL("")
            cur.execute(sql.SQL("SELECT count(*) FROM {}{}").format(
                sql.Identifier(layer.table), where), {"id": layer.id})
            counts[layer.id] = cur.fetchone()[0]
    return counts
