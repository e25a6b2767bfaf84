"""Red-line human-activity monitoring (生态保护红线人为活动监测): runs and the work list.

``run`` compares two classified land-cover rasters (:mod:`gis.analysis.monitoring_detect`
does the pixels) inside the red line and, separately, inside permanent basic farmland, and
keeps the suspected patches as a field-inspection work list: each with its area, zone, the
red-line feature or farmland parcel, township and nearest village, the two dates and a
status. The monitoring duty is 003:251 (red line) and 003:195 (the plan's rigid controls).

The work list follows the reconciliation's pattern (:mod:`gis.analysis.forest_grass`):
re-running the same period over the same extent keeps decisions attached to the same ground
(a patch is matched to an active one of the same feature and kind by IoU above the profile's
``rematch_min_iou``) and closes patches no longer found; other periods add to the list, since
a change between 2020 and 2023 is still to be inspected when 2023-2024 is compared. Every
change appends an event; decisions carry the version the decider saw, so two concurrent
decisions cannot both win.

The parts: :mod:`~gis.analysis.monitoring_run` (``run``), :mod:`~gis.analysis.monitoring_worklist`
(listing, decisions: the one work-list implementation), :mod:`~gis.analysis.monitoring_legacy`
(legacy activities' exit plans, 003:235), :mod:`~gis.analysis.monitoring_models` (what they
return); the pixels are :mod:`gis.analysis.monitoring_detect`'s. Every public name is
importable from here.
"""

from __future__ import annotations

from gis.analysis.monitoring_legacy import ExitPlan, ExitPlanInput, OverduePlan, overdue_plans
from gis.analysis.monitoring_models import (
    DECISIONS,
    LAYERS,
    STATUSES,
    CitedRule,
    Decision,
    Layer,
    Patch,
    RunInfo,
    RunSummary,
    Status,
)
from gis.analysis.monitoring_run import load_zones, run
from gis.analysis.monitoring_worklist import (
    MONITOR,
    complete_exit,
    decide,
    decide_patch,
    get_patch,
    get_patch_detail,
    get_run,
    list_patches,
    list_runs,
    patches_geojson,
    rules_for,
    set_status,
)
from gis.analysis.worklist import Event

__all__ = [
    "DECISIONS", "LAYERS", "MONITOR", "STATUSES", "CitedRule", "Decision", "Event", "ExitPlan",
    "ExitPlanInput", "Layer", "OverduePlan", "Patch", "RunInfo", "RunSummary", "Status",
    "complete_exit", "decide", "decide_patch", "get_patch", "get_patch_detail", "get_run",
    "list_patches", "list_runs", "load_zones", "overdue_plans", "patches_geojson",
    "rules_for", "run", "set_status",
]
