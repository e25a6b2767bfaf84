"""The work-list pattern shared by reconciliation findings and monitoring patches: a change
is admitted only on the version the caller saw, so two concurrent decisions cannot both win."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, text

from gis.errors import Conflict, InputError, NotFound


def require_actor(actor: str | None) -> None:
    if not actor or not actor.strip():
        raise InputError("who decides must be named (actor)")


def require_decision(decision: str, reason: str | None, decisions: tuple[str, ...]) -> None:
    """A decision must be one the work list knows and must say why: the reason is what a
    later reviewer reads in the history."""
    if decision not in decisions:
        raise InputError(f"unknown decision {decision!r}; decisions: {', '.join(decisions)}")
    if not reason or not reason.strip():
        raise InputError("a decision needs its reason")


def versioned_update(conn: Connection, table: str, row_id: int, expected_version: int,
                     assignments: str, values: dict[str, Any], final_statuses: tuple[str, ...],
                     columns: str, noun: str) -> Row:
    """``UPDATE table SET assignments`` on ``row_id`` if it is still at ``expected_version``
    and not in a final status; otherwise NotFound or a Conflict saying which. ``table``,
    ``assignments`` and ``columns`` come from the calling module, never from a request."""
    finals = ", ".join(f"'{s}'" for s in final_statuses)
    row = conn.execute(text(
        f"UPDATE {table} SET {assignments}, version = version + 1, updated_at = now() "
        f"WHERE id = :id AND version = :version AND status NOT IN ({finals}) "
        f"RETURNING {columns}"),
        {"id": row_id, "version": expected_version, **values}).first()
    if row is not None:
        return row
    current = conn.execute(text(f"SELECT version, status FROM {table} WHERE id = :id"),
                           {"id": row_id}).first()
    if current is None:
        raise NotFound(f"no {noun} {row_id}")
    if current.status in final_statuses:
        raise Conflict(f"{noun} {row_id} is {current.status}: it can no longer be changed")
    raise Conflict(
        f"{noun} {row_id} was changed by someone else (now version {current.version}, you "
        f"had {expected_version}); reload and decide again", current_version=current.version)
