"""``gis monitor run|list|show|decide|status``: red-line human-activity monitoring from two
classified land-cover dates, and the field-inspection work list it keeps."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gis.cli.options import JsonOpt, OnBehalfOfOpt, division_option
from gis.cli.output import console, err_console, print_json, progress_bar
from gis.cli.resources import open_engine
from gis.identity import Actor

monitor_app = typer.Typer(
    help="Red-line human-activity monitoring (生态保护红线人为活动监测) from land cover.",
    no_args_is_help=True)


@monitor_app.command("run")
def run_cmd(
    raster_a: Annotated[Path, typer.Argument(help="Earlier classified land cover (GeoTIFF).")],
    raster_b: Annotated[Path, typer.Argument(help="Later classified land cover (GeoTIFF).")],
    date_a: Annotated[str | None, typer.Option(
        help="Date of A (YYYY[-MM[-DD]]); default: the raster's DATE/YEAR tag.")] = None,
    date_b: Annotated[str | None, typer.Option(help="Date of B, likewise.")] = None,
    profile: Annotated[str, typer.Option(help="Rule profile (class table, thresholds).")
                       ] = "ningxia",
    window: Annotated[int, typer.Option(help="Window edge in pixels read at a time.")] = 2048,
    on_behalf_of: OnBehalfOfOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Compare two dates inside the red line and permanent basic farmland; update the list."""
    from gis.analysis.monitoring import run
    from gis.analysis.monitoring_detect import GridWarning

    with open_engine() as engine, progress_bar() as progress, warnings.catch_warnings():
        warnings.simplefilter("ignore", GridWarning)  # printed below from the summary
        summary = run(engine, raster_a, raster_b, profile, date_a, date_b,
                      Actor.cli(on_behalf_of), window, progress)
        progress.finish()
    if json_out:
        print_json(summary.model_dump())
        return
    for note in summary.warnings:
        err_console.print(f"[yellow]warning[/] {note['message']}")
    table = Table(title=f"Monitoring run {summary.run_id}: {summary.date_a} -> "
                        f"{summary.date_b} ({summary.profile})")
    for column in ("zone 区域", "patches 图斑", "亩", "ha"):
        table.add_column(column, justify="left" if column.startswith("zone") else "right")
    for label, count in sorted(summary.found.items()):
        m2 = summary.area_m2[label]
        table.add_row(label, str(count), f"{m2 / (10000 / 15):,.2f}", f"{m2 / 1e4:,.4f}")
    console.print(table)
    console.print(f"{summary.new} new, {summary.kept} kept, {summary.closed} closed")


@monitor_app.command("list")
def list_cmd(
    run: Annotated[int | None, typer.Option(help="Patches found by this run.")] = None,
    layer: Annotated[str | None, typer.Option(help="eco_redline | basic_farmland")] = None,
    zone: Annotated[str | None, typer.Option(help="core | general")] = None,
    kind: Annotated[str | None, typer.Option(help="new_construction | new_bare")] = None,
    status: Annotated[str | None, typer.Option(help="open | field_check | decided | closed")
                      ] = None,
    division: Annotated[str | None, division_option("Division code prefix.")] = None,
    township: Annotated[str | None, typer.Option(help="Township name.")] = None,
    village: Annotated[str | None, typer.Option(help="Nearest village name.")] = None,
    limit: Annotated[int, typer.Option(help="Page size.")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """The suspected patches, filtered and paged."""
    from gis.analysis.monitoring import list_patches

    with open_engine() as engine:
        total, rows = list_patches(engine, run, layer, zone, kind, status, division, township,
                                   village, limit, offset)
    if json_out:
        print_json({"total": total, "items": [r.model_dump(mode="json") for r in rows]})
        return
    table = Table(title=f"Monitoring work list 监测图斑 ({offset + 1}-{offset + len(rows)} "
                        f"of {total})")
    for column in ("id", "layer", "zone", "feature", "kind", "亩", "township", "near village",
                   "dates", "status", "decision", "version"):
        table.add_column(column, justify="right" if column in ("id", "亩") else "left")
    for r in rows:
        near = (f"{r.village} ({r.village_distance_m:,.0f} m)" if r.village
                and r.village_distance_m is not None else "-")
        table.add_row(str(r.id), r.layer, r.zone or "-", r.feature_key, r.kind,
                      f"{r.area_mu:,.2f}", r.township or "-", near, f"{r.date_a}->{r.date_b}",
                      r.status, r.decision or "-", str(r.version))
    console.print(table)


@monitor_app.command("show")
def show_cmd(patch: int, json_out: JsonOpt = False) -> None:
    """One patch with its history and the rules it falls under."""
    from gis.analysis.monitoring import get_patch

    with open_engine() as engine:
        item, history, rules = get_patch(engine, patch)
    if json_out:
        print_json({"patch": item.model_dump(mode="json"),
                    "history": [e.model_dump(mode="json") for e in history],
                    "rules": [r.model_dump(mode="json") for r in rules]})
        return
    table = Table(title=f"Patch 图斑 {item.id}", show_header=False)
    for key in ("layer", "zone", "feature_key", "feature_name", "kind", "transitions",
                "pixels", "area_m2", "area_mu", "area_ha", "township", "village",
                "village_distance_m", "date_a", "date_b", "status", "decision", "version"):
        table.add_row(key, str(getattr(item, key)))
    console.print(table)
    for rule in rules:
        console.print(f"[bold]{rule.rule_id}[/] ({rule.citation.label()}): {rule.text_zh}")
    for event in history:
        console.print(f"{event.at:%Y-%m-%d %H:%M} {event.who()} {event.action} "
                      f"{event.details or ''} {event.reason or ''}")


@monitor_app.command("decide")
def decide_cmd(patch: int,
               decision: Annotated[str, typer.Argument(
                   help="violation | permitted | legacy | false_alarm")],
               reason: Annotated[str, typer.Option()],
               version: Annotated[int, typer.Option(help="The version you decided on.")],
               on_behalf_of: OnBehalfOfOpt = None, json_out: JsonOpt = False) -> None:
    """Record the field inspection's decision (refused if someone changed it since)."""
    from gis.analysis.monitoring import decide

    with open_engine() as engine:
        row = decide(engine, patch, decision, Actor.cli(on_behalf_of), reason, version)
    if json_out:
        print_json(row.model_dump(mode="json"))
    else:
        console.print(f"patch {row.id}: {row.decision} (version {row.version})")


@monitor_app.command("status")
def status_cmd(patch: int, status: str, version: Annotated[int, typer.Option()],
               on_behalf_of: OnBehalfOfOpt = None,
               reason: Annotated[str | None, typer.Option()] = None) -> None:
    """Send a patch to field inspection (field_check), or reopen it."""
    from gis.analysis.monitoring import set_status

    with open_engine() as engine:
        row = set_status(engine, patch, status, Actor.cli(on_behalf_of), version, reason)
    console.print(f"patch {row.id}: {row.status} (version {row.version})")
