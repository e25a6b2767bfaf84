"""``gis reconcile detect|list|decide|status|apply|summary|export``: the forestry work list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gis.identity import Actor

reconcile_app = typer.Typer(help="Forest and grassland one-map reconciliation (林草一张图).",
                            no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
#: Who acts is the operating-system user (``cli:<user>``, see gis.identity); a name given here
#: is recorded next to it as "on behalf of", never in its place.
ActorOpt = Annotated[str | None, typer.Option(
    "--on-behalf-of", help="Recorded in the history as 'on behalf of' (the actor is "
    "cli:<your OS user>).")]


@reconcile_app.command("detect")
def detect_cmd(division: Annotated[str, typer.Argument(help="Division code, e.g. 640202.")],
               on_behalf_of: ActorOpt = None, json_out: JsonOpt = False) -> None:
    """Detect conflicts in a division and update the work list (decisions are kept)."""
    from gis.analysis.forest_grass import detect
    from gis.cli import BarProgress, _bar, _engine, _print_json, console

    with _bar() as bar:
        summary = detect(_engine(), division, actor=Actor.cli(on_behalf_of),
                         progress=BarProgress(bar))
    if json_out:
        _print_json(summary.model_dump())
        return
    console.print(f"run {summary.run_id} ({summary.profile}): {summary.detected}; "
                  f"{summary.new} new, {summary.kept} kept, {summary.closed} closed")


@reconcile_app.command("list")
def list_cmd(
    division: Annotated[str | None, typer.Option(help="Division code.")] = None,
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
    from gis.cli import _engine, _print_json, console

    total, rows = list_findings(_engine(), division, kind, status, township, village, limit,
                                offset)
    if json_out:
        _print_json({"total": total, "items": [r.model_dump(mode="json") for r in rows]})
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
               on_behalf_of: ActorOpt = None, json_out: JsonOpt = False) -> None:
    """Record a decision on a finding (refused if someone changed it since)."""
    from gis.analysis.forest_grass import decide
    from gis.cli import _engine, _print_json, console

    row = decide(_engine(), finding, decision, Actor.cli(on_behalf_of), reason, version)
    if json_out:
        _print_json(row.model_dump(mode="json"))
    else:
        console.print(f"finding {row.id}: {row.decision} (version {row.version})")


@reconcile_app.command("status")
def status_cmd(finding: int, status: str, version: Annotated[int, typer.Option()],
               on_behalf_of: ActorOpt = None, reason: Annotated[str | None, typer.Option()] = None
               ) -> None:
    """Send a finding to field check, or reopen it."""
    from gis.analysis.forest_grass import set_status
    from gis.cli import _engine, console

    row = set_status(_engine(), finding, status, Actor.cli(on_behalf_of), version, reason)
    console.print(f"finding {row.id}: {row.status} (version {row.version})")


@reconcile_app.command("apply")
def apply_cmd(division: str, on_behalf_of: ActorOpt = None, json_out: JsonOpt = False) -> None:
    """Apply the decided findings into a new version of the forest and grassland layers."""
    from gis.analysis.forest_grass_apply import apply_decisions
    from gis.cli import _engine, _print_json, console

    summary = apply_decisions(_engine(), division, Actor.cli(on_behalf_of))
    if json_out:
        _print_json(summary.model_dump())
        return
    console.print(f"version {summary.version_id}: {summary.applied} decisions applied")
    for row in summary.by_township:
        console.print(f"  {row.township or '-'} {row.layer}: {row.before_mu:,.2f} -> "
                      f"{row.after_mu:,.2f} 亩")


@reconcile_app.command("summary")
def summary_cmd(division: Annotated[str | None, typer.Option()] = None,
                json_out: JsonOpt = False) -> None:
    """Counts and areas by township, village, kind and status."""
    from gis.analysis.forest_grass import summarize
    from gis.cli import _engine, _print_json, console

    rows = summarize(_engine(), division)
    if json_out:
        _print_json([r.model_dump() for r in rows])
        return
    table = Table(title="Summary 汇总")
    for column in ("township", "village", "kind", "status", "count", "亩", "ha"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.township or "-", r.village or "-", r.kind, r.status, str(r.count),
                      f"{r.area_mu:,.2f}", f"{r.area_ha:,.4f}")
    console.print(table)


@reconcile_app.command("export")
def export_cmd(output: Path, division: Annotated[str | None, typer.Option()] = None) -> None:
    """Export the work list to .xlsx (Chinese headers, 亩 and ha) or .gpkg."""
    from gis.analysis.forest_grass import export_findings
    from gis.cli import _engine, console

    console.print(f"wrote {export_findings(_engine(), str(output), division)}")
