"""``gis check siting``: may this project go here, and by which approval path?

One footprint (GeoJSON or WKT) gives the full result, stored in the audit trail; a file of
many (GeoPackage, Shapefile, FileGDB) gives a table of verdicts."""

from __future__ import annotations

from datetime import datetime
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
    from pydantic import ValidationError

    from gis.analysis.siting import SitingResult
    from gis.analysis.siting_runs import ProjectInfo

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
    zone: Annotated[int | None, typer.Option(
        help="Gauss-Kruger zone of a boundary-point coordinate file (.txt) that names none, "
             "e.g. 35 (3-degree zones).")] = None,
    output: Annotated[Path | None, output_option("Batch result table (.xlsx or .csv).")] = None,
    id_field: Annotated[str | None, typer.Option(help="Batch: field naming each footprint.")]
    = None,
    store: Annotated[bool, typer.Option(help="Store the run in the audit trail.")] = True,
    project_code: Annotated[str | None, typer.Option(
        help="项目代码, stored with the run (gis check history --project).")] = None,
    project_name: Annotated[str | None, typer.Option(help="项目名称.")] = None,
    applicant: Annotated[str | None, typer.Option(help="申请单位.")] = None,
    purpose: Annotated[str | None, typer.Option(help="建设用途.")] = None,
    as_of: Annotated[datetime | None, typer.Option(
        "--as-of", formats=["%Y-%m-%d"],
        help="Check the control-line versions in force on this day (YYYY-MM-DD, China); "
             "default today.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check where a project may go: verdict, overlaps (m², 亩, ha), rules and approval path."""
    day = as_of.date() if as_of is not None else None
    if not path.exists():
        raise InputError(msg("source.missing", path=path))
    if path.suffix.lower() in _BATCH_SUFFIXES:
        from gis.analysis.siting_batch import check_file, write_table

        with open_engine() as engine, progress_bar() as progress:
            table = check_file(engine, path, activity, new_construction_land, temporary,
                               profile, id_field=id_field, crs=crs, progress=progress,
                               lang=language(), construction=construction, linear=linear,
                               as_of=day)
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

    project = _project(project_code, project_name, applicant, purpose)

    text, source_crs = _footprint_text(path, crs, zone)
    with open_engine() as engine:
        args = (engine, text, activity, new_construction_land, temporary, profile,
                source_crs, line_width)
        declared = {"construction": construction, "linear": linear, "as_of": day}
        if store:
            run = check_and_store(*args, actor=Actor.cli(), project=project, **declared)
            result, run_id = run.result, run.id
        else:
            result, run_id = check(*args, **declared), None
    if json_out:
        print_json({"id": run_id, **result.model_dump(mode="json",
                                                       exclude={"footprint_geojson"})})
        return
    _print_result(result, run_id)


def _footprint_text(path: Path, crs: str | None, zone: int | None) -> tuple[str, str]:
    """The footprint's text and CRS: GeoJSON or WKT as written (CRS84 unless ``crs``); a
    boundary-point coordinate file (界址点坐标 ``.txt``, see gis.layers.coordinates) as the
    WKT of its parcels together, in its Gauss-Kruger zone."""
    import re

    from gis.layers.coordinates import decode, read_coordinate_file

    raw = path.read_bytes()
    text = decode(raw)
    if path.suffix.lower() == ".txt" and not re.match(r"\s*(\{|SRID|[A-Za-z]+\s*\()", text):
        import shapely

        parsed = read_coordinate_file(raw, path.name, zone, crs)
        return shapely.union_all(parsed.geometries).wkt, str(parsed.crs)
    return text, crs or "CRS84"


def _usage(error: ValidationError) -> typer.BadParameter:
    """A request field refused by its model, as click's usage error (exit 2)."""
    from gis.messages import validation_message

    first = error.errors()[0]
    option = _OPTIONS.get(str(first["loc"][0]), f"--{first['loc'][0]}")
    return typer.BadParameter(validation_message(first).render(language()), param_hint=option)


#: Model fields -> the options that give them.
_OPTIONS = {"project_code": "--project-code", "project_name": "--project-name",
            "date_from": "--from", "date_to": "--to", "q": "--q", "verdict": "--verdict"}


def _project(code: str | None, name: str | None, applicant: str | None,
             purpose: str | None) -> ProjectInfo:
    from pydantic import ValidationError

    from gis.analysis.siting_runs import ProjectInfo

    try:
        return ProjectInfo(project_code=code, project_name=name, applicant=applicant,
                           purpose=purpose)
    except ValidationError as exc:
        raise _usage(exc) from None


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
    if result.control_line_versions:
        console.print(f"Control lines 控制线版本 ({result.as_of}): " + "; ".join(
            f"{v.layer} v{v.version} {v.document_no or '-'}" for v in result.control_line_versions))
    if result.land_survey is not None:
        s = result.land_survey
        console.print(f"Cultivated 耕地 (三调): {s.cultivated_m2:,.2f} m² = "
                      f"{s.cultivated_mu:,.2f} 亩 ({s.cultivated_share:.1%}); "
                      f"{s.note_en if language() == 'en' else s.note_zh}")
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


@check_app.command("history")
def history_cmd(
    project_code: Annotated[str | None, typer.Option(
        "--project", help="Exactly this project code (项目代码).")] = None,
    query: Annotated[str | None, typer.Option(
        "--q", help="Words of the project's code, name, applicant or purpose, or a run id.")]
    = None,
    verdict: Annotated[str | None, typer.Option(
        help="no_conflict, permitted_with_conditions, justification_required or prohibited.")]
    = None,
    date_from: Annotated[datetime | None, typer.Option(
        "--from", formats=["%Y-%m-%d"], help="First day (Beijing time), YYYY-MM-DD.")] = None,
    date_to: Annotated[datetime | None, typer.Option(
        "--to", formats=["%Y-%m-%d"], help="Last day (Beijing time), YYYY-MM-DD.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Rows to show.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Rows to skip.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """The history of siting checks, newest first: when (Beijing time), which project, the
    verdict, the area and who checked it."""
    from pydantic import ValidationError

    from gis.analysis.run_history import RunFilter, list_runs
    from gis.localtime import beijing_text
    from gis.messages import label, text

    try:
        filters = RunFilter(project_code=project_code, q=query, verdict=verdict,
                            date_from=date_from.date() if date_from else None,
                            date_to=date_to.date() if date_to else None)
    except ValidationError as exc:
        raise _usage(exc) from None
    with open_engine() as engine:
        page = list_runs(engine, filters, limit, offset)
    if json_out:
        print_json(page.model_dump(mode="json"))
        return
    lang = language()
    table = Table(title=text("history.summary", lang, total=page.total, shown=len(page.items)))
    table.add_column("id", no_wrap=True)
    for key in ("time", "project", "verdict", "area", "who", "rerun_of"):
        table.add_column(text(f"history.column.{key}", lang))
    for run in page.items:
        project = " ".join(x for x in (run.project_code, run.project_name) if x) or "-"
        table.add_row(run.id, beijing_text(run.created_at), project,
                      label("verdict", run.verdict, lang),
                      "-" if run.area_mu is None else f"{run.area_mu:,.2f}",
                      run.requested_by or "-", run.rerun_of or "")
    console.print(table)
