"""The monitoring work list: runs and patches listed, one patch with its history and rules,
and the field inspection's decisions and status changes.

The patches are a work list described by :data:`MONITOR` and served by the one work-list
implementation (:mod:`gis.analysis.worklist_ops`, exports and field packages beside it), like
the reconciliation's findings. A ``legacy`` decision requires the exit plan of 003:235
(:mod:`gis.analysis.monitoring_legacy`), stored in the decision's transaction. Part of
:mod:`gis.analysis.monitoring`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from gis.analysis import monitoring_legacy as legacy
from gis.analysis import worklist_columns as col
from gis.analysis import worklist_ops as ops
from gis.analysis.monitoring_models import (
    DECISIONS,
    LAYERS,
    STATUSES,
    CitedRule,
    Patch,
    PatchFields,
    RunInfo,
    zone_label,
)
from gis.analysis.worklist import (
    Event,
    ExportColumn,
    Filter,
    WorkList,
    beijing_today,
    read_events,
    record_event,
    require_decision,
    require_page,
)
from gis.analysis.worklist_policy import FULL, View
from gis.db.records import (
    monitor_events,
    monitor_exit_plans,
    monitor_field_results,
    monitor_patches,
    monitor_runs,
)
from gis.errors import InputError, NotFound
from gis.identity import Actor, resolve
from gis.layers.catalogue import get_layer
from gis.messages import Lang, msg
from gis.rules import load_profile


def _exit_deadline(items: sa.Table) -> sa.Subquery:
    """The deadline of the patch's active exit plan (legacy activities, 003:235)."""
    plans = monitor_exit_plans.alias("plan")
    return (sa.select(plans.c.deadline.label("exit_deadline"))
            .where(plans.c.patch_id == items.c.id, plans.c.status == "active")
            .limit(1).lateral("exit_plan"))


def _overdue(data: dict[str, Any]) -> dict[str, Any]:
    deadline = data.get("exit_deadline")
    data["exit_overdue"] = bool(deadline is not None and data["status"] != "closed"
                                and deadline < beijing_today())
    return data


def zone_name(zone: str | None, lang: Lang) -> str | None:
    """A red-line zone by the layer catalogue's name of it (核心保护区)."""
    if zone is None:
        return None
    for c in get_layer("eco_redline").style.classes:
        if c.value == zone:
            return c.en if lang == "en" else c.zh
    return zone


def _zone(item: Any, lang: Lang) -> str | None:
    return zone_name(item.zone, lang)


#: The monitoring work list, for the one work-list implementation.
MONITOR = WorkList(
    name="monitoring", items=monitor_patches, events=monitor_events, owner="patch_id",
    noun="worklist.noun.patch",
    fields=tuple(name for name in PatchFields.model_fields
                 if name not in ("area_mu", "area_ha", "geometry")),
    model=Patch, decisions=DECISIONS, statuses=STATUSES, settable=("field_check", "open"),
    final=("closed",), kind_group="patch_kind", status_group="patch_status",
    decision_group="patch_decision",
    filters=(
        Filter("run", match="run"),
        Filter("layer", values=LAYERS, group="monitored_layer",
               unknown="monitor.unknown_layer", plural="layers"),
        Filter("zone"), Filter("kind"),
        Filter("status", values=STATUSES, group="patch_status",
               unknown="worklist.unknown_status", plural="statuses"),
        Filter("division", match="prefix"), Filter("township"), Filter("village"),
    ),
    status_not_settable="monitor.status_not_settable", field_results=monitor_field_results,
    extra=_exit_deadline, finish=_overdue,
    columns=(
        col.ident(), col.labelled("monitor.column.layer", "layer", "monitored_layer"),
        ExportColumn("monitor.column.zone", _zone),
        col.plain("monitor.column.feature", "feature_key"),
        col.plain("monitor.column.feature_name", "feature_name"),
        col.labelled("monitor.column.kind", "kind", "patch_kind"),
        col.labelled("worklist.column.status", "status", "patch_status"),
        col.labelled("monitor.column.decision", "decision", "patch_decision"),
        *col.trail("monitor.column.decided_by", "monitor.column.decided_at"),
        col.plain("worklist.column.division", "division"),
        col.plain("worklist.column.township", "township"),
        col.plain("monitor.column.village", "village"),
        col.plain("monitor.column.date_a", "date_a"), col.plain("monitor.column.date_b", "date_b"),
        col.plain("monitor.column.exit_deadline", "exit_deadline", "date"), *col.areas(),
    ))


def record_patch_event(conn: Connection, patch_id: int, actor: Actor, action: str,
                       details: dict[str, Any] | None = None, reason: str | None = None,
                       version: int | None = None) -> None:
    """Append one event to a patch's history (``monitor_events``)."""
    record_event(conn, MONITOR, patch_id, actor, action, details, reason, version)


#: The columns of a run read back (``RunInfo``).
_RUN_FIELDS = ("id", "profile", "profile_version", "raster_a", "raster_b", "date_a", "date_b",
               "actor", "on_behalf_of", "actor_verified", "started_at", "summary")


def _runs() -> sa.Select:
    return sa.select(*(monitor_runs.c[name] for name in _RUN_FIELDS))


def list_runs(engine: Engine, limit: int = 50, offset: int = 0) -> tuple[int, list[RunInfo]]:
    require_page(limit, offset)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(monitor_runs)
                             ).scalar_one()
        rows = conn.execute(_runs().order_by(monitor_runs.c.id.desc()).limit(limit)
                            .offset(offset)).mappings().all()
    return total, [RunInfo(**r) for r in rows]


def get_run(engine: Engine, run_id: int) -> RunInfo:
    with engine.connect() as conn:
        row = conn.execute(_runs().where(monitor_runs.c.id == run_id)).mappings().first()
    if row is None:
        raise NotFound(msg("monitor.no_run", id=run_id))
    return RunInfo(**row)


def list_patches(engine: Engine, run: int | None = None, layer: str | None = None,
                 zone: str | None = None, kind: str | None = None, status: str | None = None,
                 division: str | None = None, township: str | None = None,
                 village: str | None = None, limit: int = 50, offset: int = 0,
                 with_geometry: bool = False, max_limit: int = 1000
                 ) -> tuple[int, list[Patch]]:
    """Filtered, paged work list and the total number of matches."""
    filters = {"run": run, "layer": layer, "zone": zone, "kind": kind, "status": status,
               "division": division, "township": township, "village": village}
    return ops.list_items(engine, MONITOR, filters, limit, offset,  # type: ignore[return-value]
                          with_geometry, max_limit)


def patches_geojson(engine: Engine, limit: int = 10_000, offset: int = 0,
                    view: View = FULL, **filters: Any) -> dict[str, Any]:
    """The work list as a GeoJSON FeatureCollection (EPSG:4490 lon/lat) for map viewers, as
    ``view`` (the reader's role, gis.analysis.worklist_policy) may see it."""
    total, rows = list_patches(engine, **filters, limit=limit, offset=offset,
                               with_geometry=True, max_limit=10_000)
    features = []
    for p in view.items(rows):
        props = p.model_dump(mode="json", exclude={"geometry"})
        if props["exit_deadline"] is None:  # no exit plan: nothing to be overdue (the popup)
            props["exit_overdue"] = None
        features.append({"type": "Feature", "id": p.id, "geometry": p.geometry,
                         "properties": props})
    return {"type": "FeatureCollection", "numberMatched": total,
            "numberReturned": len(features), "features": features}


def rules_for(profile: str, layer: str, zone: str | None) -> list[CitedRule]:
    """The profile's rules a patch in this zone falls under, with their citations."""
    rules = load_profile(profile)
    ids = rules.monitoring.zone_rules.get(zone_label(layer, zone),
                                          rules.monitoring.zone_rules.get(layer, []))
    return [CitedRule(rule_id=r, text_zh=rules.rules[r].text_zh,
                      summary_en=rules.rules[r].summary_en, citation=rules.rules[r].citation)
            for r in ids]


def _profile(conn: Connection, run_id: int) -> str:
    return conn.execute(sa.select(monitor_runs.c.profile)
                        .where(monitor_runs.c.id == run_id)).scalar_one()


def get_patch(engine: Engine, patch_id: int) -> tuple[Patch, list[Event], list[CitedRule]]:
    patch, events, rules, _plan = get_patch_detail(engine, patch_id)
    return patch, events, rules


def get_patch_detail(engine: Engine, patch_id: int
                     ) -> tuple[Patch, list[Event], list[CitedRule], legacy.ExitPlan | None]:
    """One patch, its history, the rules it falls under and its exit plan (if any)."""
    with engine.connect() as conn:
        patch = ops.read_item(conn, MONITOR, patch_id)
        events = read_events(conn, MONITOR, patch_id)
        profile = _profile(conn, patch.first_run)  # type: ignore[attr-defined]
        plan = legacy.exit_plan(conn, patch_id)
    return (patch, events,  # type: ignore[return-value]
            rules_for(profile, patch.layer, patch.zone), plan)  # type: ignore[attr-defined]


def decide_patch(engine: Engine, patch_id: int, decision: str, actor: Actor | None,
                 reason: str, expected_version: int,
                 exit_plan: legacy.ExitPlanInput | dict[str, Any] | None = None
                 ) -> ops.Changed:
    """Record the field inspection's decision; ``legacy`` requires the exit plan of 003:235
    (stored with the rule cited), any other decision supersedes a plan recorded before."""
    actor = resolve(actor)
    require_decision(decision, reason, DECISIONS, "patch_decision")
    details: dict[str, Any] = {}
    if decision == "legacy":
        plan = legacy.require_plan(exit_plan)
        details["exit_plan"] = plan.model_dump(mode="json") | {"rule": legacy.RULE_ID}

        def hook(conn: Connection, item_id: int, version: int) -> None:
            legacy.record_plan(conn, item_id, plan, actor, reason)
    else:
        if exit_plan is not None:
            raise InputError(msg("monitor.exit_plan_only_legacy"))

        def hook(conn: Connection, item_id: int, version: int) -> None:
            legacy.supersede(conn, item_id, actor, reason)
    return ops.decide(engine, MONITOR, patch_id, decision, actor, reason, expected_version,
                      details, hook)


def decide(engine: Engine, patch_id: int, decision: str, actor: Actor | None, reason: str,
           expected_version: int,
           exit_plan: legacy.ExitPlanInput | dict[str, Any] | None = None) -> Patch:
    """Record the field inspection's decision (status becomes ``decided``); reason required,
    and for ``legacy`` the exit plan."""
    return decide_patch(engine, patch_id, decision, actor, reason, expected_version,
                        exit_plan).item  # type: ignore[return-value]


def set_status(engine: Engine, patch_id: int, status: str, actor: Actor | None,
               expected_version: int, reason: str | None = None) -> Patch:
    """Send a patch to field inspection (``field_check``) or reopen it."""
    return ops.set_status(engine, MONITOR, patch_id, status, actor, expected_version,
                          reason).item  # type: ignore[return-value]


def complete_exit(engine: Engine, patch_id: int, actor: Actor | None, reason: str,
                  expected_version: int) -> ops.Changed:
    """The legacy activity has exited: its plan is completed, an event of its patch."""
    actor = resolve(actor)
    if not reason or not reason.strip():
        raise InputError(msg("worklist.reason_missing"))

    def hook(conn: Connection, item_id: int, version: int) -> None:
        legacy.complete(conn, item_id, actor, reason.strip())

    return ops.change(engine, MONITOR, patch_id, expected_version, actor, reason.strip(),
                      "exit_completed", {}, {}, hook)

