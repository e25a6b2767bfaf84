"""Re-evaluating stored siting runs under the rules as they stand now.

A run keeps the verdict it was given: ``siting_runs`` is never updated. When the rules change
(a profile's outcomes, paths or conditions are fixed), :func:`reevaluate_runs` judges every
stored run again and records, in ``siting_reevaluations`` (migration 0011), each run whose
verdict or approval path differs from what it said before (its latest re-evaluation, else
its original result). Reading a run shows the latest as a notice beside the unchanged
original (:func:`latest_notice`; the API's ``GET`` and the reports).

**From the stored overlaps, not a new overlay.** A re-evaluation answers "what do the rules
as they stand now say about the facts this run was judged on": the overlaps (layers, zones,
areas) stored with the run, its footprint, activity and declarations. Recomputing the overlay
would also pick up every change to the layers since (a red line redrawn, farmland parcels
reloaded), so a changed verdict could not be told apart as a change of rules or of data, and
a run would no longer describe the situation it was made in; that is a new check (``POST
/api/v1/analysis/siting``), not a re-evaluation. It is also cheap: no spatial query.

Passes are serialized by a transaction advisory lock; each is one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, func, insert, select

from gis.analysis.footprint import prepare_footprint
from gis.analysis.siting_models import (
    AdvisoryModel,
    ApprovalPath,
    ReevaluationNotice,
    RuleFinding,
    SitingResult,
)
from gis.analysis.siting_rules import evaluate, overall
from gis.analysis.siting_runs import StoredRun, get_run
from gis.db.records import siting_reevaluations as reevals
from gis.db.records import siting_runs
from gis.errors import GISError
from gis.identity import Actor, resolve
from gis.messages import Label, Message, Named, msg
from gis.rules import load_profile
from gis.rules.models import Profile, Verdict

ProfileLoader = Callable[[str], Profile]


class Judgement(BaseModel):
    """A run judged under a profile: what a re-evaluation row stores as ``result``."""

    verdict: Verdict
    approval_path: ApprovalPath | None
    rules: list[RuleFinding]
    warnings: list[AdvisoryModel]


class Reevaluation(BaseModel):
    """One recorded change: a run whose verdict or approval path changed."""

    id: int
    batch: str
    run_id: str
    evaluated_at: datetime
    profile: str
    profile_version: str
    previous_verdict: Verdict
    previous_path: str | None
    verdict: Verdict
    approval_path: str | None
    actor: str


class ReevaluationFailure(BaseModel):
    """A run that could not be judged again (its activity left the profile, ...)."""

    run_id: str
    reason_zh: str
    reason_en: str


class ReevaluationReport(BaseModel):
    batch: str
    evaluated_at: datetime
    actor: str
    #: The profile versions the runs were judged under, by profile id.
    profiles: dict[str, str]
    examined: int
    unchanged: int
    changed: list[Reevaluation]
    failed: list[ReevaluationFailure]


def judge(profile: Profile, result: SitingResult, inputs: dict[str, Any]) -> Judgement:
    """``result``'s stored facts (footprint, overlaps, activity, declarations) judged under
    ``profile``, the way :func:`gis.analysis.siting.check` judges a new request."""
    footprint = prepare_footprint(result.footprint_geojson, "EPSG:4490", profile.siting)
    # The declarations as the request made them (runs stored before they existed: the
    # defaults they were checked with).
    findings, path, warnings = evaluate(
        profile, footprint, result.overlaps, result.activity, result.new_construction_land,
        result.temporary, construction=inputs.get("construction", True),
        linear=inputs.get("linear"))
    verdict = overall(findings)
    if verdict == "prohibited":
        path = None  # as check(): a prohibited project is offered no path
    return Judgement(verdict=verdict, approval_path=path, rules=findings, warnings=warnings)


def _path_id(path: dict[str, Any] | ApprovalPath | None) -> str | None:
    if path is None:
        return None
    return path.id if isinstance(path, BaseModel) else path.get("id")


def _failure(run_id: str, message: Message | GISError) -> ReevaluationFailure:
    render = message.render
    return ReevaluationFailure(run_id=run_id, reason_zh=render("zh"), reason_en=render("en"))


_LISTED = (reevals.c.id, reevals.c.batch, reevals.c.run_id, reevals.c.evaluated_at,
           reevals.c.profile, reevals.c.profile_version, reevals.c.previous_verdict,
           reevals.c.previous_path, reevals.c.verdict, reevals.c.approval_path,
           reevals.c.actor)


def reevaluate_runs(engine: Engine, actor: Actor | None = None,
                    profiles: ProfileLoader | None = None) -> ReevaluationReport:
    """Judge every stored run under the current profiles (``profiles``, default
    :func:`gis.rules.load_profile`) and record those whose verdict or approval path differs
    from what the run said before. Nothing stored is changed."""
    actor = resolve(actor)
    loader = profiles or load_profile
    batch = uuid.uuid4().hex
    changed: list[dict[str, Any]] = []
    failed: list[ReevaluationFailure] = []
    used: dict[str, str] = {}
    examined = 0
    with engine.begin() as conn:
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(reevals.name))))
        now = conn.execute(select(func.now())).scalar_one()
        newest = select(func.max(reevals.c.id)).group_by(reevals.c.run_id)
        latest = {row.run_id: (row.verdict, row.approval_path) for row in conn.execute(
            select(reevals.c.run_id, reevals.c.verdict, reevals.c.approval_path)
            .where(reevals.c.id.in_(newest)))}
        rows = conn.execute(
            select(siting_runs.c.id, siting_runs.c.inputs, siting_runs.c.result)
            .order_by(siting_runs.c.created_at, siting_runs.c.id),
            execution_options={"stream_results": True, "yield_per": 200})
        for row in rows:
            examined += 1
            original = row.result
            previous = latest.get(row.id, (original.get("verdict"),
                                           _path_id(original.get("approval_path"))))
            try:
                result = SitingResult.model_validate(original)
                profile = loader(result.profile)
                if not any(a.code == result.activity for a in profile.activities):
                    failed.append(_failure(row.id, msg(
                        "siting.reevaluation.activity_gone", activity=result.activity,
                        profile=result.profile)))
                    continue
                judged = judge(profile, result, row.inputs or {})
            except ValidationError:
                failed.append(_failure(row.id, msg("siting.reevaluation.unreadable")))
                continue
            except GISError as exc:
                failed.append(_failure(row.id, exc))
                continue
            used[profile.id] = profile.version
            now_path = _path_id(judged.approval_path)
            if (judged.verdict, now_path) == previous:
                continue
            changed.append(dict(
                batch=batch, run_id=row.id, evaluated_at=now, profile=profile.id,
                profile_version=profile.version, previous_verdict=previous[0],
                previous_path=previous[1], verdict=judged.verdict, approval_path=now_path,
                result=judged.model_dump(mode="json"), actor=actor.name,
                actor_key=actor.key_id))
        stored = conn.execute(insert(reevals).returning(
            *_LISTED, sort_by_parameter_order=True), changed).all() if changed else []
    return ReevaluationReport(
        batch=batch, evaluated_at=now, actor=actor.name, profiles=used, examined=examined,
        unchanged=examined - len(changed) - len(failed),
        changed=[Reevaluation.model_validate(r, from_attributes=True) for r in stored],
        failed=failed)


class ReevaluationPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[Reevaluation]


def list_reevaluations(engine: Engine, batch: str | None = None, run_id: str | None = None,
                       limit: int = 100, offset: int = 0) -> ReevaluationPage:
    """Recorded re-evaluations, newest first (all, of one pass, or of one run)."""
    where = [c for c in (reevals.c.batch == batch if batch is not None else None,
                         reevals.c.run_id == run_id if run_id is not None else None)
             if c is not None]
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(reevals).where(*where)
                             ).scalar_one()
        rows = conn.execute(select(*_LISTED).where(*where).order_by(reevals.c.id.desc())
                            .limit(limit).offset(offset))
        items = [Reevaluation.model_validate(r, from_attributes=True) for r in rows]
    return ReevaluationPage(total=total, limit=limit, offset=offset, items=items)


def _path_words(path: ApprovalPath | None) -> Message:
    if path is None:
        return msg("siting.reevaluation.no_path")
    chain = "→".join(p for p in (path.organizer_zh, path.reviewer_zh, path.decider_zh) if p)
    zh = f"{chain}；{path.document_zh}" if chain else path.document_zh
    return msg("siting.reevaluation.path", path=Named(zh, path.en))


def latest_notice(engine: Engine, run_id: str) -> ReevaluationNotice | None:
    """The run's latest re-evaluation as a notice, or None if it was never changed."""
    with engine.connect() as conn:
        row = conn.execute(select(*_LISTED, reevals.c.result)
                           .where(reevals.c.run_id == run_id)
                           .order_by(reevals.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    judged = Judgement.model_validate(row.result)
    notice = msg("siting.reevaluation.notice",
                 date=row.evaluated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                 profile=row.profile, version=row.profile_version,
                 verdict=Label("verdict", row.verdict),
                 previous=Label("verdict", row.previous_verdict),
                 path=_path_words(judged.approval_path))
    return ReevaluationNotice(
        id=row.id, batch=row.batch, evaluated_at=row.evaluated_at, profile=row.profile,
        profile_version=row.profile_version, verdict=row.verdict,
        approval_path=judged.approval_path, rules=judged.rules,
        previous_verdict=row.previous_verdict, previous_path=row.previous_path,
        actor=row.actor, message_zh=notice.render("zh"), message_en=notice.render("en"))


def get_run_with_notice(engine: Engine, run_id: str
                        ) -> tuple[StoredRun, ReevaluationNotice | None]:
    """A stored run (as it was given) and its latest re-evaluation notice, if any."""
    run = get_run(engine, run_id)
    return run, latest_notice(engine, run_id)


__all__ = ["Judgement", "Reevaluation", "ReevaluationFailure", "ReevaluationPage",
           "ReevaluationReport",
           "get_run_with_notice", "judge", "latest_notice", "list_reevaluations",
           "reevaluate_runs"]
