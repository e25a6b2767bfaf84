"""Field results back in: the field-check package of a work list and its import.

The package is a GeoPackage of the items sent to the field (status ``field_check``) matching
the list's filters, one layer per township, with the list's export columns and the columns a
surveyor fills in: the result (one of the list's decisions, by its label or code), the
surveyor, the date and remarks; redrawing an item's polygon gives its corrected boundary (a
check code says whether the geometry is still the one sent). A non-spatial table lists the
results allowed.

The import validates every filled-in row of every layer (the item exists and is still in
field check at the version the package was made from, the values are valid, a redrawn
boundary is a valid polygon within :data:`NEAR_M` of the item) and writes nothing unless all
are valid: each row becomes a ``*_field_results`` row and an event of its item (its version
bumped, so a decision made without having seen the results is refused), all in one
transaction.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import shapely
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection, Engine

from gis.analysis import worklist_ops as ops
from gis.analysis.worklist import WorkList, beijing_today, record_event, versioned_update
from gis.analysis.worklist_export import write_gpkg
from gis.analysis.worklist_policy import FULL, View
from gis.errors import InputError
from gis.identity import Actor, resolve
from gis.messages import DEFAULT_LANG, LANGS, Code, Joined, Lang, Message, label, labels, msg
from gis.messages import text as message_text

#: A redrawn boundary must come within this many metres of its item (a boundary drawn
#: elsewhere is a mistake, not a correction).
NEAR_M = 100.0
#: The columns a surveyor fills in (their headers are ``worklist.field.<name>``).
FILL = ("result", "surveyor", "survey_date", "remarks")
_HEADERS = {"result": "worklist.field.result", "surveyor": "worklist.field.surveyor",
            "survey_date": "worklist.field.survey_date", "remarks": "worklist.field.remarks",
            "check": "worklist.field.check", "id": "worklist.column.id",
            "version": "worklist.column.version"}
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


class PackageSummary(BaseModel):
    items: int
    townships: dict[str, int]


class ImportSummary(BaseModel):
    batch: str
    source: str
    imported: int
    skipped: int
    boundaries: int
    items: list[int]


def _check_code(geometry: shapely.Geometry) -> str:
    """A short code of a geometry as written, telling a redrawn one from the one sent."""
    return hashlib.sha256(shapely.to_wkb(shapely.normalize(geometry), hex=False)).hexdigest()[:16]


def _header(name: str, lang: Lang) -> str:
    return message_text(_HEADERS[name], lang)


def package(engine: Engine, wl: WorkList, path: str | Path, filters: Mapping[str, Any],
            lang: Lang = DEFAULT_LANG, view: View = FULL) -> PackageSummary:
    """Write the field-check package of the items in ``field_check`` matching ``filters``."""
    from shapely.geometry import shape

    target = Path(path)
    if target.suffix.lower() != ".gpkg":
        raise InputError(msg("worklist.field.package_format", suffix=target.suffix))
    items = ops.all_items(engine, wl, {**filters, "status": "field_check"}, with_geometry=True)
    if not items:
        raise InputError(msg("worklist.field.nothing_sent"))
    if target.exists():
        target.unlink()
    towns: dict[str, list[Any]] = {}
    for item in items:
        name = item.township or message_text("worklist.field.no_township", lang)  # type: ignore[attr-defined]
        towns.setdefault(name, []).append(item)
    for name, group in towns.items():
        extra = {_header(f, lang): [None] * len(group) for f in FILL}
        # the code of the geometry as written (a bounding box for a role without outlines)
        extra[_header("check", lang)] = [_check_code(shape(i.geometry))
                                         for i in view.items(group)]
        write_gpkg(wl, group, target, lang, layer=name, extra=extra, view=view)
    _write_choices(wl, target, lang)
    return PackageSummary(items=len(items), townships={k: len(v) for k, v in towns.items()})


def _write_choices(wl: WorkList, path: Path, lang: Lang) -> None:
    import pandas as pd
    import pyogrio

    choices = labels(wl.decision_group, lang)
    frame = pd.DataFrame({_header("result", lang): list(choices.values()),
                          "code": list(choices)})
    pyogrio.write_dataframe(frame, path, layer=message_text("worklist.field.choices", lang),
                            driver="GPKG", append=True)


def _results(wl: WorkList) -> dict[str, str]:
    """Every way a result may be written (code, label in either language) -> its code."""
    out = {code: code for code in wl.decisions}
    for lang in LANGS:
        out.update({label(wl.decision_group, code, lang): code for code in wl.decisions})
    return out


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    found = _DATE.match(str(value))
    if not found:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    shown = str(value).strip()
    return shown or None


def _column(frame: Any, name: str) -> str | None:
    """The frame's column for ``name``, by its header in either language or the name."""
    for candidate in (*(_header(name, lang) for lang in LANGS), name):
        if candidate in frame.columns:
            return candidate
    return None


class _Row(BaseModel):
    layer: str
    row: int
    id: int | None
    version: int | None
    values: dict[str, Any]
    geometry: Any = None
    check: str | None = None

    model_config = {"arbitrary_types_allowed": True}


def _read(path: Path, name: str, wl: WorkList) -> tuple[list[_Row], int]:
    """The filled-in rows of every layer of the package, and how many were left empty."""
    import pyogrio

    try:
        layers = [(str(n), g) for n, g in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(msg("worklist.field.unreadable", name=name)) from exc
    rows, skipped = [], 0
    for layer, geometry_type in layers:
        if geometry_type is None:
            continue  # the table of allowed results
        frame = pyogrio.read_dataframe(path, layer=layer)
        if frame.crs is not None and frame.crs.to_epsg() != 4490:
            frame = frame.to_crs(4490)
        columns = {n: _column(frame, n) for n in ("id", "version", *FILL, "check")}
        if columns["id"] is None or columns["version"] is None or columns["result"] is None:
            raise InputError(msg("worklist.field.not_a_package", name=name, layer=layer))
        for number, record in enumerate(frame.to_dict("records"), start=1):
            values = {f: _text(record.get(columns[f])) if columns[f] else None for f in FILL}
            if not any(values.values()):
                skipped += 1
                continue
            values["survey_date"] = record.get(columns["survey_date"]) \
                if columns["survey_date"] else None
            ident, version = record.get(columns["id"]), record.get(columns["version"])
            rows.append(_Row(layer=layer, row=number, id=_int(ident), version=_int(version),
                             values=values, geometry=record.get("geometry"),
                             check=_text(record.get(columns["check"])) if columns["check"]
                             else None))
    return rows, skipped


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _boundary(row: _Row) -> shapely.Geometry | None:
    """The corrected boundary, if the row's geometry is not the one sent."""
    geometry = row.geometry
    if geometry is None or geometry.is_empty:
        return None
    if row.check is not None and _check_code(geometry) == row.check:
        return None
    return geometry


def _problems(conn: Connection, wl: WorkList, row: _Row, seen: set[int],
              results: dict[str, str]) -> tuple[list[str], shapely.Geometry | None]:
    """What is wrong with one row (problem codes), and its corrected boundary."""
    t = wl.items
    problems: list[str] = []
    if row.id is None or row.version is None:
        return ["id"], None
    if row.id in seen:
        problems.append("duplicate")
    seen.add(row.id)
    current = conn.execute(sa.select(t.c.status, t.c.version).where(t.c.id == row.id)
                           .with_for_update()).first()
    if current is None:
        return [*problems, "not_found"], None
    if current.status != "field_check":
        problems.append("not_in_field_check")
    elif current.version != row.version:
        problems.append("stale")
    if results.get(row.values["result"] or "") is None:
        problems.append("result")
    if not row.values["surveyor"]:
        problems.append("surveyor")
    when = _date(row.values["survey_date"]) if row.values["survey_date"] is not None else None
    if when is None or when > beijing_today():
        problems.append("survey_date")
    boundary = _boundary(row)
    if boundary is not None:
        if not boundary.is_valid or boundary.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append("geometry_invalid")
        elif not conn.execute(sa.select(sa.func.ST_DWithin(
                sa.func.geography(t.c.geom),
                sa.func.geography(sa.func.ST_GeomFromWKB(shapely.to_wkb(boundary), 4490)),
                NEAR_M)).where(t.c.id == row.id)).scalar_one():
            problems.append("geometry_far")
    return problems, boundary


def _refusal(bad: list[tuple[_Row, list[str]]]) -> InputError:
    lines = [msg("worklist.field.row", layer=r.layer, row=r.row, id=r.id if r.id else "-",
                 problems=Joined.of(Code("field_problem", p) for p in problems))
             for r, problems in bad]
    shown: list[Message] = lines[:20]
    return InputError(msg("worklist.field.refused", count=len(bad),
                          rows=Joined.of(shown, strong=True)),
                      rows=[{"layer": r.layer, "row": r.row, "id": r.id, "problems": p}
                            for r, p in bad])


def import_results(engine: Engine, wl: WorkList, path: str | Path, actor: Actor | None,
                   source: str | None = None) -> ImportSummary:
    """Import a filled-in field-check package: all rows or none."""
    actor = resolve(actor)
    target = Path(path)
    name = source or target.name
    rows, skipped = _read(target, name, wl)
    if not rows:
        raise InputError(msg("worklist.field.nothing_filled", name=name))
    results = _results(wl)
    batch = uuid.uuid4().hex
    with engine.begin() as conn:
        checked = []
        seen: set[int] = set()
        for row in rows:
            problems, boundary = _problems(conn, wl, row, seen, results)
            checked.append((row, problems, boundary))
        bad = [(row, problems) for row, problems, _ in checked if problems]
        if bad:
            raise _refusal(bad)
        for row, _, boundary in checked:
            _record(conn, wl, row, boundary, results, actor, batch, name)
    return ImportSummary(batch=batch, source=name, imported=len(rows), skipped=skipped,
                         boundaries=sum(1 for _, _, b in checked if b is not None),
                         items=[row.id for row in rows if row.id is not None])


def _record(conn: Connection, wl: WorkList, row: _Row, boundary: shapely.Geometry | None,
            results: dict[str, str], actor: Actor, batch: str, source: str) -> None:
    assert row.id is not None and row.version is not None
    result = results[row.values["result"]]
    surveyed = _date(row.values["survey_date"])
    assert surveyed is not None
    updated = versioned_update(conn, wl, row.id, row.version, {})
    geom = None if boundary is None else sa.func.ST_Multi(
        sa.func.ST_GeomFromWKB(shapely.to_wkb(boundary), 4490))
    conn.execute(sa.insert(wl.field_results).values({
        wl.field_results.c[wl.owner]: row.id, "batch": batch, "source": source,
        "result": result, "surveyor": row.values["surveyor"], "survey_date": surveyed,
        "remarks": row.values["remarks"], "item_version": row.version, "geom": geom,
        **actor.columns()}))
    record_event(conn, wl, row.id, actor, "field_result", {
        "batch": batch, "source": source, "result": result,
        "surveyor": row.values["surveyor"], "survey_date": surveyed.isoformat(),
        "boundary": boundary is not None}, row.values["remarks"], updated.version)
