"""Legacy activities in the red line (历史遗留问题, 003:235): the exit plan a ``legacy``
decision on a monitoring patch requires, and the plans whose deadline has passed.

"生态保护红线内已存在的不符合准入要求的人为活动……由属地人民政府按照尊重历史、科学评估、依法依规、
逐步退出的原则，制定退出计划，明确退出时限，落实补偿安置、生态修复等措施" (rule
``redline.legacy_exit`` of the profile). A patch decided ``legacy`` therefore records the plan:
the exit measures, the deadline, the responsible unit, the compensation and resettlement and
the ecological restoration duties, with the rule cited as it stood (``monitor_exit_plans``,
one active plan per patch; a new decision supersedes it). A plan is overdue when it is still
active, its patch still on the list (not closed by a re-run) and its deadline has passed in
Beijing. Completing a plan is a change of its patch, versioned and in its history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Engine

from gis.analysis.monitoring_models import CitedRule
from gis.analysis.worklist import beijing_today, require_page
from gis.db.records import monitor_exit_plans, monitor_patches, monitor_runs
from gis.errors import ConfigurationError, InputError
from gis.identity import Actor
from gis.messages import Code, msg
from gis.rules import load_profile

#: The profile rule a legacy decision rests on.
RULE_ID = "redline.legacy_exit"
#: The fields of a plan a person fills in, in the order forms show them.
PLAN_FIELDS = ("measures", "deadline", "responsible_unit", "compensation", "restoration")


class ExitPlanInput(BaseModel):
    """What a ``legacy`` decision must say (003:235)."""

    measures: str
    deadline: date
    responsible_unit: str
    compensation: str
    restoration: str


class ExitPlan(ExitPlanInput):
    id: int
    patch_id: int
    status: str
    overdue: bool
    rule: CitedRule
    profile: str
    profile_version: str
    created_at: datetime
    actor: str
    on_behalf_of: str | None = None
    actor_verified: bool = True
    closed_at: datetime | None = None
    closed_by: str | None = None
    closed_reason: str | None = None


class OverduePlan(ExitPlan):
    """An overdue plan with the patch it belongs to (where to go and look)."""

    layer: str
    #: None only where the reader's role may not see it (gis.analysis.worklist_policy).
    feature_key: str | None
    feature_name: str | None
    division: str | None
    township: str | None
    village: str | None
    area_m2: float
    patch_version: int
    days_overdue: int


def require_plan(plan: ExitPlanInput | dict[str, Any] | None,
                 today: date | None = None) -> ExitPlanInput:
    """The exit plan of a legacy decision: every field given, text not blank, the deadline
    a date not before today (Beijing)."""
    if plan is None:
        raise InputError(msg("monitor.exit_plan_missing"))
    if isinstance(plan, dict):
        missing = [f for f in PLAN_FIELDS if plan.get(f) in (None, "")]
        if missing:
            raise InputError(msg("monitor.exit_plan_field",
                                 field=Code("exit_plan_field", missing[0])))
        try:
            plan = ExitPlanInput.model_validate(plan)
        except ValidationError as exc:
            field = str(exc.errors()[0]["loc"][0])
            raise InputError(msg("monitor.exit_plan_field",
                                 field=Code("exit_plan_field", field))) from None
    cleaned = plan.model_copy(update={f: getattr(plan, f).strip() for f in PLAN_FIELDS
                                      if f != "deadline"})
    for field in PLAN_FIELDS:
        if field != "deadline" and not getattr(cleaned, field):
            raise InputError(msg("monitor.exit_plan_field", field=Code("exit_plan_field", field)))
    today = today or beijing_today()
    if cleaned.deadline < today:
        raise InputError(msg("monitor.exit_deadline_past", deadline=cleaned.deadline.isoformat(),
                             today=today.isoformat()))
    return cleaned


def _cited_rule(conn: Connection, patch_id: int) -> tuple[CitedRule, str, str]:
    """The legacy rule of the profile the patch was found under, and that profile."""
    profile_id = conn.execute(
        sa.select(monitor_runs.c.profile).select_from(monitor_patches.join(
            monitor_runs, monitor_runs.c.id == monitor_patches.c.first_run))
        .where(monitor_patches.c.id == patch_id)).scalar_one()
    profile = load_profile(profile_id)
    rule = profile.rules.get(RULE_ID)
    if rule is None:
        raise ConfigurationError(msg("monitor.exit_rule_missing", profile=profile.id,
                                     rule=RULE_ID))
    return (CitedRule(rule_id=RULE_ID, text_zh=rule.text_zh, summary_en=rule.summary_en,
                      citation=rule.citation), profile.id, profile.version)


def _close_active(conn: Connection, patch_id: int, actor: Actor, status: str,
                  reason: str | None) -> int:
    """Close the patch's active plan (completed, or superseded by a new decision)."""
    plans = monitor_exit_plans
    return conn.execute(
        sa.update(plans).where(plans.c.patch_id == patch_id, plans.c.status == "active")
        .values(status=status, closed_at=sa.func.now(), closed_by=actor.name,
                closed_by_key=actor.key_id, closed_reason=reason)).rowcount


def record_plan(conn: Connection, patch_id: int, plan: ExitPlanInput, actor: Actor,
                reason: str) -> CitedRule:
    """Store ``plan`` as the patch's active plan (superseding the one before) with the rule
    it rests on; returns the rule."""
    rule, profile, version = _cited_rule(conn, patch_id)
    _close_active(conn, patch_id, actor, "superseded", reason)
    conn.execute(sa.insert(monitor_exit_plans).values(
        patch_id=patch_id, **plan.model_dump(), rule_id=rule.rule_id,
        citation=rule.citation.model_dump(), profile=profile, profile_version=version,
        **actor.columns()))
    return rule


def supersede(conn: Connection, patch_id: int, actor: Actor, reason: str) -> None:
    """Another decision replaces a legacy one: its plan is no longer the plan."""
    _close_active(conn, patch_id, actor, "superseded", reason)


def complete(conn: Connection, patch_id: int, actor: Actor, reason: str) -> None:
    """The activity has exited: the active plan is completed (refused without one)."""
    if not _close_active(conn, patch_id, actor, "completed", reason):
        raise InputError(msg("monitor.exit_plan_none", id=patch_id))


_PLAN_COLUMNS = ("id", "patch_id", "status", *PLAN_FIELDS, "profile", "profile_version",
                 "created_at", "actor", "on_behalf_of", "actor_verified", "closed_at",
                 "closed_by", "closed_reason")


def _plan(row: Any, today: date) -> dict[str, Any]:
    data = {name: row[name] for name in _PLAN_COLUMNS}
    data["rule"] = CitedRule(rule_id=row["rule_id"], text_zh="", summary_en="",
                             citation=row["citation"])
    rules = load_profile(row["profile"]).rules
    if row["rule_id"] in rules:  # the words as the profile has them (the citation as stored)
        found = rules[row["rule_id"]]
        data["rule"] = data["rule"].model_copy(update={"text_zh": found.text_zh,
                                                       "summary_en": found.summary_en})
    data["overdue"] = row["status"] == "active" and row["deadline"] < today
    return data


def exit_plan(conn: Connection, patch_id: int, today: date | None = None) -> ExitPlan | None:
    """The patch's active plan, else its latest."""
    plans = monitor_exit_plans
    row = conn.execute(
        sa.select(plans).where(plans.c.patch_id == patch_id)
        .order_by((plans.c.status == "active").desc(), plans.c.id.desc()).limit(1)
    ).mappings().first()
    return None if row is None else ExitPlan(**_plan(row, today or beijing_today()))


def overdue_plans(engine: Engine, on: date | None = None, division: str | None = None,
                  township: str | None = None, limit: int = 50, offset: int = 0
                  ) -> tuple[int, list[OverduePlan]]:
    """Active plans whose deadline is before ``on`` (default today in Beijing) on patches
    still on the list, most overdue first; ``division`` is a code prefix."""
    require_page(limit, offset)
    today = on or beijing_today()
    plans, patches = monitor_exit_plans, monitor_patches
    where = [plans.c.status == "active", plans.c.deadline < today,
             patches.c.status != "closed"]
    if division:
        where.append(patches.c.division.startswith(division, autoescape=True))
    if township:
        where.append(patches.c.township == township)
    joined = plans.join(patches, patches.c.id == plans.c.patch_id)
    place = (patches.c.layer, patches.c.feature_key, patches.c.feature_name,
             patches.c.division, patches.c.township, patches.c.village, patches.c.area_m2,
             patches.c.version.label("patch_version"))
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(joined).where(*where)
                             ).scalar_one()
        rows = conn.execute(sa.select(plans, *place).select_from(joined).where(*where)
                            .order_by(plans.c.deadline, plans.c.id).limit(limit)
                            .offset(offset)).mappings().all()
    out = []
    for row in rows:
        data = _plan(row, today)
        data.update({name: row[name] for name in ("layer", "feature_key", "feature_name",
                                                  "division", "township", "village",
                                                  "area_m2", "patch_version")})
        data["days_overdue"] = (today - row["deadline"]).days
        out.append(OverduePlan(**data))
    return total, out
