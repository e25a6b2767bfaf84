"""Village flexible construction-land quota (机动指标, the "5% allowance") and its ledger.

Compliance is read from the profile of the jurisdiction each village lies in: Xingqing's
"no less than 5%" (000:854-858) and Dawukou's "5%" read as 5% within a tolerance
(001:1144-1148) differ only in the profile's comparator and tolerance. The ledger records
draws by projects; what remains is always derived from the ledger, never stored, and a draw
is admitted only under a row lock on the village plan, so concurrent draws cannot together
exceed the quota.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import Engine, text

from gis.errors import InputError, NotFound
from gis.rules import division_prefix, profile_for_division
from gis.rules.models import Citation, QuotaRule
from gis.units import Area

Purpose = Literal["key_industry", "major_project", "ecological_restoration"]
PURPOSES: tuple[str, ...] = Purpose.__args__  # type: ignore[attr-defined]


class VillageQuota(BaseModel):
    village_code: str
    village_name: str
    township_name: str
    profile: str
    planned_construction_m2: float
    quota_m2: float
    quota_mu: float
    share: float
    threshold: float
    comparator: str
    tolerance: float
    compliant: bool
    #: Why, in words: below the threshold, above an exact figure, or compliant.
    assessment_zh: str
    drawn_m2: float
    remaining_m2: float
    overdrawn: bool
    rule_text_zh: str
    citation: Citation


class Draw(BaseModel):
    id: int
    village_code: str
    project_code: str
    project_name: str | None
    area_m2: float
    area_mu: float
    draw_date: dt.date
    purpose: str
    recorded_by: str | None
    recorded_at: dt.datetime
    imported: bool


_VILLAGES = """
SELECT v.village_code, v.village_name, v.township_name, v.planned_construction_m2,
       v.flexible_quota_m2, coalesce(d.drawn, 0)
FROM village_plans AS v
LEFT JOIN (SELECT village_code, sum(area_m2) AS drawn FROM quota_draws GROUP BY village_code)
     AS d USING (village_code)
WHERE v.village_code LIKE :prefix
ORDER BY v.village_code
"""


def village_report(engine: Engine, division: str = "64") -> list[VillageQuota]:
    """Quota compliance and ledger balance of every village plan under ``division``."""
    with engine.connect() as conn:
        rows = conn.execute(text(_VILLAGES), {"prefix": division_prefix(division) + "%"}).all()
    out = []
    for code, name, township, base, quota, drawn in rows:
        profile = profile_for_division(code)
        rule = (profile.quota or {}).get("village_flexible")
        if rule is None:
            continue  # no village quota rule in this jurisdiction's profile
        base, quota = base or 0.0, quota or 0.0
        share = quota / base if base > 0 else 0.0
        out.append(VillageQuota(
            village_code=code, village_name=name, township_name=township,
            profile=profile.id, planned_construction_m2=base, quota_m2=quota,
            quota_mu=round(Area(quota).mu, 4), share=round(share, 6),
            threshold=rule.threshold, comparator=rule.comparator, tolerance=rule.tolerance,
            compliant=base > 0 and rule.complies(share),
            assessment_zh=_assessment(base, share, rule), drawn_m2=drawn,
            remaining_m2=quota - drawn, overdrawn=drawn > quota, rule_text_zh=rule.text_zh,
            citation=rule.citation,
        ))
    return out


class TownshipReserve(BaseModel):
    """A township plan's reserved construction-land indicator against the profile."""

    township_code: str
    township_name: str
    profile: str
    planned_construction_m2: float
    reserved_m2: float
    reserved_mu: float
    share: float
    threshold: float
    comparator: str
    tolerance: float
    compliant: bool
    assessment_zh: str
    rule_text_zh: str
    citation: Citation


_TOWNSHIPS = """
SELECT township_code, township_name, planned_construction_m2, reserved_indicator_m2
FROM township_plans WHERE township_code LIKE :prefix ORDER BY township_code
"""


def township_report(engine: Engine, division: str = "64") -> list[TownshipReserve]:
    """The reserved indicator of every township plan under ``division`` whose profile has a
    township rule (Dawukou: "no less than 10%", 001:1142-1144); others are left out."""
    with engine.connect() as conn:
        rows = conn.execute(text(_TOWNSHIPS), {"prefix": division_prefix(division) + "%"}).all()
    out = []
    for code, name, base, reserved in rows:
        profile = profile_for_division(code)
        rule = (profile.quota or {}).get("township_reserve")
        if rule is None:
            continue
        base, reserved = base or 0.0, reserved or 0.0
        share = reserved / base if base > 0 else 0.0
        out.append(TownshipReserve(
            township_code=code, township_name=name, profile=profile.id,
            planned_construction_m2=base, reserved_m2=reserved,
            reserved_mu=round(Area(reserved).mu, 4), share=round(share, 6),
            threshold=rule.threshold, comparator=rule.comparator, tolerance=rule.tolerance,
            compliant=base > 0 and rule.complies(share),
            assessment_zh=_assessment(base, share, rule), rule_text_zh=rule.text_zh,
            citation=rule.citation))
    return out


def _assessment(base: float, share: float, rule: QuotaRule) -> str:
    if base <= 0:
        return "规划建设用地为零，无法计算比例"
    if rule.complies(share):
        return "符合"
    if share < rule.threshold:
        return f"低于{rule.threshold:.0%}"
    return (f"高于规定的{rule.threshold:.0%}（要求安排{rule.threshold:.0%}，"
            f"容差±{rule.tolerance:.1%}）")


def ledger(engine: Engine, village_code: str) -> list[Draw]:
    _plan(engine, village_code)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, village_code, project_code, project_name, area_m2, draw_date, purpose, "
            "recorded_by, recorded_at, imported FROM quota_draws WHERE village_code = :code "
            "ORDER BY draw_date, id"), {"code": village_code}).mappings().all()
    return [Draw(**row, area_mu=round(Area(row["area_m2"]).mu, 4)) for row in rows]


def _plan(engine: Engine, village_code: str) -> tuple[str, float | None]:
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT village_name, flexible_quota_m2 FROM village_plans "
            "WHERE village_code = :code"), {"code": village_code}).first()
    if row is None:
        raise NotFound(f"no village plan with code {village_code!r}")
    return row[0], row[1]


def draw(engine: Engine, village_code: str, project_code: str, area_m2: float,
         purpose: Purpose, draw_date: dt.date | None = None, project_name: str | None = None,
         recorded_by: str | None = None) -> Draw:
    """Record a draw; refuse it if it exceeds what remains. Serialized per village by a row
    lock on the plan, so two concurrent draws see each other."""
    if not area_m2 or area_m2 <= 0:
        raise InputError(f"a draw must be a positive area, not {area_m2!r} m²")
    if purpose not in PURPOSES:
        raise InputError(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose!r}")
    if not project_code.strip():
        raise InputError("a draw needs the project code (项目代码)")
    with engine.begin() as conn:
        plan = conn.execute(text(
            "SELECT village_name, flexible_quota_m2 FROM village_plans "
            "WHERE village_code = :code FOR UPDATE"), {"code": village_code}).first()
        if plan is None:
            raise NotFound(f"no village plan with code {village_code!r}")
        name, quota = plan
        if not quota or quota <= 0:
            raise InputError(f"the plan of {name} ({village_code}) has no flexible quota to "
                             "draw on")
        drawn = conn.execute(text(
            "SELECT coalesce(sum(area_m2), 0) FROM quota_draws WHERE village_code = :code"),
            {"code": village_code}).scalar_one()
        remaining = quota - drawn
        if area_m2 > remaining:
            raise InputError(
                f"{name} ({village_code}) has {max(remaining, 0):,.2f} m² "
                f"({Area(max(remaining, 0)).mu:,.2f} 亩) of flexible quota left; a draw of "
                f"{area_m2:,.2f} m² ({Area(area_m2).mu:,.2f} 亩) is refused",
                remaining_m2=remaining, requested_m2=area_m2)
        row = conn.execute(text(
            "INSERT INTO quota_draws (village_code, project_code, project_name, area_m2, "
            "draw_date, purpose, recorded_by) VALUES (:v, :p, :n, :a, :d, :u, :r) "
            "RETURNING id, village_code, project_code, project_name, area_m2, draw_date, "
            "purpose, recorded_by, recorded_at, imported"),
            {"v": village_code, "p": project_code, "n": project_name, "a": area_m2,
             "d": draw_date or dt.date.today(), "u": purpose, "r": recorded_by},
        ).mappings().one()
    return Draw(**row, area_mu=round(Area(row["area_m2"]).mu, 4))


__all__ = ["Draw", "VillageQuota", "draw", "ledger", "village_report"]


def import_ledger(engine: Engine, path: str, layer: str = "quota_ledger") -> int:
    """Import historical draws (a table with village_code, project_code, project_name,
    area_m2, draw_date, purpose) as ``imported`` rows, without the quota check: the past is
    recorded as it was, over-drawn or not, and the report flags it. Rows already imported
    (same village, project, date and area) are skipped; returns how many were added."""
    import pyogrio

    frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    missing = {"village_code", "project_code", "area_m2", "draw_date", "purpose"} - set(frame)
    if missing:
        raise InputError(f"the ledger table lacks columns {sorted(missing)}")
    if bad := set(frame["purpose"]) - set(PURPOSES):
        raise InputError(f"unknown purposes in the ledger: {sorted(bad)}")
    added = 0
    with engine.begin() as conn:
        for row in frame.itertuples(index=False):
            added += conn.execute(text(
                "INSERT INTO quota_draws (village_code, project_code, project_name, area_m2, "
                "draw_date, purpose, recorded_by, imported) "
                "SELECT :v, :p, :n, :a, CAST(:d AS date), :u, 'import', true "
                "WHERE NOT EXISTS (SELECT 1 FROM quota_draws WHERE village_code = :v AND "
                "project_code = :p AND draw_date = CAST(:d AS date) AND area_m2 = :a)"),
                {"v": row.village_code, "p": row.project_code,
                 "n": getattr(row, "project_name", None), "a": float(row.area_m2),
                 "d": str(row.draw_date)[:10], "u": row.purpose}).rowcount
    return added
