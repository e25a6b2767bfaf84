"""``gis reconcile detect|list|decide|status|apply|summary|export``: the forestry work list
(林草一张图 reconciliation)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gis.cli.options import JsonOpt, OnBehalfOfOpt, division_option
from gis.cli.output import console, print_json, progress_bar
from gis.cli.resources import open_engine
from gis.identity import Actor

reconcile_app = typer.Typer(help="Forest and grassland one-map reconciliation (林草一张图).",
                            no_args_is_help=True)
#: The work list's division (matched exactly, as detection stores it).
DivisionFilterOpt = Annotated[str | None, division_option("Division code.")]


@reconcile_app.command("detect")
def detect_cmd(division: Annotated[str, typer.Argument(help="Division code, e.g. 640202.")],
               on_behalf_of: OnBehalfOfOpt = None, json_out: JsonOpt = False) -> None:
    """Detect conflicts in a division and update the work list (decisions are kept)."""
    from gis.analysis.forest_grass import detect

    with open_engine() as engine, progress_bar() as progress:
        summary = detect(engine, division, actor=Actor.cli(on_behalf_of), progress=progress)
    if json_out:
        print_json(summary.model_dump())
        return
    console.print(f"run {summary.run_id} ({summary.profile}): {summary.detected}; "
                  f"{summary.new} new, {summary.kept} kept, {summary.closed} closed")


@reconcile_app.command("list")
def list_cmd(
    division: DivisionFilterOpt = None,
    kind: Annotated[str | None, typer.Option(help="Finding kind.")] = None,
    status: Annotated[str | None, typer.Option(help="Status.")] = None,
    township: Annotated[str | None, typer.Option(help="Township name.")] = None,
    village: Annotated[str | None, typer.Option(help="Village name.")] = None,
    limit: Annotated[int, typer.Option(help="Page size.")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """The work list, filtered and paged."""
    from gis.analysis.forest_grass import list_findings

    with open_engine() as engine:
        total, rows = list_findings(engine, division, kind, status, township, village, limit,
                                    offset)
    if json_out:
        print_json({"total": total, "items": [r.model_dump(mode="json") for r in rows]})
        return
    table = Table(title=f"Work list 台账 ({offset + 1}-{offset + len(rows)} of {total})")
    for column in ("id", "kind", "status", "decision", "township", "village", "亩", "parcels",
                   "version"):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r.id), r.kind, r.status, r.decision or "-", r.township or "-",
                      r.village or "-", f"{r.area_mu:,.2f}",
                      ", ".join(p["key"] for p in r.parcels), str(r.version))
    console.print(table)


@reconcile_app.command("decide")
def decide_cmd(finding: int, decision: str, reason: Annotated[str, typer.Option()],
               version: Annotated[int, typer.Option(help="The version you decided on.")],
               on_behalf_of: OnBehalfOfOpt = None, json_out: JsonOpt = False) -> None:
    """Record a decision on a finding (refused if someone changed it since)."""
    from gis.analysis.forest_grass import decide

    with open_engine() as engine:
        row = decide(engine, finding, decision, Actor.cli(on_behalf_of), reason, version)
    if json_out:
        print_json(row.model_dump(mode="json"))
    else:
        console.print(f"finding {row.id}: {row.decision} (version {row.version})")


@reconcile_app.command("status")
def status_cmd(finding: int, status: str, version: Annotated[int, typer.Option()],
               on_behalf_of: OnBehalfOfOpt = None,
               reason: Annotated[str | None, typer.Option()] = None) -> None:
    """Send a finding to field check, or reopen it."""
    from gis.analysis.forest_grass import set_status

    with open_engine() as engine:
        row = set_status(engine, finding, status, Actor.cli(on_behalf_of), version, reason)
    console.print(f"finding {row.id}: {row.status} (version {row.version})")


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
    console.print(f"version {summary.version_id}: {summary.applied} decisions applied")
    for row in summary.by_township:
        console.print(f"  {row.township or '-'} {row.layer}: {row.before_mu:,.2f} -> "
                      f"{row.after_mu:,.2f} 亩")


@reconcile_app.command("summary")
def summary_cmd(division: DivisionFilterOpt = None, json_out: JsonOpt = False) -> None:
    """Counts and areas by township, village, kind and status."""
    from gis.analysis.forest_grass import summarize

    with open_engine() as engine:
        rows = summarize(engine, division)
    if json_out:
        print_json([r.model_dump() for r in rows])
        return
    table = Table(title="Summary 汇总")
    for column in ("township", "village", "kind", "status", "count", "亩", "ha"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.township or "-", r.village or "-", r.kind, r.status, str(r.count),
                      f"{r.area_mu:,.2f}", f"{r.area_ha:,.4f}")
    console.print(table)


@reconcile_app.command("export")
def export_cmd(output: Path, division: DivisionFilterOpt = None) -> None:
    """Export the work list to .xlsx (Chinese headers, 亩 and ha) or .gpkg."""
    from gis.analysis.forest_grass import export_findings

    with open_engine() as engine:
        path = export_findings(engine, str(output), division)
    console.print(f"wrote {path}")
