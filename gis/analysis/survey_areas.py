"""Survey statistics from the official areas: 图斑地类面积 (TBDLMJ), not polygon areas.

The third national land survey (三调) states each patch's official class area, TBDLMJ: its
ellipsoidal patch area TBMJ less the deducted linear features (田坎, KCDLBM 1203), KCMJ =
TBMJ x KCXS. Land-class totals, 耕地保有量 and the cultivated land under a footprint are
sums of TBDLMJ; a sum of polygon areas counts the terraces' ridges as cultivated land, so it
overstates it wherever the survey deducts them (most on sloping land).

Every figure here uses a patch's official area where the survey carries it and its polygon
area where not, and says which (``basis``: ``official``, ``polygon`` or ``mixed``). A piece
of a patch (a footprint over part of it) takes the official area pro rata to the piece's
share of the patch's polygon area, and the result says how many patches were cut so.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

import shapely
from pydantic import BaseModel
from sqlalchemy import Connection, Engine

from gis.analysis.statements import statement
from gis.errors import InputError
from gis.layers.catalogue import get_layer
from gis.messages import msg
from gis.rules import division_prefix
from gis.units import Area

Basis = Literal["official", "polygon", "mixed", "none"]
#: First-level class (GB/T 21010) of cultivated land.
CULTIVATED = "01"


def basis_of(with_official: int, patches: int) -> Basis:
    """``official`` when every patch counted carries TBDLMJ, ``polygon`` when none does."""
    if patches == 0:
        return "none"
    if with_official == patches:
        return "official"
    return "polygon" if with_official == 0 else "mixed"


def class_name(code: str) -> tuple[str, str]:
    """The first-level class's names (zh, en) from the catalogue's survey legend."""
    for c in get_layer("survey_patches").style.classes:
        if c.value == code:
            return c.zh, c.en
    return code, code


class LandClassTotal(BaseModel):
    """One first-level land class of a division: official and polygon totals."""

    code: str
    name_zh: str
    name_en: str
    patches: int
    #: Patches carrying an official area (TBDLMJ); the others count with their polygon area.
    official_patches: int
    basis: Basis
    #: The total as the survey states it (TBDLMJ where present, else the polygon area).
    area_m2: float
    area_mu: float
    area_ha: float
    #: The sum of the patches' polygon (ellipsoidal) areas, and the deducted area (KCMJ).
    polygon_m2: float
    deducted_m2: float


def land_class_totals(engine: Engine, division: str) -> list[LandClassTotal]:
    """Totals per first-level class of the survey patches whose county code starts with
    ``division`` (a county code, or ``64`` for the region)."""
    if not division.isdigit() or len(division) > 12:
        raise InputError(msg("control_lines.bad_division", division=division))
    with engine.connect() as conn:
        rows = _class_rows(conn, division_prefix(division))
    out = []
    for row in rows:
        zh, en = class_name(row["code"])
        out.append(LandClassTotal(
            code=row["code"], name_zh=zh, name_en=en, patches=row["patches"],
            official_patches=row["official_patches"],
            basis=basis_of(row["official_patches"], row["patches"]),
            **Area(row["area_m2"]).as_dict(), polygon_m2=round(row["polygon_m2"], 2),
            deducted_m2=round(row["deducted_m2"], 2)))
    return out


def _class_rows(conn: Connection, prefix: str) -> list[dict[str, Any]]:
    cur = conn.connection.driver_connection.cursor()
    cur.execute(statement("survey_class_totals.sql"), {"prefix": prefix + "%"})
    names = [d.name for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def cultivated_total(conn: Connection, prefix: str) -> tuple[float, Basis, list[str]] | None:
    """耕地 (class 01) of the survey patches under ``prefix``: (area m², basis, the county
    codes summed); None when no cultivated survey patch is loaded there."""
    cur = conn.connection.driver_connection.cursor()
    cur.execute(statement("survey_cultivated.sql"), {"prefix": prefix + "%"})
    row = cur.fetchone()
    if row is None or not row[1]:
        return None
    area, patches, official, counties = row
    return float(area), basis_of(official, patches), list(counties)


def farmland_total(conn: Connection, prefix: str) -> tuple[float, Basis] | None:
    """永久基本农田 under ``prefix`` in official areas (each parcel's share of its survey
    patch's TBDLMJ, ``sql/survey_farmland.sql``): (area m², basis); None when no parcel
    meets a patch with an official area (the polygon total then stands)."""
    cur = conn.connection.driver_connection.cursor()
    cur.execute(statement("survey_farmland.sql"), {"p": prefix + "%"})
    area, parcels, official = cur.fetchone()
    if not official:
        return None
    return float(area), basis_of(official, parcels)


class LandClassShare(BaseModel):
    """One first-level class under a footprint."""

    code: str
    name_zh: str
    name_en: str
    patches: int
    #: Patches only partly under the footprint: their official area is taken pro rata.
    cut_patches: int
    basis: Basis
    area_m2: float
    area_mu: float
    area_ha: float
    polygon_m2: float


class SurveyShare(BaseModel):
    """The land survey under a footprint, in official areas (see the module docstring)."""

    classes: list[LandClassShare]
    #: Cultivated land (class 01) under the footprint, official, and its share of the
    #: footprint's area.
    cultivated_m2: float
    cultivated_mu: float
    cultivated_share: float
    basis: Basis
    pro_rata: bool
    note_zh: str
    note_en: str


def footprint_land_classes(engine: Engine, geometry: shapely.Geometry,
                           footprint_m2: float) -> SurveyShare | None:
    """The survey's land classes under a footprint (EPSG:4490); None without survey data
    under it. A patch wholly inside counts its official area; a piece of one counts
    ``TBDLMJ x piece / polygon area``."""
    ewkb = shapely.to_wkb(shapely.set_srid(geometry, 4490), include_srid=True)
    with engine.connect() as conn:
        cur = conn.connection.driver_connection.cursor()
        cur.execute(statement("siting_survey.sql"), {"footprint": ewkb})
        rows = cur.fetchall()
    if not rows:
        return None
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for _id, code, polygon_m2, official_m2, piece_m2, whole in rows:
        s = sums[(code or "")[:2]]
        s["patches"] += 1
        s["polygon"] += piece_m2
        if official_m2 is None:
            s["official"] += piece_m2
            continue
        s["with_official"] += 1
        if whole:
            s["official"] += official_m2
        else:
            s["cut"] += 1
            s["official"] += official_m2 * piece_m2 / polygon_m2 if polygon_m2 > 0 else 0.0
    classes = []
    for code in sorted(sums):
        s = sums[code]
        zh, en = class_name(code)
        classes.append(LandClassShare(
            code=code, name_zh=zh, name_en=en, patches=int(s["patches"]),
            cut_patches=int(s["cut"]), basis=basis_of(int(s["with_official"]), int(s["patches"])),
            **Area(s["official"]).as_dict(), polygon_m2=round(s["polygon"], 2)))
    patches = sum(c.patches for c in classes)
    with_official = sum(int(sums[c.code]["with_official"]) for c in classes)
    cut = sum(c.cut_patches for c in classes)
    cultivated = sums[CULTIVATED]["official"] if CULTIVATED in sums else 0.0
    basis = basis_of(with_official, patches)
    note = msg(f"survey.share_{basis}", cut=cut)
    return SurveyShare(
        classes=classes, cultivated_m2=round(cultivated, 2),
        cultivated_mu=round(Area(cultivated).mu, 2),
        cultivated_share=round(cultivated / footprint_m2, 6) if footprint_m2 > 0 else 0.0,
        basis=basis, pro_rata=cut > 0, note_zh=note.render("zh"), note_en=note.render("en"))
