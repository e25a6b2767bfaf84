"""The ``datetime`` parameter of OGC API - Features (Part 1, ``/req/core/fc-time-definition``
and ``fc-time-response``) and a collection's temporal extent.

Each catalogue layer names its primary temporal property (``temporal`` in
``catalogue.yaml``), a date: a calendar day in China Standard Time (UTC+08:00), which is how
approval and acquisition dates are recorded. A feature matches when that day intersects the
instant or interval asked for:

- ``2022-03-15``: that day; ``2022-03-15T10:00:00Z`` (RFC 3339, with ``Z`` or an offset): the
  day in China that instant falls on (here 2022-03-15, 18:00 in Beijing);
- ``2022-01-01/2022-06-30`` closed, ``2022-01-01/..`` or ``2022-01-01/`` open at the end,
  ``../2022-06-30`` or ``/2022-06-30`` open at the start, both ends inclusive;
- ``2022-01-01T``: a date followed by a bare ``T``, which GDAL's OAPIF driver (and so QGIS
  through it) sends for an attribute filter such as ``approved_date >= '2022-01-01'``
  (``datetime=2022-01-01T/..``): read as the date.

Anything else (an interval open at both ends, start after end, a time without a zone,
2022-13-01) is a 400. Part 1 (``/req/core/fc-time-response`` C) has ``datetime`` "match all
features in the collection that are not associated with a temporal geometry, too": so a
feature whose date is NULL is in every result, and in a collection without a temporal
property (``temporal: null``) ``datetime`` selects every feature; such a collection has no
``extent.temporal``, so clients can tell before asking. To leave undated features out, add
a CQL2 condition (``approved_date IS NOT NULL``).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from gis.errors import InvalidParameter
from gis.layers.catalogue import Layer
from gis.layers.schema import table_for
from gis.messages import msg

CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
#: Seconds a collection's temporal extent is reused (as the tiles' layer bounds).
EXTENT_MAX_AGE = 60
_INSTANT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt](?:(\d{2})(?::(\d{2})(?::(\d{2})(?:\.\d+)?)?)?([Zz]|[+-]\d{2}:\d{2}))?)?$")
_OPEN = ("", "..")


@dataclass(frozen=True)
class DateRange:
    """The days a ``datetime`` value covers, both ends inclusive, ``None`` for open."""

    start: dt.date | None
    end: dt.date | None


def _instant(text: str, raw: str) -> tuple[dt.datetime, dt.date]:
    """An instant: the moment it names (for ordering) and its day in China."""
    match = _INSTANT.match(text)
    if match is None:
        raise InvalidParameter(msg("ogc.datetime_invalid", value=raw), parameter="datetime")
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        if hour is None:
            moment = dt.datetime(int(year), int(month), int(day), tzinfo=CHINA_TIME)
            return moment, moment.date()
        offset = dt.UTC if zone in ("Z", "z") else dt.timezone(
            (1 if zone[0] == "+" else -1) * dt.timedelta(hours=int(zone[1:3]),
                                                         minutes=int(zone[4:6])))
        moment = dt.datetime(int(year), int(month), int(day), int(hour), int(minute or 0),
                             min(int(second or 0), 59), tzinfo=offset)
    except ValueError:
        raise InvalidParameter(msg("ogc.datetime_invalid", value=raw),
                               parameter="datetime") from None
    return moment, moment.astimezone(CHINA_TIME).date()


def day_of(text: str) -> dt.date:
    """The day in China of a date or RFC 3339 date-time written as text (also GDAL's
    ``2022-01-01T``), for comparisons with a date property; ValueError if it is neither."""
    try:
        return _instant(text.strip(), text)[1]
    except InvalidParameter:
        raise ValueError(text) from None


def parse_datetime(value: str | None) -> DateRange | None:
    """The ``datetime`` parameter as the days it covers (None when not given)."""
    if value is None:
        return None
    text = value.strip()
    if "/" not in text:
        _, day = _instant(text, value)
        return DateRange(day, day)
    parts = text.split("/")
    if len(parts) != 2 or (parts[0] in _OPEN and parts[1] in _OPEN):
        raise InvalidParameter(msg("ogc.datetime_invalid", value=value), parameter="datetime")
    start = None if parts[0] in _OPEN else _instant(parts[0], value)
    end = None if parts[1] in _OPEN else _instant(parts[1], value)
    if start is not None and end is not None and start[0] > end[0]:
        raise InvalidParameter(msg("ogc.datetime_reversed", value=value),
                               parameter="datetime")
    return DateRange(start[1] if start else None, end[1] if end else None)


def datetime_condition(layer: Layer, days: DateRange) -> sa.ColumnElement:
    """Features whose temporal property falls in ``days`` or is NULL; every feature of a
    layer without one (Part 1, ``/req/core/fc-time-response``)."""
    if layer.temporal is None:
        return sa.true()
    column = table_for(layer).c[layer.temporal]
    conditions = []
    if days.start is not None:
        conditions.append(column >= sa.bindparam(None, days.start, type_=column.type))
    if days.end is not None:
        conditions.append(column <= sa.bindparam(None, days.end, type_=column.type))
    return sa.or_(column.is_(None), sa.and_(*conditions))


_cache: dict[tuple[int, str], tuple[float, dict[str, Any] | None]] = {}
_lock = threading.Lock()


def temporal_extent(engine: Engine, layer: Layer) -> dict[str, Any] | None:
    """``extent.temporal`` of a collection: the first and last day of its temporal property
    as RFC 3339 instants in China time (None without a temporal property or dates), cached
    for :data:`EXTENT_MAX_AGE` seconds."""
    if layer.temporal is None:
        return None
    key, now = (id(engine), layer.id), time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[0] < EXTENT_MAX_AGE:
        return hit[1]
    column = table_for(layer).c[layer.temporal]
    with engine.connect() as conn:
        first, last = conn.execute(sa.select(sa.func.min(column), sa.func.max(column))).one()
    extent = None if first is None else {
        "interval": [[f"{first.isoformat()}T00:00:00+08:00",
                      f"{last.isoformat()}T23:59:59+08:00"]],
        "trs": GREGORIAN}
    with _lock:
        _cache[key] = (now, extent)
    return extent
