"""``gis check siting``: may this project go here, and by which approval path?

One footprint (GeoJSON or WKT) gives the full result, stored in the audit trail; a file of
many (GeoPackage, Shapefile, FileGDB) gives a table of verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from gis.cli.options import JsonOpt, output_option
from gis.cli.output import console, language, print_json, progress_bar
from gis.cli.resources import open_engine
from gis.errors import InputError
from gis.messages import msg

if TYPE_CHECKING:
    from gis.analysis.siting import SitingResult

check_app = typer.Typer(help="Run analyses (siting ...).", no_args_is_help=True)

_BATCH_SUFFIXES = {".gpkg", ".shp", ".gdb", ".zip"}
#: The words for a condition's status, as the result table prints it.
_STATUS = {"not_met": "siting.condition.not_met", "met": "siting.condition.met",
           "to_confirm": "siting.condition.to_confirm"}


@check_app.command("siting")
def siting_cmd(
    path: Annotated[Path, typer.Argument(
        help="A footprint (GeoJSON or WKT file), or a GeoPackage/Shapefile of many (batch)")],
    activity: Annotated[str, typer.Option(help="Activity code (gis rules / API /rules).")],
    new_construction_land: Annotated[bool, typer.Option(
        "--new-land/--no-new-land", help="Does the project need new construction land?")],
    temporary: Annotated[bool, typer.Option(help="Temporary land use.")] = False,
    construction: Annotated[bool, typer.Option(
        "--construction/--no-construction",
        help="Does the project have specific construction activity (具体建设活动, 003:243)? "
             "--no-construction for a patrol, monitoring or research without facilities.")
    ] = True,
    linear: Annotated[bool | None, typer.Option(
        "--linear/--not-linear",
        help="Linear infrastructure (road, pipeline, line)? Default: judged from the "
             "footprint's shape, for activities that may be linear.")] = None,
    profile: Annotated[str, typer.Option(help="Rule profile.")] = "ningxia",
    crs: Annotated[str | None, typer.Option(help="CRS of the footprint (default CRS84 for "
                                             "GeoJSON/WKT, the file's own for batches).")] = None,
    line_width: Annotated[float | None, typer.Option(help="Width (m) to buffer a line by.")] = None,
    output: Annotated[Path | None, output_option("Batch result table (.xlsx or .csv).")] = None,
    id_field: Annotated[str | None, typer.Option(help="Batch: field naming each footprint.")]
    = None,
    store: Annotated[bool, typer.Option(help="Store the run in the audit trail.")] = True,
    json_out: JsonOpt = False,
) -> None:
    """Check where a project may go: verdict, overlaps (m², 亩, ha), rules and approval path."""
    if not path.exists():
        raise InputError(msg("source.missing", path=path))
    if path.suffix.lower() in _BATCH_SUFFIXES:
        from gis.analysis.siting_batch import check_file, write_table

        with open_engine() as engine, progress_bar() as progress:
            table = check_file(engine, path, activity, new_construction_land, temporary,
                               profile, id_field=id_field, crs=crs, progress=progress,
                               lang=language(), construction=construction, linear=linear)
        if output:
            write_table(table, output)
        if json_out:
            print_json(table.to_dict(orient="records"))
        else:
            summary = table["verdict"].value_counts().to_dict()
            console.print(f"{len(table)} footprints: {summary}"
                          + (f"; table written to {output}" if output else ""))
        return
    from gis.analysis.siting import check
    from gis.analysis.siting_runs import check_and_store
    from gis.identity import Actor

    text = path.read_text(encoding="utf-8")
    with open_engine() as engine:
        args = (engine, text, activity, new_construction_land, temporary, profile,
                crs or "CRS84", line_width)
        declared = {"construction": construction, "linear": linear}
        if store:
            run = check_and_store(*args, actor=Actor.cli(), **declared)
            result, run_id = run.result, run.id
        else:
            result, run_id = check(*args, **declared), None
    if json_out:
        print_json({"id": run_id, **result.model_dump(mode="json",
                                                       exclude={"footprint_geojson"})})
        return
    _print_result(result, run_id)


def _print_result(result: SitingResult, run_id: str | None) -> None:
    console.print(f"[bold]Verdict 结论: {result.verdict}[/]" + (f"  (run {run_id})"
                                                                 if run_id else ""))
    area = result.footprint_area
    console.print(f"Footprint 项目面积: {area.area_m2:,.2f} m² = {area.area_mu:,.2f} 亩 = "
                  f"{area.area_ha:,.4f} ha")
    if result.overlaps:
        table = Table(title="Overlaps 叠加")
        for col in ("layer 图层", "zone 分区", "m²", "亩", "ha", "share", "features"):
            table.add_column(col)
        for o in result.overlaps:
            table.add_row(o.layer_zh, o.zone or "-", f"{o.area_m2:,.2f}", f"{o.area_mu:,.2f}",
                          f"{o.area_ha:,.4f}", f"{o.share:.1%}",
                          ", ".join(f.key or "" for f in o.features))
        console.print(table)
    lang = language()
    rules = Table(title="Rules 规则")
    for col in ("rule", "verdict", "citation", "conditions 条件"):
        rules.add_column(col)
    for r in result.rules:
        conditions = "\n".join(
            f"[{msg(_STATUS[c.status]).render(lang)}] {c.en if lang == 'en' else c.zh}"
            for c in r.conditions)
        rules.add_row(r.rule_id, r.verdict, f"{r.citation.section} {r.citation.label()}",
                      conditions)
    console.print(rules)
    if result.approval_path:
        p = result.approval_path
        console.print(f"Approval path 审批路径: {p.organizer_zh or '-'} → {p.reviewer_zh or '-'} → "
                      f"{p.decider_zh or '-'}; {p.document_zh}")
    for r in result.rules:
        if r.procedure:
            q = r.procedure
            console.print(f"Procedure 程序 ({r.rule_id}): {q.organizer_zh or '-'} → "
                          f"{q.reviewer_zh or '-'} → {q.decider_zh or '-'}; {q.document_zh}")
    for w in result.warnings:
        console.print(f"[yellow]warning[/] {w.message_zh}")


@check_app.command("reevaluate")
def reevaluate_cmd(json_out: JsonOpt = False) -> None:
    """Judge every stored siting run again under the current rules, from its stored overlaps;
    list and mark the runs whose verdict or approval path changes (nothing is overwritten)."""
    from gis.analysis.siting_reevaluate import reevaluate_runs
    from gis.identity import Actor
    from gis.messages import label, text

    with open_engine() as engine:
        report = reevaluate_runs(engine, Actor.cli())
    if json_out:
        print_json(report.model_dump(mode="json"))
        return
    lang = language()
    console.print(text("siting.reevaluation.summary", lang, batch=report.batch,
                       examined=report.examined, changed=len(report.changed),
                       unchanged=report.unchanged, failed=len(report.failed)))
    if report.changed:
        table = Table()
        table.add_column("run 审查", no_wrap=True, min_width=32)
        for col in ("profile 规则", "verdict 结论", "approval path 审批路径"):
            table.add_column(col)
        for c in report.changed:
            table.add_row(c.run_id, f"{c.profile} {c.profile_version}",
                          f"{label('verdict', c.previous_verdict, lang)} → "
                          f"{label('verdict', c.verdict, lang)}",
                          f"{c.previous_path or '-'} → {c.approval_path or '-'}")
        console.print(table)
    for f in report.failed:
        console.print(f"[yellow]{f.run_id}[/] {f.reason_en if lang == 'en' else f.reason_zh}")
