"""``gis monitor run|list|show|decide|status|exit-done|overdue|export|field-package|
field-import``: red-line human-activity monitoring from two classified land-cover dates, the
field-inspection work list it keeps (the shared commands of :mod:`gis.cli.worklist`), and the
exit plans of legacy activities (003:235)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gis.cli import worklist as wlcli
from gis.cli.options import JsonOpt, OnBehalfOfOpt, division_option
from gis.cli.output import console, err_console, language, print_json, progress_bar
from gis.cli.resources import open_engine
from gis.identity import Actor
from gis.messages import label, text

monitor_app = typer.Typer(
    help="Red-line human-activity monitoring (生态保护红线人为活动监测) from land cover.",
    no_args_is_help=True)

LayerOpt = Annotated[str | None, typer.Option(help="eco_redline | basic_farmland")]
ZoneOpt = Annotated[str | None, typer.Option(help="core | general")]
PatchKindOpt = Annotated[str | None, typer.Option(help="new_construction | new_bare")]
PatchStatusOpt = Annotated[str | None, typer.Option(help="open | field_check | decided | closed")]
PrefixOpt = Annotated[str | None, division_option("Division code prefix.")]
RunOpt = Annotated[int | None, typer.Option(help="Patches found by this run.")]
#: The columns ``gis monitor list`` shows.
LIST_COLUMNS = ("worklist.column.id", "monitor.column.layer", "monitor.column.zone",
                "monitor.column.feature", "monitor.column.kind", "worklist.column.area_mu",
                "worklist.column.township", "monitor.column.village", "monitor.column.date_a",
                "monitor.column.date_b", "worklist.column.status", "monitor.column.decision",
                "monitor.column.exit_deadline", "worklist.column.version")


def _filters(run: int | None = None, layer: str | None = None, zone: str | None = None,
             kind: str | None = None, status: str | None = None, division: str | None = None,
             township: str | None = None, village: str | None = None) -> dict:
    return {"run": run, "layer": layer, "zone": zone, "kind": kind, "status": status,
            "division": division, "township": township, "village": village}


def _zone_label(zone_key: str) -> str:
    """``eco_redline/core`` as 生态保护红线 核心保护区 (labels and the layer catalogue)."""
    from gis.analysis.monitoring_worklist import zone_name

    layer, _, zone = zone_key.partition("/")
    lang = language()
    return " ".join(p for p in (label("monitored_layer", layer, lang),
                                zone_name(zone, lang) if zone else "") if p)


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
    lang = language()
    warning = text("monitor.cli.warning", lang)
    for note in summary.warnings:
        err_console.print(f"[yellow]{warning}[/] {note['message_' + lang]}")
    table = Table(title=text("monitor.cli.run_title", lang, run=summary.run_id,
                             date_a=summary.date_a, date_b=summary.date_b,
                             profile=summary.profile))
    for i, key in enumerate(("monitor.column.zone", "monitor.cli.patches",
                             "worklist.column.area_mu", "worklist.column.area_ha")):
        table.add_column(text(key, lang), justify="left" if i == 0 else "right")
    for zone_key, count in sorted(summary.found.items()):
        m2 = summary.area_m2[zone_key]
        table.add_row(f"{_zone_label(zone_key)} ({zone_key})", str(count),
                      f"{m2 / (10000 / 15):,.2f}", f"{m2 / 1e4:,.4f}")
    console.print(table)
    console.print(text("monitor.cli.run_counts", lang, new=summary.new, kept=summary.kept,
                       closed=summary.closed))


@monitor_app.command("list")
def list_cmd(
    run: RunOpt = None, layer: LayerOpt = None, zone: ZoneOpt = None,
    kind: PatchKindOpt = None, status: PatchStatusOpt = None, division: PrefixOpt = None,
    township: wlcli.TownshipOpt = None,
    village: Annotated[str | None, typer.Option(help="Nearest village name.")] = None,
    limit: Annotated[int, typer.Option(help="Page size.")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """The suspected patches, filtered and paged."""
    from gis.analysis import worklist_ops as ops
    from gis.analysis.monitoring import MONITOR

    filters = _filters(run, layer, zone, kind, status, division, township, village)
    with open_engine() as engine:
        total, rows = ops.list_items(engine, MONITOR, filters, limit, offset)
    wlcli.print_page(MONITOR, "worklist.cli.monitor_title", total, rows, offset, LIST_COLUMNS,
                     json_out)


@monitor_app.command("show")
def show_cmd(patch: int, json_out: JsonOpt = False) -> None:
    """One patch with its history, the rules it falls under and its exit plan."""
    from gis.analysis.monitoring import MONITOR, get_patch_detail

    with open_engine() as engine:
        item, history, rules, plan = get_patch_detail(engine, patch)
    if json_out:
        print_json({"patch": item.model_dump(mode="json"),
                    "history": [e.model_dump(mode="json") for e in history],
                    "rules": [r.model_dump(mode="json") for r in rules],
                    "exit_plan": plan.model_dump(mode="json") if plan else None})
        return
    lang = language()
    console.print(wlcli.items_table(MONITOR, text("worklist.noun.patch", lang) + f" {item.id}",
                                    [item], tuple(c.header for c in MONITOR.columns)))
    for rule in rules:
        console.print(f"[bold]{rule.rule_id}[/] ({rule.citation.label()}): {rule.text_zh}")
    if plan is not None:
        console.print(text("monitor.cli.exit_plan", lang, status=label(
            "exit_plan_status", plan.status, lang), deadline=plan.deadline.isoformat(),
            unit=plan.responsible_unit, measures=plan.measures,
            compensation=plan.compensation, restoration=plan.restoration,
            rule=plan.rule.rule_id, citation=plan.rule.citation.label()))
    for event in history:
        console.print(wlcli.history_line(MONITOR, event))


@monitor_app.command("decide")
def decide_cmd(
    patch: int,
    decision: Annotated[str, typer.Argument(help="violation | permitted | legacy | false_alarm")],
    reason: Annotated[str, typer.Option()],
    version: Annotated[int, typer.Option(help="The version you decided on.")],
    exit_measures: Annotated[str | None, typer.Option(
        help="legacy: the exit measures (退出措施, 003:235).")] = None,
    exit_deadline: Annotated[str | None, typer.Option(
        help="legacy: the exit deadline, YYYY-MM-DD (退出时限).")] = None,
    exit_unit: Annotated[str | None, typer.Option(
        help="legacy: the responsible unit (责任单位, the local government).")] = None,
    exit_compensation: Annotated[str | None, typer.Option(
        help="legacy: compensation and resettlement (补偿安置).")] = None,
    exit_restoration: Annotated[str | None, typer.Option(
        help="legacy: ecological restoration (生态修复).")] = None,
    on_behalf_of: OnBehalfOfOpt = None, json_out: JsonOpt = False,
) -> None:
    """Record the field inspection's decision (refused if someone changed it since);
    ``legacy`` needs the exit plan (--exit-*)."""
    from gis.analysis.monitoring import MONITOR, decide_patch

    given = {"measures": exit_measures, "deadline": exit_deadline,
             "responsible_unit": exit_unit, "compensation": exit_compensation,
             "restoration": exit_restoration}
    plan = given if any(v is not None for v in given.values()) else None
    with open_engine() as engine:
        changed = decide_patch(engine, patch, decision, Actor.cli(on_behalf_of), reason,
                               version, plan)
    wlcli.print_change(MONITOR, changed, json_out)


@monitor_app.command("status")
def status_cmd(patch: int, status: str, version: Annotated[int, typer.Option()],
               on_behalf_of: OnBehalfOfOpt = None,
               reason: Annotated[str | None, typer.Option()] = None,
               json_out: JsonOpt = False) -> None:
    """Send a patch to field inspection (field_check), or reopen it."""
    from gis.analysis import worklist_ops as ops
    from gis.analysis.monitoring import MONITOR

    with open_engine() as engine:
        changed = ops.set_status(engine, MONITOR, patch, status, Actor.cli(on_behalf_of),
                                 version, reason)
    wlcli.print_change(MONITOR, changed, json_out)


@monitor_app.command("exit-done")
def exit_done_cmd(patch: int, reason: Annotated[str, typer.Option()],
                  version: Annotated[int, typer.Option()], on_behalf_of: OnBehalfOfOpt = None,
                  json_out: JsonOpt = False) -> None:
    """A legacy activity has exited: complete its exit plan."""
    from gis.analysis.monitoring import MONITOR, complete_exit

    with open_engine() as engine:
        changed = complete_exit(engine, patch, Actor.cli(on_behalf_of), reason, version)
    wlcli.print_change(MONITOR, changed, json_out)


@monitor_app.command("overdue")
def overdue_cmd(
    on: Annotated[str | None, typer.Option(help="As of this date (YYYY-MM-DD); default today "
                                                "in Beijing.")] = None,
    division: PrefixOpt = None, township: wlcli.TownshipOpt = None,
    limit: Annotated[int, typer.Option(help="Page size.")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Exit plans of legacy activities past their deadline and not completed (003:235)."""
    from gis.analysis.monitoring import overdue_plans

    when = wlcli.parse_date(on) if on else None
    with open_engine() as engine:
        total, plans = overdue_plans(engine, when, division, township, limit, offset)
    if json_out:
        print_json({"total": total, "items": [p.model_dump(mode="json") for p in plans]})
        return
    lang = language()
    table = Table(title=text("monitor.cli.overdue_title", lang, total=total,
                             on=(when or wlcli.today()).isoformat()))
    for key in ("worklist.column.id", "monitor.column.layer", "monitor.column.feature",
                "worklist.column.township", "monitor.column.exit_deadline",
                "monitor.cli.days_overdue", "monitor.cli.unit", "monitor.cli.measures"):
        table.add_column(text(key, lang), overflow="fold")
    for p in plans:
        table.add_row(str(p.patch_id), label("monitored_layer", p.layer, lang), p.feature_key,
                      p.township or "-", p.deadline.isoformat(), str(p.days_overdue),
                      p.responsible_unit, p.measures)
    console.print(table)


@monitor_app.command("export")
def export_cmd(output: wlcli.ExportPathArg, run: RunOpt = None, layer: LayerOpt = None,
               zone: ZoneOpt = None, kind: PatchKindOpt = None, status: PatchStatusOpt = None,
               division: PrefixOpt = None, township: wlcli.TownshipOpt = None) -> None:
    """Export the patch work list (the list's filters) to .xlsx or .gpkg."""
    from gis.analysis.monitoring import MONITOR

    wlcli.export(MONITOR, output, _filters(run, layer, zone, kind, status, division,
                                           township))


@monitor_app.command("field-package")
def field_package_cmd(output: wlcli.PackagePathArg, layer: LayerOpt = None,
                      division: PrefixOpt = None, township: wlcli.TownshipOpt = None,
                      json_out: JsonOpt = False) -> None:
    """The patches in field inspection as a GeoPackage for surveyors, one layer per
    township."""
    from gis.analysis.monitoring import MONITOR

    wlcli.field_package(MONITOR, output, _filters(layer=layer, division=division,
                                                  township=township), json_out)


@monitor_app.command("field-import")
def field_import_cmd(results: wlcli.ResultsPathArg, on_behalf_of: OnBehalfOfOpt = None,
                     json_out: JsonOpt = False) -> None:
    """Import a filled-in field-check package: every row valid, or nothing imported."""
    from gis.analysis.monitoring import MONITOR

    wlcli.field_import(MONITOR, Path(results), on_behalf_of, json_out)

