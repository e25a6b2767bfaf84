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


@check_app.command("siting")
def siting_cmd(
    path: Annotated[Path, typer.Argument(
        help="A footprint (GeoJSON or WKT file), or a GeoPackage/Shapefile of many (batch)")],
    activity: Annotated[str, typer.Option(help="Activity code (gis rules / API /rules).")],
    new_construction_land: Annotated[bool, typer.Option(
        "--new-land/--no-new-land", help="Does the project need new construction land?")],
    temporary: Annotated[bool, typer.Option(help="Temporary land use.")] = False,
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
                               lang=language())
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
        if store:
            run = check_and_store(*args, actor=Actor.cli())
            result, run_id = run.result, run.id
        else:
            result, run_id = check(*args), None
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
    rules = Table(title="Rules 规则")
    for col in ("rule", "verdict", "citation"):
        rules.add_column(col)
    for r in result.rules:
        rules.add_row(r.rule_id, r.verdict, f"{r.citation.section} {r.citation.label()}")
    console.print(rules)
    if result.approval_path:
        p = result.approval_path
        console.print(f"Approval path 审批路径: {p.organizer_zh or '-'} → {p.reviewer_zh or '-'} → "
                      f"{p.decider_zh or '-'}; {p.document_zh}")
    for w in result.warnings:
        console.print(f"[yellow]warning[/] {w.message_zh}")
