"""The work-list pattern shared by reconciliation findings and monitoring patches: a change
is admitted only on the version the caller saw, so two concurrent decisions cannot both win.

Statements are SQLAlchemy Core over the work list's ``Table`` (``gis.db.records``): the
caller names its table and owner column as objects, never as SQL text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection, Row

from gis.errors import Conflict, InputError, NotFound
from gis.identity import Actor
from gis.messages import DEFAULT_LANG, Code, Codes, Lang, Message, msg, text

#: The columns of an event history (``recon_events``, ``monitor_events``) read back.
EVENT_FIELDS = ("at", "actor", "on_behalf_of", "actor_verified", "action", "details", "reason")


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

    def who(self, lang: Lang = DEFAULT_LANG) -> str:
        """The actor as a reader should see it (in ``lang``): with whom they acted for, and a
        warning when the name was never authenticated."""
        who = (text("worklist.acting_for", lang, actor=self.actor, name=self.on_behalf_of)
               if self.on_behalf_of else self.actor)
        return who if self.actor_verified else text("worklist.unverified", lang, who=who)


def actor_params(actor: Actor) -> dict[str, str | None]:
    """Bind values ``:actor``, ``:actor_key``, ``:on_behalf_of`` for an insert."""
    return actor.columns()


def record_event(conn: Connection, table: sa.Table, owner_column: sa.Column, owner_id: int,
                 actor: Actor, action: str, details: dict[str, Any] | None = None,
                 reason: str | None = None) -> None:
    """Append an event to a history ``table`` (``recon_events``, ``monitor_events``) whose
    ``owner_column`` points at the finding or patch. No details is SQL NULL, not JSON null."""
    who = {table.c[name]: value for name, value in actor_params(actor).items()}
    conn.execute(sa.insert(table).values({
        owner_column: owner_id, **who, table.c.action: action,
        table.c.details: details if details else sa.null(), table.c.reason: reason}))


def read_events(conn: Connection, table: sa.Table, owner_column: sa.Column,
                owner_id: int) -> list[Event]:
    """The history of one finding or patch, oldest first."""
    rows = conn.execute(sa.select(*(table.c[name] for name in EVENT_FIELDS))
                        .where(owner_column == owner_id).order_by(table.c.id)).mappings()
    return [Event(**row) for row in rows]


def require_page(limit: int, offset: int, max_limit: int = 1000) -> None:
    """A page of a work list: ``limit`` 1..``max_limit`` rows from ``offset`` >= 0."""
    if not 1 <= limit <= max_limit or offset < 0:
        raise InputError(msg("worklist.bad_page", max=max_limit))


def require_known(value: str | None, values: tuple[str, ...], group: str, key: str,
                  name: str, plural: str) -> None:
    """A filter value (``status``, ``kind``, ``layer``) the work list knows, else the message
    ``key`` with the value as parameter ``name`` and the choices (labels of ``group``) as
    ``plural``."""
    if value is not None and value not in values:
        raise InputError(msg(key, **{name: value,
                                     plural: Codes.of(group, values, with_code=True)}))


def require_decision(decision: str, reason: str | None, decisions: tuple[str, ...],
                     group: str) -> None:
    """A decision must be one the work list knows (``group``: its labels) and must say why:
    the reason is what a later reviewer reads in the history."""
    if decision not in decisions:
        raise InputError(msg("worklist.unknown_decision", decision=decision,
                             decisions=Codes.of(group, decisions, with_code=True)))
    if not reason or not reason.strip():
        raise InputError(msg("worklist.reason_missing"))


def versioned_update(conn: Connection, table: sa.Table, row_id: int, expected_version: int,
                     assignments: Mapping[sa.Column, Any], final_statuses: tuple[str, ...],
                     columns: Sequence[sa.Column], noun: Message, status_group: str) -> Row:
    """Set ``assignments`` (column -> value) on row ``row_id`` of ``table`` if it is still at
    ``expected_version`` and not in one of ``final_statuses``, bumping its version; returns
    ``columns`` of the changed row. Otherwise NotFound or a Conflict saying which (``noun``
    names the row, ``status_group`` is the label group of its statuses)."""
    row = conn.execute(
        sa.update(table)
        .where(table.c.id == row_id, table.c.version == expected_version,
               table.c.status.not_in(final_statuses))
        .values({**assignments, table.c.version: table.c.version + 1,
                 table.c.updated_at: sa.func.now()})
        .returning(*columns)).first()
    if row is not None:
        return row
    current = conn.execute(sa.select(table.c.version, table.c.status)
                           .where(table.c.id == row_id)).first()
    if current is None:
        raise NotFound(msg("worklist.not_found", noun=noun, id=row_id))
    if current.status in final_statuses:
        raise Conflict(msg("worklist.finished", noun=noun, id=row_id,
                           status=Code(status_group, current.status)))
    raise Conflict(msg("worklist.stale_version", noun=noun, id=row_id, current=current.version,
                       seen=expected_version), current_version=current.version)
