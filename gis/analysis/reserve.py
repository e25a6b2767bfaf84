"""Village flexible construction-land quota (机动指标, the "5% allowance") and its ledger.

Compliance is read from the profile of the jurisdiction each village lies in: Xingqing's
"no less than 5%" (000:854-858) and Dawukou's "5%" read as 5% within a tolerance
(001:1144-1148) differ only in the profile's comparator and tolerance. The ledger records
draws by projects; what remains is always derived from the ledger, never stored, and a draw
is admitted only under a row lock on the village plan, so concurrent draws cannot together
exceed the quota. Shares and balances are compared exactly (:mod:`gis.rules.thresholds`:
areas to the centi-square-metre, shares as exact ratios), so a plan at exactly the required
share complies and a draw of exactly what remains is admitted.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from gis.analysis.quota_import import import_ledger
from gis.analysis.quota_purposes import checked_purpose
from gis.analysis.statements import statement
from gis.db.records import quota_draws
from gis.errors import Conflict, InputError, NotFound
from gis.identity import Actor, resolve
from gis.messages import msg
from gis.numbers import require_finite
from gis.rules import division_prefix, profile_for_division
from gis.rules.models import Citation, QuotaPurpose, QuotaRule
from gis.rules.thresholds import area, share, total
from gis.units import Area

#: What a draw is for: the rule's three examples, or ``other`` with the purpose stated (its
#: 等 opens the list; see :mod:`gis.analysis.quota_purposes`, and the profiles' ``purposes``).
Purpose = QuotaPurpose


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
    #: Ledger rows whose stored area was not a finite number (found by migration 0009): they
    #: count for nothing in the balance until a planner reviews and reverses them.
    invalid_entries: int = 0
    rule_text_zh: str
    citation: Citation


Entry = Literal["draw", "reversal"]


class Draw(BaseModel):
    """A ledger row: a draw (positive area), or a reversal of one (its negated area)."""

    id: int
    village_code: str
    project_code: str
    project_name: str | None
    entry: Entry = "draw"
    #: m²; None only for a row found invalid (see ``invalid_value``).
    area_m2: float | None
    area_mu: float | None
    draw_date: dt.date
    purpose: str
    #: The purpose in words: required for ``other`` (what it was), optional otherwise.
    purpose_note: str | None = None
    #: The draw this entry reverses, and why.
    reverses: int | None = None
    reason: str | None = None
    #: Set by the draw's reversal, if any.
    reversed_by: int | None = None
    #: The non-finite value the row held before it was quarantined (NaN, Infinity).
    invalid_value: str | None = None
    recorded_by: str | None
    on_behalf_of: str | None = None
    #: False for rows recorded before actors were authenticated (the recorder is unknown).
    actor_verified: bool = True
    recorded_at: dt.datetime
    imported: bool


def _known(value: float | None) -> float:
    """A stored quantity, with anything not a finite number read as 0 (no quota)."""
    return value if value is not None and math.isfinite(value) else 0.0


def village_report(engine: Engine, division: str = "64") -> list[VillageQuota]:
    """Quota compliance and ledger balance of every village plan under ``division``."""
    with engine.connect() as conn:
        rows = conn.execute(text(statement("reserve_villages.sql")),
                            {"prefix": division_prefix(division) + "%"}).all()
    out = []
    for code, name, township, base, quota, draws, invalid in rows:
        profile = profile_for_division(code)
        rule = (profile.quota or {}).get("village_flexible")
        if rule is None:
            continue  # no village quota rule in this jurisdiction's profile
        base, quota = _known(base), _known(quota)
        drawn = total(draws or [])
        out.append(VillageQuota(
            village_code=code, village_name=name, township_name=township,
            profile=profile.id, planned_construction_m2=base, quota_m2=quota,
            quota_mu=round(Area(quota).mu, 4), share=_rounded_share(quota, base),
            threshold=rule.threshold, comparator=rule.comparator, tolerance=rule.tolerance,
            compliant=_complies(rule, quota, base),
            assessment_zh=_assessment(base, quota, rule), drawn_m2=float(drawn),
            remaining_m2=float(area(quota) - drawn), overdrawn=drawn > area(quota),
            invalid_entries=invalid, rule_text_zh=rule.text_zh, citation=rule.citation,
        ))
    return out


def _rounded_share(part: float, base: float) -> float:
    """The share shown (6 decimals); 0 when there is no base. Judged exactly elsewhere."""
    exact_share = share(part, base)
    return 0.0 if exact_share is None else round(float(exact_share), 6)


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
        base, reserved = _known(base), _known(reserved)
        out.append(TownshipReserve(
            township_code=code, township_name=name, profile=profile.id,
            planned_construction_m2=base, reserved_m2=reserved,
            reserved_mu=round(Area(reserved).mu, 4), share=_rounded_share(reserved, base),
            threshold=rule.threshold, comparator=rule.comparator, tolerance=rule.tolerance,
            compliant=_complies(rule, reserved, base),
            assessment_zh=_assessment(base, reserved, rule), rule_text_zh=rule.text_zh,
            citation=rule.citation))
    return out


def _complies(rule: QuotaRule, part: float, base: float) -> bool:
    """Whether ``part / base``, computed exactly, satisfies ``rule`` (no base: it does not)."""
    ratio = share(part, base)
    return ratio is not None and rule.complies(ratio)


def _assessment(base: float, part: float, rule: QuotaRule) -> str:
    ratio = share(part, base)
    if ratio is None:
        return "规划建设用地为零，无法计算比例"
    if rule.complies(ratio):
        return "符合"
    if rule.below(ratio):
        return f"低于{rule.threshold:.0%}"
    return (f"高于规定的{rule.threshold:.0%}（要求安排{rule.threshold:.0%}，"
            f"容差±{rule.tolerance:.1%}）")


#: The columns of a ledger row read back (``Draw``), besides ``reversed_by``.
_LEDGER_FIELDS = ("id", "village_code", "project_code", "project_name", "entry", "area_m2",
                  "draw_date", "purpose", "purpose_note", "reverses", "reason", "invalid_value",
                  "recorded_by", "on_behalf_of", "actor_verified", "recorded_at", "imported")


def _ledger_rows() -> tuple[sa.Select, sa.FromClause]:
    """Ledger rows ``d`` with the id of the reversal that undid each, if any (``r``)."""
    d, r = quota_draws.alias("d"), quota_draws.alias("r")
    query = (sa.select(*(d.c[name] for name in _LEDGER_FIELDS), r.c.id.label("reversed_by"))
             .select_from(d.outerjoin(r, r.c.reverses == d.c.id)))
    return query, d


def _draw(row) -> Draw:
    area = row["area_m2"]
    return Draw(**row, area_mu=None if area is None else round(Area(area).mu, 4))


def ledger(engine: Engine, village_code: str, invalid_only: bool = False) -> list[Draw]:
    """A village's ledger in date order: draws, reversals and (flagged) invalid rows. With
    ``invalid_only`` just the rows whose stored area was not a finite number."""
    _plan(engine, village_code)
    query, d = _ledger_rows()
    query = query.where(d.c.village_code == village_code)
    if invalid_only:
        query = query.where(d.c.invalid_value.is_not(None))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(d.c.draw_date, d.c.id)).mappings().all()
    return [_draw(row) for row in rows]


def invalid_entries(engine: Engine, division: str = "64") -> list[Draw]:
    """Every ledger row under ``division`` whose stored area was not a finite number."""
    query, d = _ledger_rows()
    query = query.where(d.c.village_code.like(division_prefix(division) + "%"),
                        d.c.invalid_value.is_not(None))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(d.c.village_code, d.c.id)).mappings().all()
    return [_draw(row) for row in rows]


def _plan(engine: Engine, village_code: str) -> tuple[str, float | None]:
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT village_name, flexible_quota_m2 FROM village_plans "
            "WHERE village_code = :code"), {"code": village_code}).first()
    if row is None:
        raise NotFound(msg("quota.no_village_plan", code=village_code))
    return row[0], row[1]


def _insert(conn, values: dict) -> Draw:
    row_id = conn.execute(text(
        "INSERT INTO quota_draws (village_code, project_code, project_name, entry, area_m2, "
        "draw_date, purpose, purpose_note, reverses, reason, recorded_by, actor_key, "
        "on_behalf_of) VALUES (:v, :p, :n, :e, :a, :d, :u, :note, :rev, :why, :by, :key, :for) "
        "RETURNING id"),
        values).scalar_one()
    query, d = _ledger_rows()
    row = conn.execute(query.where(d.c.id == row_id)).mappings().one()
    return _draw(row)


def draw(engine: Engine, village_code: str, project_code: str, area_m2: float,
         purpose: Purpose, draw_date: dt.date | None = None, project_name: str | None = None,
         actor: Actor | None = None, purpose_note: str | None = None) -> Draw:
    """Record a draw; refuse it if it exceeds what remains. Serialized per village by a row
    lock on the plan, so two concurrent draws see each other. ``actor`` is who records it
    (authenticated; see gis.identity). ``purpose`` is one the village's rule admits; for
    ``other`` (the rule's 等) ``purpose_note`` must say what the draw is for."""
    actor = resolve(actor)
    area_m2 = require_finite(area_m2, msg("field.area_drawn"), exclusive_minimum=0)
    purpose_note = checked_purpose(village_code, purpose, purpose_note)
    if not project_code.strip():
        raise InputError(msg("quota.project_code_missing"))
    with engine.begin() as conn:
        plan = conn.execute(text(
            "SELECT village_name, flexible_quota_m2 FROM village_plans "
            "WHERE village_code = :code FOR UPDATE"), {"code": village_code}).first()
        if plan is None:
            raise NotFound(msg("quota.no_village_plan", code=village_code))
        name, quota = plan[0], _known(plan[1])
        if quota <= 0:
            raise InputError(msg("quota.no_quota", name=name, code=village_code))
        drawn = total(conn.execute(text(
            "SELECT area_m2 FROM quota_draws WHERE village_code = :code "
            "AND area_m2 IS NOT NULL"), {"code": village_code}).scalars().all())
        remaining = area(quota) - drawn
        if area(area_m2) > remaining:  # exactly what remains is admitted
            left = float(max(remaining, 0))
            raise InputError(
                msg("quota.exceeds_remaining", name=name, code=village_code, remaining_m2=left,
                    remaining_mu=Area(left).mu, requested_m2=area_m2,
                    requested_mu=Area(area_m2).mu),
                remaining_m2=float(remaining), requested_m2=area_m2)
        return _insert(conn, {
            "v": village_code, "p": project_code, "n": project_name, "e": "draw",
            "a": area_m2, "d": draw_date or dt.date.today(), "u": purpose,
            "note": purpose_note, "rev": None, "why": None, "by": actor.name,
            "key": actor.key_id, "for": actor.on_behalf_of})


def reverse(engine: Engine, draw_id: int, reason: str, actor: Actor | None = None,
            village_code: str | None = None) -> Draw:
    """Undo a wrong draw by a reversal entry (its negated area, with who and why); the draw
    itself is never edited or deleted. A row found invalid (a NaN area) is reversed with 0.
    ``village_code``, when given, must be the draw's village (the API's path)."""
    actor = resolve(actor)
    if not reason or not reason.strip():
        raise InputError(msg("quota.reversal_reason_missing"))
    with engine.begin() as conn:
        target = conn.execute(text(
            "SELECT d.village_code, d.project_code, d.project_name, d.entry, d.area_m2, "
            "d.purpose, d.purpose_note, r.id AS reversed_by FROM quota_draws AS d "
            "LEFT JOIN quota_draws AS r ON r.reverses = d.id WHERE d.id = :id"),
            {"id": draw_id}).mappings().first()
        if target is None or (village_code is not None
                              and target["village_code"] != village_code):
            raise NotFound(msg("quota.no_entry_in_village", entry=draw_id, code=village_code)
                           if village_code else msg("quota.no_entry", entry=draw_id))
        conn.execute(text("SELECT 1 FROM village_plans WHERE village_code = :v FOR UPDATE"),
                     {"v": target["village_code"]})
        if target["entry"] != "draw":
            raise InputError(msg("quota.reverse_a_reversal", entry=draw_id))
        if target["reversed_by"] is not None:
            raise Conflict(msg("quota.already_reversed", entry=draw_id,
                               by=target["reversed_by"]))
        try:
            return _insert(conn, {
                "v": target["village_code"], "p": target["project_code"],
                "n": target["project_name"], "e": "reversal",
                "a": -(target["area_m2"] or 0.0), "d": dt.date.today(),
                "u": target["purpose"], "note": target["purpose_note"], "rev": draw_id,
                "why": reason.strip(),
                "by": actor.name, "key": actor.key_id, "for": actor.on_behalf_of})
        except IntegrityError as exc:  # a concurrent reversal of the same draw
            raise Conflict(msg("quota.reversed_concurrently", entry=draw_id)) from exc


__all__ = ["Draw", "VillageQuota", "draw", "import_ledger", "invalid_entries", "ledger",
           "reverse", "village_report"]
