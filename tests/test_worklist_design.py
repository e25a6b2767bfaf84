"""One work-list component (issue 20): the reconciliation findings and the monitoring patches
are two descriptions (:class:`gis.analysis.worklist.WorkList`) served by one implementation
of the versioned transitions, events, decide/status, listing and exports, one set of router
helpers and one CLI helper. Before, ``forest_grass.py`` and ``monitoring_worklist.py`` each
had their own ``_change``/``decide``/``set_status``, columns, filters and models, and the two
routers and command groups repeated them."""

from __future__ import annotations

import ast
from pathlib import Path

from gis.analysis.forest_grass import RECON
from gis.analysis.monitoring import MONITOR
from gis.analysis.worklist import WorkList

ROOT = Path(__file__).resolve().parent.parent
#: The modules of the one implementation.
COMPONENT = {"gis/analysis/worklist.py", "gis/analysis/worklist_ops.py",
             "gis/analysis/worklist_field.py"}
#: The two lists' own modules: descriptions and their domain (detection, runs, exit plans).
LISTS = ("gis/analysis/forest_grass.py", "gis/analysis/monitoring_worklist.py")


def _tree(path: str) -> ast.Module:
    return ast.parse((ROOT / path).read_text(encoding="utf-8"))


def _names_used(tree: ast.Module) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


def test_both_lists_are_descriptions_of_one_component() -> None:
    assert isinstance(RECON, WorkList) and isinstance(MONITOR, WorkList)
    assert (RECON.items.name, RECON.events.name) == ("recon_findings", "recon_events")
    assert (MONITOR.items.name, MONITOR.events.name) == ("monitor_patches", "monitor_events")
    for wl in (RECON, MONITOR):
        assert set(wl.settable) <= set(wl.statuses) and set(wl.final) <= set(wl.statuses)
        assert wl.columns and wl.filters


def test_versioned_transitions_are_written_once() -> None:
    for path in sorted((ROOT / "gis").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "versioned_update" in _names_used(_tree(rel)) and rel not in COMPONENT:
            raise AssertionError(f"{rel} changes a work-list item outside the component")
    for path in LISTS:
        defined = {n.name for n in ast.walk(_tree(path)) if isinstance(n, ast.FunctionDef)}
        assert not defined & {"_change", "_columns", "_filters", "_finding", "_patch"}, path


def test_routers_and_commands_share_their_helpers() -> None:
    for path in ("api/routers/reconciliation.py", "api/routers/monitoring.py"):
        source = (ROOT / path).read_text(encoding="utf-8")
        assert "worklist_routes" in source, path
        assert "class StatusRequest" not in source, path  # one definition, shared
    for path in ("gis/cli/reconcile.py", "gis/cli/monitor.py"):
        assert "from gis.cli import worklist" in (ROOT / path).read_text(encoding="utf-8")
