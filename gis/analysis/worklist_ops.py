"""The one implementation of a work list's operations, for any :class:`WorkList`: list with
filters and paging, read one item with its history, decide, set a status, summarize.

Every item is read with its decision trail (who decided, on whose behalf, when and why: the
latest ``decided`` event, a LATERAL subquery), so the list, the panel and the exports show
the same facts from the same place. A change returns the item and its history as they are
after it, read in the same transaction, so a caller never shows a version it did not make.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection, Engine

from gis.analysis.worklist import (
    Event,
    WorkList,
    read_events,
    record_event,
    require_decision,
    require_page,
    settable,
    versioned_update,
)
from gis.errors import NotFound
from gis.identity import Actor, resolve
from gis.messages import msg
from gis.units import Area

Filters = Mapping[str, Any]
#: ``hook(conn, item_id, version)``: more writes of a change, in its transaction (a legacy
#: decision's exit plan); it may raise to refuse the change.
Hook = Callable[[Connection, int, int], None]


class Changed(NamedTuple):
    """An item as a change left it, and its whole history."""

    item: BaseModel
    history: list[Event]


def _trail(wl: WorkList) -> sa.Subquery:
    decided = wl.events.alias("decided_event")
    return (sa.select(decided.c.reason.label("decision_reason"),
                      decided.c.actor.label("decided_by"),
                      decided.c.on_behalf_of.label("decided_on_behalf_of"),
                      decided.c.actor_verified.label("decided_verified"),
                      decided.c.at.label("decided_at"))
            .where(decided.c[wl.owner] == wl.items.c.id, decided.c.action == "decided")
            .order_by(decided.c.id.desc()).limit(1).lateral("trail"))


def item_select(wl: WorkList, with_geojson: bool = False) -> sa.Select:
    """The items' columns, their decision trail (and the list's extra columns), and the
    geometry as GeoJSON text (``geojson``) when asked."""
    t = wl.items
    trail = _trail(wl)
    columns: list[sa.ColumnElement[Any]] = [t.c[name] for name in wl.fields]
    joined = t.outerjoin(trail, sa.true())
    columns += list(trail.c)
    if wl.extra is not None:
        extra = wl.extra(t)
        joined = joined.outerjoin(extra, sa.true())
        columns += list(extra.c)
    if with_geojson:
        columns.append(sa.func.ST_AsGeoJSON(t.c.geom, 8).label("geojson"))
    return sa.select(*columns).select_from(joined)


def to_item(wl: WorkList, row: Any, with_geometry: bool = False) -> BaseModel:
    data = dict(row._mapping)
    geojson = data.pop("geojson", None)
    if wl.finish is not None:
        data = wl.finish(data)
    areas = {k: v for k, v in Area(data["area_m2"]).as_dict().items() if k != "area_m2"}
    geometry = json.loads(geojson) if with_geometry and geojson else None
    return wl.model(**data, **areas, geometry=geometry)


def list_items(engine: Engine, wl: WorkList, filters: Filters, limit: int = 50,
               offset: int = 0, with_geometry: bool = False,
               max_limit: int | None = None) -> tuple[int, list[BaseModel]]:
    """A filtered page of the list (oldest first) and the number of items matching."""
    require_page(limit, offset, max_limit or wl.max_page)
    where = wl.conditions(filters)
    t = wl.items
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)
                             ).scalar_one()
        rows = conn.execute(item_select(wl, with_geometry).where(*where).order_by(t.c.id)
                            .limit(limit).offset(offset)).all()
    return total, [to_item(wl, r, with_geometry) for r in rows]


def all_items(engine: Engine, wl: WorkList, filters: Filters,
              with_geometry: bool = False) -> list[BaseModel]:
    """Every item matching the filters, in the list's order (one statement: what an export
    holds is one state of the list, not pages read at different times)."""
    where = wl.conditions(filters)
    with engine.connect() as conn:
        rows = conn.execute(item_select(wl, with_geometry).where(*where)
                            .order_by(wl.items.c.id)).all()
    return [to_item(wl, r, with_geometry) for r in rows]


def read_item(conn: Connection, wl: WorkList, item_id: int,
              with_geometry: bool = True) -> BaseModel:
    row = conn.execute(item_select(wl, with_geometry).where(wl.items.c.id == item_id)).first()
    if row is None:
        raise NotFound(msg("worklist.not_found", noun=wl.noun_message(), id=item_id))
    return to_item(wl, row, with_geometry)


def get_item(engine: Engine, wl: WorkList, item_id: int) -> Changed:
    """One item (with its geometry) and its history."""
    with engine.connect() as conn:
        item = read_item(conn, wl, item_id)
        return Changed(item, read_events(conn, wl, item_id))


def change(engine: Engine, wl: WorkList, item_id: int, expected_version: int,
           actor: Actor | None, reason: str | None, action: str,
           assignments: Mapping[sa.Column, Any], details: dict[str, Any],
           hook: Hook | None = None) -> Changed:
    """Apply ``assignments`` on the version the caller saw, record the event (``details``,
    the new version) and run ``hook``, in one transaction; the item and its history after."""
    actor = resolve(actor)
    with engine.begin() as conn:
        row = versioned_update(conn, wl, item_id, expected_version, assignments)
        record_event(conn, wl, item_id, actor, action, details, reason, row.version)
        if hook is not None:
            hook(conn, item_id, row.version)
        return Changed(read_item(conn, wl, item_id), read_events(conn, wl, item_id))


def decide(engine: Engine, wl: WorkList, item_id: int, decision: str, actor: Actor | None,
           reason: str, expected_version: int, details: dict[str, Any] | None = None,
           hook: Hook | None = None) -> Changed:
    """Record a decision (the status becomes ``decided``); the reason is required."""
    require_decision(decision, reason, wl.decisions, wl.decision_group)
    t = wl.items
    return change(engine, wl, item_id, expected_version, actor, reason.strip(), "decided",
                  {t.c.decision: decision, t.c.status: "decided"},
                  {"decision": decision, **(details or {})}, hook)


def set_status(engine: Engine, wl: WorkList, item_id: int, status: str, actor: Actor | None,
               expected_version: int, reason: str | None = None) -> Changed:
    """Move an item to a status a person may set (``open``, ``field_check``)."""
    settable(wl, status)
    return change(engine, wl, item_id, expected_version, actor, reason, "status",
                  {wl.items.c.status: status}, {"status": status})


class SummaryRow(BaseModel):
    township: str | None
    village: str | None
    kind: str
    status: str
    count: int
    area_m2: float
    area_mu: float
    area_ha: float


def summarize(engine: Engine, wl: WorkList, filters: Filters) -> list[SummaryRow]:
    """Counts and areas per township, village, kind and status of the items matching."""
    t = wl.items
    keys = (t.c.township, t.c.village, t.c.kind, t.c.status)
    statement = (sa.select(*keys, sa.func.count(), sa.func.sum(t.c.area_m2))
                 .where(*wl.conditions(filters)).group_by(*keys)
                 .order_by(t.c.township.asc().nulls_first(), t.c.village.asc().nulls_first(),
                           t.c.kind, t.c.status))
    with engine.connect() as conn:
        rows = conn.execute(statement).all()
    return [SummaryRow(township=town, village=village, kind=kind, status=status, count=n,
                       **Area(area or 0.0).as_dict())
            for town, village, kind, status, n, area in rows]
