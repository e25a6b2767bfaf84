"""The items query of OGC API - Features: one SQL statement that returns finished GeoJSON.

PostgreSQL builds each feature's JSON (``json_build_object`` + ``ST_AsGeoJSON``), so Python
only joins strings: no geometry parsing or re-serialising in the web worker. Everything user
supplied arrives as bound parameters or is checked against the catalogue (property, sort
and selection names), so nothing a client sends is ever spliced into SQL.

``numberMatched`` stays cheap on big tables: the page's own statement counts the matches up
to ``COUNTED_WITH_PAGE`` (a map's bbox: one statement in all); past that the planner's row
estimate decides: under ``exact_count_limit`` rows they are counted exactly, above it the
estimate is returned and ``matched_exact`` is false (the API then says so in the response).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, ProgrammingError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from gis.errors import InvalidParameter, NotFound
from gis.layers.catalogue import Layer, get_layer
from gis.layers.schema import table_for
from gis.layers.versions import today, version_condition
from gis.messages import Foreign, Joined, msg
from gis.ogc.cql import FilterError, compile_filter, kind_of, parse_filter
from gis.ogc.crs import CRS84, ServedCRS
from gis.ogc.geometry import envelope
from gis.ogc.temporal import DateRange, datetime_condition
from gis.units import M2_PER_MU

MAX_LIMIT = 10_000
#: Rows the page statement counts itself (numberMatched without a second statement); more
#: matches fall back to the planner's estimate. 10,000 index entries cost ~2 ms to count.
COUNTED_WITH_PAGE = 10_000
#: Extra properties every feature carries besides the catalogue fields.
DERIVED = ("area_m2", "area_mu", "area_ha")


@dataclass
class ItemsQuery:
    layer: Layer
    limit: int = 10
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: ServedCRS = CRS84
    crs: ServedCRS = CRS84
    datetime: DateRange | None = None
    filter: str | None = None
    filter_lang: str | None = None
    filter_crs: ServedCRS = CRS84
    properties: list[str] | None = None
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (name, descending)
    equals: dict[str, str] = field(default_factory=dict)
    #: A control line's version asked for explicitly (``version=``); None: the one in force
    #: on the last day of ``datetime`` (open or absent: today). Never two versions at once.
    version: int | None = None

    def version_day(self) -> dt.date:
        """The day whose version in force a versioned layer serves: ``datetime``'s last day
        (an instant is its own day; an interval open at the end, or none: today)."""
        if self.datetime is not None and self.datetime.end is not None:
            return self.datetime.end
        return today()


@dataclass
class ItemsPage:
    features: list[str]  # each a GeoJSON Feature as JSON text
    number_matched: int
    matched_exact: bool

    def feature_collection(self, extra: dict[str, Any]) -> str:
        head = json.dumps({"type": "FeatureCollection", **extra}, ensure_ascii=False)
        return f'{head[:-1]}, "features": [{",".join(self.features)}]}}'


def queryable_columns(layer: Layer) -> dict[str, sa.Column]:
    """Columns a client may filter and sort on: the catalogue fields, id and area_m2."""
    table = table_for(layer)
    names = ["id", *layer.field_names, "area_m2"]
    return {name: table.c[name] for name in names}


def parse_sortby(text: str | None, layer: Layer) -> list[tuple[str, bool]]:
    if not text:
        return []
    columns = queryable_columns(layer)
    out = []
    for part in text.split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = part.lstrip("+-").strip()
        if name not in columns:
            raise InvalidParameter(msg("ogc.sortby_unknown", name=name,
                                       names=Joined.of(columns)), parameter="sortby")
        out.append((name, descending))
    return out


def parse_properties(text: str | None, layer: Layer) -> list[str] | None:
    if text is None:
        return None
    allowed = [*layer.field_names, *DERIVED]
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in allowed:
            raise InvalidParameter(msg("ogc.properties_unknown", name=name,
                                       names=Joined.of(allowed)), parameter="properties")
    return names


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None or text == "":
        return None
    try:
        numbers = [float(v) for v in text.split(",")]
    except ValueError:
        raise InvalidParameter(msg("ogc.bbox_not_numbers", value=text),
                               parameter="bbox") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or any(v != v or v in (float("inf"), float("-inf")) for v in numbers):
        raise InvalidParameter(msg("ogc.bbox_not_finite", value=text), parameter="bbox")
    return numbers[0], numbers[1], numbers[2], numbers[3]


def _equals(column: sa.Column, raw: str) -> sa.ColumnElement:
    python_type = column.type.python_type
    try:
        if python_type is bool:
            lowered = raw.lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError
            value: Any = lowered in ("true", "1")
        elif python_type in (int, float):
            value = python_type(raw)
        elif python_type is dt.date:
            value = dt.date.fromisoformat(raw)
        else:
            value = raw
    except ValueError:
        raise InvalidParameter(msg("ogc.value_type", name=column.name, value=raw,
                                   kind=kind_of(python_type)),
                               parameter=column.name) from None
    return column == sa.bindparam(None, value, type_=column.type)


def _geometry_output(geom: sa.ColumnElement, crs: ServedCRS) -> sa.ColumnElement:
    """GeoJSON text of the geometry in ``crs``: RFC 7946 ring orientation (outer rings
    counterclockwise, holes clockwise, on the ground: oriented before the axes are swapped),
    in the CRS's axis order."""
    out = geom if crs.srid == 4490 else sa.func.ST_Transform(geom, crs.srid)
    out = sa.func.ST_ForcePolygonCCW(out)
    if crs.swap_axes:
        out = sa.func.ST_FlipCoordinates(out)
    return sa.func.ST_AsGeoJSON(out, crs.decimals)


def where_clause(q: ItemsQuery) -> list[sa.ColumnElement]:
    table = table_for(q.layer)
    columns = queryable_columns(q.layer)
    conditions: list[sa.ColumnElement] = []
    if q.layer.versioned:
        conditions.append(version_condition(q.layer, q.version, q.version_day()))
    if q.bbox is not None:
        # ST_Intersects carries its own index test (&&), so the GiST index is used.
        conditions.append(sa.func.ST_Intersects(
            table.c.geom, envelope(q.bbox, q.bbox_crs, InvalidParameter, "bbox")))
    if q.datetime is not None:
        conditions.append(datetime_condition(q.layer, q.datetime))
    for name, raw in q.equals.items():
        conditions.append(_equals(columns[name], raw))
    if q.filter:
        tree = parse_filter(q.filter, q.filter_lang)
        conditions.append(compile_filter(tree, columns, table.c.geom, q.filter_crs))
    return conditions


def _feature_json(q: ItemsQuery) -> sa.ColumnElement:
    return _feature_expression(q.layer.id, q.crs,
                               tuple(q.properties) if q.properties is not None else None)


@lru_cache(maxsize=512)
def _feature_expression(layer_id: str, crs: ServedCRS,
                        properties: tuple[str, ...] | None) -> sa.ColumnElement:
    """The feature's JSON expression, built once per layer, CRS and property list: building
    it (some 2,000 SQLAlchemy calls) was a quarter of an items page's Python time on the
    1M-parcel table. A Core expression is immutable, so one object serves every request."""
    layer = get_layer(layer_id)
    table = table_for(layer)
    names = properties if properties is not None else [*layer.field_names, *DERIVED]
    pairs: list[Any] = []
    for name in names:
        if name == "area_mu":
            value: Any = sa.func.round(sa.cast(table.c.area_m2 / M2_PER_MU, sa.Numeric), 2)
        elif name == "area_ha":
            value = sa.func.round(sa.cast(table.c.area_m2 / 10_000, sa.Numeric), 4)
        elif name == "area_m2":
            value = sa.func.round(sa.cast(table.c.area_m2, sa.Numeric), 2)
        else:
            value = table.c[name]
        # The key as a literal in the SQL text, as the other keys here, quoted by SQLAlchemy.
        pairs += [sa.literal(name, sa.Text, literal_execute=True), value]
    return sa.cast(sa.func.json_build_object(
        sa.literal_column("'type'"), sa.literal_column("'Feature'"),
        sa.literal_column("'id'"), table.c.id,
        sa.literal_column("'geometry'"),
        sa.cast(_geometry_output(table.c.geom, crs), sa.JSON),
        sa.literal_column("'properties'"), sa.func.json_build_object(*pairs),
    ), sa.Text)


class _ExplainJson(sa.Executable, sa.ClauseElement):
    """``EXPLAIN (FORMAT JSON)`` of a Core query: SQLAlchemy has no EXPLAIN construct, and
    this one keeps the query an object (its bound values processed as in any execution)
    instead of pasting its text after the keyword. Not cached: a cached EXPLAIN would be
    matched to the query's result columns, which it does not return (compiled each time, as
    the query was before)."""

    inherit_cache = False

    def __init__(self, query: sa.Select) -> None:
        self.query = query


@compiles(_ExplainJson, "postgresql")
def _compile_explain(element: _ExplainJson, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.query, **kw)


def fetch_items(engine: Engine, q: ItemsQuery, exact_count_limit: int = 100_000) -> ItemsPage:
    if not 1 <= q.limit <= MAX_LIMIT:
        raise InvalidParameter(msg("ogc.limit_range", limit=MAX_LIMIT), parameter="limit")
    if q.offset < 0:
        raise InvalidParameter(msg("ogc.offset_negative"), parameter="offset")
    table = table_for(q.layer)
    conditions = where_clause(q)
    order = [table.c[name].desc() if desc else table.c[name].asc() for name, desc in q.sortby]
    order.append(table.c.id.asc())
    # The page carries a bounded count of all matching rows (one scalar subquery, run once):
    # under the bound it is numberMatched, and most pages (a map's bbox) need no second
    # statement. Only past it do the planner's estimate and, below exact_count_limit, an
    # exact count follow.
    cap = min(exact_count_limit, COUNTED_WITH_PAGE) + 1
    bounded = sa.select(sa.func.count()).select_from(
        sa.select(table.c.id).where(*conditions).limit(cap).subquery()).scalar_subquery()
    page = (sa.select(_feature_json(q), bounded).where(*conditions).order_by(*order)
            .limit(q.limit).offset(q.offset))
    count = sa.select(sa.func.count()).select_from(table).where(*conditions)
    try:
        # Autocommit: read-only statements need no BEGIN and ROLLBACK, two round trips that
        # were a tenth of a page's Python time under load.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            rows = conn.execute(page).all()
            features = [row[0] for row in rows]
            if q.offset == 0 and len(features) < q.limit:
                return ItemsPage(features, len(features), True)
            if rows and rows[0][1] < cap:
                return ItemsPage(features, rows[0][1], True)
            estimate = _estimate(conn, sa.select(table.c.id).where(*conditions))
            if estimate <= exact_count_limit:
                return ItemsPage(features, conn.execute(count).scalar_one(), True)
            return ItemsPage(features, estimate, False)
    except (DataError, ProgrammingError) as exc:
        # Reachable only through a filter the checks above let through (e.g. an invalid
        # geometry literal); autocommit: nothing is left open.
        message = str(exc.orig).split("\n")[0] if exc.orig else str(exc)
        raise FilterError(msg("ogc.query_failed", reason=Foreign(
            message, msg("ogc.query_failed_account")))) from None


def _estimate(conn: sa.Connection, query: sa.Select) -> int:
    plan = conn.execute(_ExplainJson(query)).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def fetch_item(engine: Engine, layer: Layer, fid: str, crs: ServedCRS = CRS84) -> str:
    if not fid.isdigit() or len(fid) > 18:
        raise NotFound(msg("ogc.no_feature", fid=fid, layer=layer.id))
    table = table_for(layer)
    query = sa.select(_feature_json(ItemsQuery(layer=layer, crs=crs))).where(
        table.c.id == int(fid))
    with engine.connect() as conn:
        row = conn.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(msg("ogc.no_feature", fid=fid, layer=layer.id))
    return row


def extent(engine: Engine, layer: Layer) -> list[float] | None:
    """The layer's bounding box in CRS84: the planner's estimate (instant) when statistics
    exist, else computed (small or freshly loaded tables)."""
    table = table_for(layer)
    with engine.connect() as conn:
        box = None
        try:
            box = conn.execute(sa.text(
                "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
                "(SELECT ST_EstimatedExtent(:t, 'geom') AS b) s"), {"t": table.name}).first()
        except Exception:  # no statistics yet: PostGIS raises rather than returning NULL
            conn.rollback()
        if box is None or box[0] is None:
            box = conn.execute(sa.select(
                sa.func.ST_XMin(sa.func.ST_Extent(table.c.geom)),
                sa.func.ST_YMin(sa.func.ST_Extent(table.c.geom)),
                sa.func.ST_XMax(sa.func.ST_Extent(table.c.geom)),
                sa.func.ST_YMax(sa.func.ST_Extent(table.c.geom)))).first()
    if box is None or box[0] is None:
        return None
    return [round(float(v), 7) for v in box]
