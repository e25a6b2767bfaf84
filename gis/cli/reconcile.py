"""``gis reconcile detect|list|show|decide|status|apply|summary|export|field-package|
field-import``: the forestry work list (林草一张图 reconciliation). The work-list commands are
the shared ones of :mod:`gis.cli.worklist`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gis.cli import worklist as wlcli
from gis.cli.options import JsonOpt, OnBehalfOfOpt, division_option
from gis.cli.output import console, language, print_json, progress_bar
from gis.cli.resources import open_engine
from gis.identity import Actor
from gis.messages import label, text

reconcile_app = typer.Typer(help="Forest and grassland one-map reconciliation (林草一张图).",
                            no_args_is_help=True)
#: The work list's division (matched exactly, as detection stores it).
DivisionFilterOpt = Annotated[str | None, division_option("Division code.")]
#: The columns ``gis reconcile list`` shows (the page's).
LIST_COLUMNS = ("worklist.column.id", "worklist.column.kind", "worklist.column.status",
                "worklist.column.decision", "worklist.column.township",
                "worklist.column.village", "worklist.column.parcels",
                "worklist.column.area_mu", "worklist.column.version")


def _filters(division: str | None, kind: str | None, status: str | None,
             township: str | None, village: str | None) -> dict[str, str | None]:
    return {"division": division, "kind": kind, "status": status, "township": township,
            "village": village}


@reconcile_app.command("detect")
def detect_cmd(division: Annotated[str, typer.Argument(help="Division code, e.g. 640202.")],
               on_behalf_of: OnBehalfOfOpt = None, json_out: JsonOpt = False,
               tiled: Annotated[bool, typer.Option(
                   "--tiled", help="Detect tile by tile on dask.distributed: the scheduler of "
                   "GIS_DASK_SCHEDULER, else a LocalCluster (same findings).")] = False,
               workers: Annotated[int | None, typer.Option(
                   min=1, help="LocalCluster worker processes for --tiled (default: one per "
                   "core).")] = None,
               full: Annotated[bool, typer.Option(
                   "--full", help="Scan the whole division, even when only the findings of "
                   "changed parcels would need detecting again.")] = False) -> None:
    """Detect conflicts in a division and update the work list (decisions are kept). A
    re-detection looks only at the parcels changed since the previous one unless --full."""
    from gis.analysis.forest_grass import TileOptions, detect

    if workers is not None and not tiled:
        raise typer.BadParameter(text("tiles.cli.workers_need_tiled", language()),
                                 param_hint="--workers")
    tiles = TileOptions(workers=workers) if tiled else None
    with open_engine() as engine, progress_bar() as progress:
        summary = detect(engine, division, actor=Actor.cli(on_behalf_of), progress=progress,
                         tiles=tiles, full=full)
    if json_out:
        print_json(summary.model_dump())
        return
    lang = language()
    found = "、".join(f"{label('finding_kind', k, lang)} {n}"
                      for k, n in summary.detected.items())
    console.print(text("worklist.cli.detected", lang, run=summary.run_id,
                       profile=summary.profile, found=found or "-", new=summary.new,
                       kept=summary.kept, closed=summary.closed))
    if summary.mode == "incremental":
        console.print(text("recon.cli.incremental", lang, changed=summary.changed))
    else:
        from gis.analysis.forest_grass_changes import FULL_REASON_MESSAGES

        reason = text(FULL_REASON_MESSAGES[str(summary.full_reason)], lang)  # full: a reason
        console.print(text("recon.cli.full", lang, reason=reason) if summary.changed is None
                      else text("recon.cli.full_changed", lang, reason=reason,
                                changed=summary.changed))


@reconcile_app.command("list")
def list_cmd(
    division: DivisionFilterOpt = None, kind: wlcli.KindOpt = None,
    status: wlcli.StatusOpt = None, township: wlcli.TownshipOpt = None,
    village: wlcli.VillageOpt = None,
    limit: Annotated[int, typer.Option(help="Page size.")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """The work list, filtered and paged (the page's columns)."""
    from gis.analysis import worklist_ops as ops
    from gis.analysis.forest_grass import RECON

    with open_engine() as engine:
        total, rows = ops.list_items(engine, RECON, _filters(division, kind, status, township,
                                                             village), limit, offset)
    wlcli.print_page(RECON, "worklist.cli.recon_title", total, rows, offset, LIST_COLUMNS,
                     json_out)


@reconcile_app.command("show")
def show_cmd(finding: int, json_out: JsonOpt = False) -> None:
    """One finding with its decision and history."""
    from gis.analysis import worklist_ops as ops
    from gis.analysis.forest_grass import RECON

    with open_engine() as engine:
        item, history = ops.get_item(engine, RECON, finding)
    if json_out:
        print_json({"finding": item.model_dump(mode="json", exclude={"geometry"}),
                    "history": [e.model_dump(mode="json") for e in history]})
        return
    console.print(wlcli.items_table(RECON, text("worklist.noun.finding", language()) +
                                    f" {item.id}", [item], tuple(c.header for c in
                                                                 RECON.columns)))
    for event in history:
        console.print(wlcli.history_line(RECON, event))


@reconcile_app.command("decide")
def decide_cmd(finding: int, decision: str, reason: Annotated[str, typer.Option()],
               version: Annotated[int, typer.Option(help="The version you decided on.")],
               on_behalf_of: OnBehalfOfOpt = None, json_out: JsonOpt = False) -> None:
    """Record a decision on a finding (refused if someone changed it since)."""
    from gis.analysis import worklist_ops as ops
    from gis.analysis.forest_grass import RECON

    with open_engine() as engine:
        changed = ops.decide(engine, RECON, finding, decision, Actor.cli(on_behalf_of), reason,
                             version)
    wlcli.print_change(RECON, changed, json_out)


@reconcile_app.command("status")
def status_cmd(finding: int, status: str, version: Annotated[int, typer.Option()],
               on_behalf_of: OnBehalfOfOpt = None,
               reason: Annotated[str | None, typer.Option()] = None,
               json_out: JsonOpt = False) -> None:
    """Send a finding to field check, or reopen it."""
    from gis.analysis import worklist_ops as ops
    from gis.analysis.forest_grass import RECON

    with open_engine() as engine:
        changed = ops.set_status(engine, RECON, finding, status, Actor.cli(on_behalf_of),
                                 version, reason)
    wlcli.print_change(RECON, changed, json_out)


@reconcile_app.command("apply")
def apply_cmd(division: str, on_behalf_of: OnBehalfOfOpt = None,
              json_out: JsonOpt = False) -> None:
    """Apply the decided findings into a new version of the forest and grassland layers."""
    from gis.analysis.forest_grass_apply import apply_decisions

    with open_engine() as engine:
        summary = apply_decisions(engine, division, Actor.cli(on_behalf_of))
    if json_out:
        print_json(summary.model_dump())
        return
    lang = language()
    console.print(text("worklist.cli.applied", lang, version=summary.version_id,
                       count=summary.applied))
    for row in summary.by_township:
        console.print(f"  {row.township or '-'} {wlcli.layer_title(row.layer)}: "
                      f"{row.before_mu:,.2f} -> {row.after_mu:,.2f} {label('unit', 'mu', lang)}")


@reconcile_app.command("summary")
def summary_cmd(division: DivisionFilterOpt = None, kind: wlcli.KindOpt = None,
                status: wlcli.StatusOpt = None, json_out: JsonOpt = False) -> None:
    """Counts and areas by township, village, kind and status."""
    from gis.analysis.forest_grass import summarize

    with open_engine() as engine:
        rows = summarize(engine, division, kind=kind, status=status)
    if json_out:
        print_json([r.model_dump() for r in rows])
        return
    lang = language()
    table = Table(title=text("worklist.cli.summary_title", lang))
    for key in ("worklist.column.township", "worklist.column.village", "worklist.column.kind",
                "worklist.column.status", "worklist.cli.count", "worklist.column.area_mu",
                "worklist.column.area_ha"):
        table.add_column(text(key, lang), overflow="fold")
    for r in rows:
        table.add_row(r.township or "-", r.village or "-", label("finding_kind", r.kind, lang),
                      label("finding_status", r.status, lang), str(r.count),
                      f"{r.area_mu:,.2f}", f"{r.area_ha:,.4f}")
    console.print(table)


@reconcile_app.command("export")
def export_cmd(output: wlcli.ExportPathArg, division: DivisionFilterOpt = None,
               kind: wlcli.KindOpt = None, status: wlcli.StatusOpt = None,
               township: wlcli.TownshipOpt = None, village: wlcli.VillageOpt = None) -> None:
    """Export the work list (the list's filters) to .xlsx or .gpkg: labels, reason, decider,
    decision time (Beijing), version, areas in m², 亩 and ha, totals."""
    from gis.analysis.forest_grass import RECON

    wlcli.export(RECON, output, _filters(division, kind, status, township, village))


@reconcile_app.command("field-package")
def field_package_cmd(output: wlcli.PackagePathArg, division: DivisionFilterOpt = None,
                      kind: wlcli.KindOpt = None, township: wlcli.TownshipOpt = None,
                      village: wlcli.VillageOpt = None, json_out: JsonOpt = False) -> None:
    """The findings in field check as a GeoPackage for surveyors, one layer per township."""
    from gis.analysis.forest_grass import RECON

    wlcli.field_package(RECON, output, _filters(division, kind, None, township, village),
                        json_out)


@reconcile_app.command("field-import")
def field_import_cmd(results: wlcli.ResultsPathArg, on_behalf_of: OnBehalfOfOpt = None,
                     json_out: JsonOpt = False) -> None:
    """Import a filled-in field-check package: every row valid, or nothing imported."""
    from gis.analysis.forest_grass import RECON

    wlcli.field_import(RECON, Path(results), on_behalf_of, json_out)
