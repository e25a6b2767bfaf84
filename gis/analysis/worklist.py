"""The one work-list component: the reconciliation findings (林草核查台账) and the red-line
monitoring patches are both official ledgers described by a :class:`WorkList` (items table,
events table, decisions, statuses, which statuses a person may set and which are final, the
filters), and one implementation serves both (:mod:`gis.analysis.worklist_ops`: listing,
reading, decide, set_status, summary; :mod:`~gis.analysis.worklist_export`: xlsx and
GeoPackage; :mod:`~gis.analysis.worklist_field`: field-check packages and their results).

A change is admitted only on the version the caller saw, so two concurrent decisions cannot
both win; every change appends an event recording who (the authenticated actor), on whose
behalf, when, why and the version it made, so a refused change can say who made the version
the caller did not see. Statements are SQLAlchemy Core over the description's ``Table``
objects: no caller passes SQL text, a column name is looked up on its table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection, Row

from gis.errors import Conflict, InputError, NotFound
from gis.identity import Actor
from gis.messages import DEFAULT_LANG, Code, Codes, Lang, Message, msg, text

#: The columns of an event history (``recon_events``, ``monitor_events``) read back.
EVENT_FIELDS = ("at", "actor", "on_behalf_of", "actor_verified", "action", "details", "reason",
                "version")
#: Beijing time (China has one time zone and no daylight saving): how dates are shown.
BEIJING = timezone(timedelta(hours=8), "UTC+8")


def beijing(at: datetime | None, seconds: bool = True) -> str | None:
    """``at`` as Beijing time text, ``2024-05-01 18:20:05``."""
    if at is None:
        return None
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def beijing_today() -> date:
    """Today's date in Beijing (a deadline passes at midnight there, not in UTC)."""
    return datetime.now(BEIJING).date()


class Event(BaseModel):
    """One entry of a work-list history. ``actor`` is who was authenticated (an API key's
    holder, ``cli:<user>``); ``on_behalf_of`` a name they typed; ``actor_verified`` is false
    for entries written before actors were authenticated, whose actor is only a claim;
    ``version`` the item's version after the change (None before migration 0012)."""

    at: datetime
    actor: str
    on_behalf_of: str | None = None
    actor_verified: bool = True
    action: str
    details: dict[str, Any] | None
    reason: str | None
    version: int | None = None

    def who(self, lang: Lang = DEFAULT_LANG) -> str:
        """The actor as a reader should see it (in ``lang``): with whom they acted for, and a
        warning when the name was never authenticated."""
        who = (text("worklist.acting_for", lang, actor=self.actor, name=self.on_behalf_of)
               if self.on_behalf_of else self.actor)
        return who if self.actor_verified else text("worklist.unverified", lang, who=who)


@dataclass(frozen=True)
class Who:
    """An event's actor as a message parameter (rendered in the reader's language)."""

    event: Event

    def render(self, lang: Lang = DEFAULT_LANG) -> str:
        return self.event.who(lang)


class DecisionTrail(BaseModel):
    """Who decided, when and why: the item's latest ``decided`` event, read with the item."""

    decision_reason: str | None = None
    decided_by: str | None = None
    decided_on_behalf_of: str | None = None
    decided_verified: bool | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class Filter:
    """A filter of the list, the export and the field package alike: ``equal`` (the column
    equals the value), ``prefix`` (a division code prefix) or ``run`` (first found or last
    confirmed by that run). ``values`` (with their label ``group``) are the values known;
    another is refused with the message ``unknown``, whose parameter ``plural`` lists them."""

    name: str
    match: Literal["equal", "prefix", "run"] = "equal"
    values: tuple[str, ...] | None = None
    group: str | None = None
    unknown: str | None = None
    plural: str = ""

    def check(self, value: Any) -> None:
        if self.values is not None and value is not None:
            require_known(value, self.values, self.group or "", self.unknown or "",
                          self.name, self.plural)

    def condition(self, table: sa.Table, value: Any) -> sa.ColumnElement[bool]:
        if self.match == "run":
            return sa.or_(table.c.first_run == value, table.c.last_run == value)
        if self.match == "prefix":
            return table.c[self.name].startswith(str(value), autoescape=True)
        return table.c[self.name] == value


#: How an export writes a column: text, a whole number, an area (m² and 亩 with 2 decimals,
#: ha with 4; summed in the totals row), a time (Beijing) or a date.
ColumnKind = Literal["text", "int", "m2", "mu", "ha", "datetime", "date"]


@dataclass(frozen=True)
class ExportColumn:
    """A column of the list's exports: its header (a catalogue key), the value of an item in
    a language (labels, never codes), and how it is written."""

    header: str
    value: Callable[[Any, Lang], Any]
    kind: ColumnKind = "text"
    #: The item field the column shows, if one: a role it is withheld from
    #: (gis.analysis.worklist_policy) gets the file without the column.
    field: str | None = None


@dataclass(frozen=True)
class WorkList:
    """What a work list is: everything the one implementation needs to know about it."""

    name: str
    items: sa.Table
    events: sa.Table
    #: The events' column naming the item (``finding_id``, ``patch_id``).
    owner: str
    #: Message key naming one item in messages (``worklist.noun.finding``).
    noun: str
    #: The item columns read back, in the model's order.
    fields: tuple[str, ...]
    model: type[BaseModel]
    decisions: tuple[str, ...]
    statuses: tuple[str, ...]
    #: Statuses a person may set (the others come with a decision, a run, an apply).
    settable: tuple[str, ...]
    #: Statuses that take an item off the list for good.
    final: tuple[str, ...]
    kind_group: str
    status_group: str
    decision_group: str
    filters: tuple[Filter, ...]
    #: Message key refusing a status a person may not set (parameter ``allowed``).
    status_not_settable: str
    field_results: sa.Table
    #: Extra columns read with each item (a LATERAL subquery over the items' alias), and the
    #: function turning a row's mapping into the model's values.
    extra: Callable[[sa.Table], sa.Subquery] | None = None
    finish: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    #: The columns of the xlsx and GeoPackage exports, in order.
    columns: tuple[ExportColumn, ...] = ()
    max_page: int = 1000

    @property
    def owner_column(self) -> sa.Column:
        return self.events.c[self.owner]

    def noun_message(self) -> Message:
        return msg(self.noun)

    def filter(self, name: str) -> Filter:
        return next(f for f in self.filters if f.name == name)

    def conditions(self, values: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
        """The conditions of the given filter values (None: not filtered), values bound;
        unknown filter names and values are refused."""
        known = {f.name: f for f in self.filters}
        where = []
        for name, value in values.items():
            if name not in known:
                raise InputError(msg("worklist.unknown_filter", name=name,
                                     names=", ".join(known)))
            if value is None or value == "":
                continue
            known[name].check(value)
            where.append(known[name].condition(self.items, value))
        return where


def record_event(conn: Connection, wl: WorkList, item_id: int, actor: Actor, action: str,
                 details: dict[str, Any] | None = None, reason: str | None = None,
                 version: int | None = None) -> None:
    """Append an event to the item's history: who (the authenticated ``actor``), what, why
    and the version it made. No details is SQL NULL, not JSON null."""
    events = wl.events
    who = {events.c[name]: value for name, value in actor.columns().items()}
    conn.execute(sa.insert(events).values({
        wl.owner_column: item_id, **who, events.c.action: action,
        events.c.details: details if details else sa.null(), events.c.reason: reason,
        events.c.version: version}))


def read_events(conn: Connection, wl: WorkList, item_id: int) -> list[Event]:
    """The history of one item, oldest first."""
    events = wl.events
    rows = conn.execute(sa.select(*(events.c[name] for name in EVENT_FIELDS))
                        .where(wl.owner_column == item_id).order_by(events.c.id)).mappings()
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


def versioned_update(conn: Connection, wl: WorkList, item_id: int, expected_version: int,
                     assignments: Mapping[sa.Column, Any]) -> Row:
    """Set ``assignments`` (column -> value) on item ``item_id`` if it is still at
    ``expected_version`` and not final, bumping its version; returns its id, version and
    status. Otherwise NotFound, or a Conflict saying why: finished, or changed since the
    caller read it (by whom, when and how, from the event that made the current version)."""
    table = wl.items
    row = conn.execute(
        sa.update(table)
        .where(table.c.id == item_id, table.c.version == expected_version,
               table.c.status.not_in(wl.final))
        .values({**assignments, table.c.version: table.c.version + 1,
                 table.c.updated_at: sa.func.now()})
        .returning(table.c.id, table.c.version, table.c.status)).first()
    if row is not None:
        return row
    current = conn.execute(sa.select(table.c.version, table.c.status)
                           .where(table.c.id == item_id)).first()
    noun = wl.noun_message()
    if current is None:
        raise NotFound(msg("worklist.not_found", noun=noun, id=item_id))
    if current.status in wl.final:
        raise Conflict(msg("worklist.finished", noun=noun, id=item_id,
                           status=Code(wl.status_group, current.status)),
                       current_version=current.version, status=current.status)
    raise stale(conn, wl, item_id, current.version, expected_version)


def stale(conn: Connection, wl: WorkList, item_id: int, current: int, seen: int) -> Conflict:
    """The conflict of a change made on version ``seen`` of an item now at ``current``: it
    names the actor of the event that made the current version, when one recorded it."""
    events = wl.events
    found = conn.execute(
        sa.select(*(events.c[name] for name in EVENT_FIELDS))
        .where(wl.owner_column == item_id, events.c.version == current)
        .order_by(events.c.id.desc()).limit(1)).mappings().first()
    noun = wl.noun_message()
    if found is None:
        return Conflict(msg("worklist.stale_version", noun=noun, id=item_id, current=current,
                            seen=seen), current_version=current)
    event = Event(**found)
    return Conflict(
        msg("worklist.changed_by", noun=noun, id=item_id, who=Who(event),
            at=beijing(event.at, seconds=False), action=Code("event_action", event.action),
            current=current, seen=seen),
        current_version=current, changed_by=event.actor,
        changed_on_behalf_of=event.on_behalf_of, changed_at=event.at.isoformat(),
        change=event.action)


def settable(wl: WorkList, status: str) -> None:
    """Refuse a status a person may not set on this list."""
    if status not in wl.settable:
        allowed = sorted(wl.settable)
        raise InputError(msg(wl.status_not_settable, allowed=Codes.of(
            wl.status_group, allowed, english=str(allowed), sep="或")))
