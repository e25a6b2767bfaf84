"""Batch siting: every footprint of a file checked, one row each, for a spreadsheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyogrio
from sqlalchemy import Engine

from gis.analysis.siting import SitingResult, check
from gis.errors import GISError, InputError
from gis.messages import DEFAULT_LANG, Foreign, Lang, msg
from gis.progress import NullProgress, Progress

#: (layer, zone) columns of the batch table, in the order planners read them.
OVERLAP_COLUMNS = [
    ("eco_redline", "core", "红线核心区"),
    ("eco_redline", "general", "红线一般控制区"),
    ("basic_farmland", None, "永久基本农田"),
    ("cultivated_land", None, "耕地"),
    ("urban_boundary", "centralized_construction", "集中建设区"),
]


def _row(result: SitingResult, lang: Lang = DEFAULT_LANG) -> dict:
    row = {"verdict": result.verdict, "area_m2": result.footprint_area.area_m2,
           "area_mu": result.footprint_area.area_mu, "area_ha": result.footprint_area.area_ha}
    for layer, zone, label in OVERLAP_COLUMNS:
        area = sum(o.area_m2 for o in result.overlaps
                   if o.layer == layer and (zone is None or o.zone == zone))
        row[f"{label}_m2"] = round(area, 2)
        row[f"{label}_mu"] = round(area * 15 / 10000, 4)
    row["rules"] = "; ".join(f"{r.rule_id}={r.verdict}" for r in result.rules)
    row["approval_path"] = result.approval_path.id if result.approval_path else ""
    row["warnings"] = "; ".join(w.message_en if lang == "en" else w.message_zh
                                for w in result.warnings)
    return row


def check_file(engine: Engine, path: Path | str, activity: str, new_construction_land: bool,
               temporary: bool = False, profile: str = "ningxia", id_field: str | None = None,
               activity_field: str | None = None, crs: str | None = None,
               progress: Progress | None = None, lang: Lang = DEFAULT_LANG,
               construction: bool = True, linear: bool | None = None,
               as_of: dt.date | None = None) -> pd.DataFrame:
    """Check each feature of ``path``; a footprint that fails gets its error in the row
    rather than stopping the batch. The rows' errors and warnings are in ``lang`` (Chinese
    unless asked: the table is the bureau's spreadsheet, and a job stores it as shown).
    ``construction`` and ``linear`` are the request's declarations (see
    :func:`gis.analysis.siting.check`), the same for every footprint; ``as_of`` the day
    whose control-line versions are checked (today)."""
    progress = progress or NullProgress()
    name = Path(path).name
    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several classes for unreadable files
        reason = Foreign(str(exc), msg("siting.batch.unreadable_account"))
        raise InputError(msg("siting.batch.unreadable", name=name, reason=reason)) from exc
    if frame.empty:
        raise InputError(msg("siting.batch.no_features", name=name))
    if frame.crs is None and crs is None:
        raise InputError(msg("siting.batch.no_crs", name=name))
    source_crs = crs or frame.crs.to_string()
    rows = []
    progress.stage(msg("siting.batch.stage", count=len(frame)), len(frame))
    for number, (_, feature) in enumerate(frame.iterrows(), start=1):
        ident = feature[id_field] if id_field else number
        code = feature[activity_field] if activity_field else activity
        try:
            result = check(engine, feature.geometry.wkt, code, new_construction_land,
                           temporary, profile, source_crs, construction=construction,
                           linear=linear, as_of=as_of)
            rows.append({"id": ident, "activity": code, **_row(result, lang), "error": ""})
        except GISError as exc:
            rows.append({"id": ident, "activity": code, "verdict": "error",
                         "error": exc.render(lang)})
        progress.advance()
    return pd.DataFrame(rows)


def write_table(table: pd.DataFrame, output: Path) -> Path:
    if output.suffix.lower() == ".csv":
        table.to_csv(output, index=False, encoding="utf-8-sig")  # BOM: Excel opens it right
    elif output.suffix.lower() == ".xlsx":
        table.to_excel(output, index=False, sheet_name="siting")
    else:
        raise InputError(msg("siting.batch.output_format", suffix=output.suffix))
    return output


__all__ = ["check_file", "write_table"]
