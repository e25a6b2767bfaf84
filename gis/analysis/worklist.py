"""The work-list pattern shared by reconciliation findings and monitoring patches: a change
is admitted only on the version the caller saw, so two concurrent decisions cannot both win."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Row, text

from gis.errors import Conflict, InputError, NotFound
from gis.identity import Actor

#: The columns of an event history (``recon_events``, ``monitor_events``) read back.
EVENT_COLUMNS = "at, actor, on_behalf_of, actor_verified, action, details, reason"


class Event(BaseModel):
    """One entry of a work-list history. ``actor`` is who was authenticated (an API key's
    holder, ``cli:<user>``); ``on_behalf_of`` a name they typed; ``actor_verified`` is false
    for entries written before actors were authenticated, whose actor is only a claim."""

    at: datetime
    actor: str
    on_behalf_of: str | None = None
    actor_verified: bool = True
    action: str
    details: dict[str, Any] | None
    reason: str | None

    def who(self) -> str:
        """The actor as a reader should see it: with whom they acted for, and a warning when
        the name was never authenticated."""
        text = self.actor + (f" (代 {self.on_behalf_of})" if self.on_behalf_of else "")
        return text if self.actor_verified else f"{text} [未核实 unverified]"


def actor_params(actor: Actor) -> dict[str, str | None]:
    """Bind values ``:actor``, ``:actor_key``, ``:on_behalf_of`` for an insert."""
    return actor.columns()


def record_event(conn: Connection, table: str, owner_column: str, owner_id: int, actor: Actor,
                 action: str, details: dict[str, Any] | None = None,
                 reason: str | None = None) -> None:
    """Append an event to a history table. ``table`` and ``owner_column`` come from the
    calling module, never from a request."""
    conn.execute(text(
        f"INSERT INTO {table} ({owner_column}, actor, actor_key, on_behalf_of, action, details, "
        "reason) VALUES (:owner, :actor, :actor_key, :on_behalf_of, :act, CAST(:d AS jsonb), "
        ":r)"),
        {"owner": owner_id, **actor_params(actor), "act": action,
         "d": json.dumps(details, ensure_ascii=False) if details else None, "r": reason})


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
