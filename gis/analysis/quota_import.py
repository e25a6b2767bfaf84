"""Importing a village quota ledger kept before the system (CSV, xlsx, GeoPackage table).

Historical draws are recorded as they were, without the quota check (the report flags an
over-drawn village), but not without the checks that keep the ledger readable: every area a
finite positive number, every purpose a known code, every ``other`` with its purpose stated
(:mod:`gis.analysis.quota_purposes`). One bad row refuses the whole file, naming the rows,
so a half-imported ledger never has to be untangled.
"""

from __future__ import annotations

import math

from sqlalchemy import Engine, text

from gis.analysis.quota_purposes import MAX_NOTE, NOTE_MISSING, PURPOSES, checked_note
from gis.errors import InputError
from gis.identity import Actor, resolve
from gis.messages import msg


def import_ledger(engine: Engine, path: str, layer: str = "quota_ledger",
                  actor: Actor | None = None) -> int:
    """Import historical draws (a table with village_code, project_code, project_name,
    area_m2, draw_date, purpose, purpose_note) as ``imported`` rows, without the quota check:
    the past is recorded as it was, over-drawn or not, and the report flags it. Every area
    must be a finite positive number and every ``other`` row must state its purpose in
    ``purpose_note`` (the whole import is refused otherwise, naming the rows). Rows
    already imported (same village, project, date and area) are skipped; returns how many
    were added. ``actor`` is who imports (recorded as the recorder)."""
    import pyogrio

    actor = resolve(actor)
    frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    missing = {"village_code", "project_code", "area_m2", "draw_date", "purpose"} - set(frame)
    if missing:
        raise InputError(msg("quota.ledger_columns_missing", columns=sorted(missing)))
    if bad := set(frame["purpose"]) - set(PURPOSES):
        raise InputError(msg("quota.ledger_bad_purposes", values=sorted(bad)))
    areas = [_as_number(v) for v in frame["area_m2"]]
    if wrong := [i + 1 for i, a in enumerate(areas) if not (math.isfinite(a) and a > 0)]:
        raise InputError(msg("quota.ledger_bad_areas", rows=wrong[:20]), rows=wrong[:20])
    notes = _import_notes(frame)
    added = 0
    with engine.begin() as conn:
        for row, area, note in zip(frame.itertuples(index=False), areas, notes, strict=True):
            added += conn.execute(text(
                "INSERT INTO quota_draws (village_code, project_code, project_name, area_m2, "
                "draw_date, purpose, purpose_note, recorded_by, actor_key, on_behalf_of, "
                "imported) SELECT :v, :p, :n, :a, CAST(:d AS date), :u, :note, :by, :key, "
                ":for, true "
                "WHERE NOT EXISTS (SELECT 1 FROM quota_draws WHERE village_code = :v AND "
                "project_code = :p AND draw_date = CAST(:d AS date) AND area_m2 = :a)"),
                {"v": row.village_code, "p": row.project_code,
                 "n": getattr(row, "project_name", None), "a": area,
                 "d": str(row.draw_date)[:10], "u": row.purpose, "note": note,
                 "by": actor.name,
                 "key": actor.key_id, "for": actor.on_behalf_of}).rowcount
    return added


def _import_notes(frame) -> list[str | None]:
    """Each row's stated purpose (None when blank); refuses the whole file, naming the rows,
    when an ``other`` row states none or a note is too long or holds a NUL."""
    column = frame["purpose_note"] if "purpose_note" in frame else [None] * len(frame)
    notes, missing, bad = [], [], []
    for i, (purpose, value) in enumerate(zip(frame["purpose"], column, strict=True)):
        text_value = None if value is None or value != value else str(value)  # NaN: empty
        try:
            notes.append(checked_note(purpose, text_value))
        except InputError as exc:
            stated_none = exc.catalogued is not None and exc.catalogued.key == NOTE_MISSING
            (missing if stated_none else bad).append(i + 1)
    if missing:
        raise InputError(msg("quota.ledger_purpose_notes_missing", rows=missing[:20]),
                         rows=missing[:20])
    if bad:
        raise InputError(msg("quota.ledger_purpose_notes_bad", rows=bad[:20],
                             limit=MAX_NOTE), rows=bad[:20])
    return notes


def _as_number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
