"""``gis lines``: control-line versions (load one with its basis, list, diff) and
``gis land-classes``: the survey's land-class totals in official areas."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gis.cli.options import JsonOpt, output_option
from gis.cli.output import console, language, print_json, progress_bar
from gis.cli.resources import open_engine, settings
from gis.errors import GISError, InputError
from gis.messages import msg, text

lines_app = typer.Typer(help="Control-line versions: load with basis, list, diff.",
                        no_args_is_help=True)

DateOpt = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])]
LayerArg = Annotated[str, typer.Argument(
    help="eco_redline | basic_farmland | urban_boundary")]


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


@lines_app.command("load")
def load_cmd(
    path: Annotated[Path, typer.Argument(help="GeoPackage, Shapefile, GeoJSON or FileGDB")],
    layer: Annotated[str, typer.Option("--layer", "-l", help="eco_redline | basic_farmland "
                                       "| urban_boundary")],
    basis: Annotated[str, typer.Option(
        help="approval | protected_area_change | mining_right | unrecorded (003:237-239)")],
    document: Annotated[str | None, typer.Option(help="Document number (批准文号).")] = None,
    approved_by: Annotated[str | None, typer.Option(
        help="Approving body (default: the one the rule names, e.g. 国务院).")] = None,
    effective: Annotated[dt.datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="Effective date (生效日期), YYYY-MM-DD.")] = None,
    note: Annotated[str | None, typer.Option(help="A remark kept with the version.")] = None,
    source_layer: Annotated[str | None, typer.Option(help="Layer inside the file.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding (e.g. GBK).")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS if the file has none.")] = None,
    field_map: Annotated[str | None, typer.Option(
        help="SRC=field,... or a YAML/JSON file mapping source fields to layer fields.")] = None,
    strict: Annotated[bool, typer.Option(help="Refuse invalid geometry.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Load a file as a new version of a control line; the earlier versions stay."""
    from gis.identity import Actor
    from gis.layers.fieldmap import parse_field_map
    from gis.layers.load import LoadOptions, load_file
    from gis.layers.versions import VersionSpec, versioned_layer

    versioned_layer(layer)
    if not path.exists():
        raise InputError(msg("source.missing", path=path))
    spec = VersionSpec(basis=basis, document_no=document, approved_by=approved_by,
                       effective_date=_day(effective), note=note)
    options = LoadOptions(source_layer=source_layer, encoding=encoding, crs=crs,
                          field_map=parse_field_map(field_map), strict=strict, version=spec,
                          actor=Actor.cli())
    with open_engine() as engine, progress_bar() as progress:
        summary = load_file(engine, path, layer, options, progress, settings().data.extent)
        progress.finish()
    if json_out:
        print_json(summary.as_dict())
        return
    key = "versions.cli.loaded" if summary.inserted or summary.updated or summary.deleted \
        else "versions.cli.unchanged"
    console.print(text(key, language(), layer=layer, version=summary.version,
                       added=summary.inserted, changed=summary.updated,
                       removed=summary.deleted, same=summary.unchanged))


@lines_app.command("versions")
def versions_cmd(
    layer: Annotated[str | None, typer.Argument(help="One layer (default: all three).")] = None,
    as_of: DateOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List the versions of the control lines; * marks the one in force (today, or
    --as-of YYYY-MM-DD)."""
    from gis.layers.versions import list_versions, versioned_layers

    ids = [layer] if layer else [lay.id for lay in versioned_layers()]
    with open_engine() as engine:
        found = [v for lid in ids for v in list_versions(engine, lid, _day(as_of))]
    if json_out:
        print_json([v.model_dump(mode="json") for v in found])
        return
    lang = language()
    table = Table(title=text("versions.cli.title", lang))
    for col in ("", "layer 图层", "v", "basis 依据", "document 文号", "approved by 批准机关",
                "effective 生效", "features 要素"):
        table.add_column(col)
    for v in found:
        table.add_row("*" if v.in_force else "", v.layer_zh, str(v.version),
                      v.basis_en if lang == "en" else v.basis_zh, v.document_no or "-",
                      v.approved_by or "-", str(v.effective_date or "-"), str(v.features))
    console.print(table)


@lines_app.command("diff")
def diff_cmd(
    layer: LayerArg,
    before: Annotated[int, typer.Argument(help="The earlier version.", min=1)],
    after: Annotated[int, typer.Argument(help="The later version.", min=1)],
    output: Annotated[Path | None, output_option(
        "Write the added and removed pieces as GeoJSON (a map layer).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """What changed between two versions: area added, removed and net per zone, and the
    features added, removed or changed."""
    from gis.analysis.line_versions import diff_versions

    if output is not None and output.suffix.lower() not in (".geojson", ".json"):
        raise GISError(msg("versions.cli.geojson_only", path=output))
    with open_engine() as engine:
        diff = diff_versions(engine, layer, before, after)
    if output is not None:
        output.write_text(json.dumps(diff.feature_collection(), ensure_ascii=False),
                          encoding="utf-8")
    if json_out:
        print_json(diff.model_dump(mode="json", exclude={"pieces"}))
        return
    lang = language()
    table = Table(title=f"{diff.layer_zh} v{before} → v{after}")
    for col in ("zone 分区", "before m²", "after m²", "added 增加 m²", "removed 减少 m²",
                "net 净变化 m²", "net 亩"):
        table.add_column(col)
    for z in [*diff.zones, diff.total]:
        name = text("versions.cli.total", lang) if z is diff.total else (z.zone_zh or "-")
        table.add_row(name,
                      f"{z.before_m2:,.2f}", f"{z.after_m2:,.2f}", f"{z.added_m2:,.2f}",
                      f"{z.removed_m2:,.2f}", f"{z.net_m2:+,.2f}", f"{z.net_mu:+,.2f}")
    console.print(table)
    for f in diff.features:
        console.print(f"{f.change:8} {f.key}")
    if output is not None:
        console.print(text("versions.cli.written", lang, path=output))


def land_classes_cmd(
    division: Annotated[str, typer.Argument(help="County code (640202) or 64 for the region.")],
    json_out: JsonOpt = False,
) -> None:
    """Land-class totals of the survey (三调) in official areas (图斑地类面积, TBDLMJ)."""
    from gis.analysis.survey_areas import land_class_totals

    with open_engine() as engine:
        rows = land_class_totals(engine, division)
    if json_out:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    lang = language()
    table = Table(title=text("survey.cli.title", lang, division=division))
    for col in ("class 地类", "patches 图斑", "m²", "亩", "ha", "polygon m² 多边形",
                "deducted m² 扣除", "basis 依据"):
        table.add_column(col)
    for r in rows:
        table.add_row(f"{r.code} {r.name_en if lang == 'en' else r.name_zh}", str(r.patches),
                      f"{r.area_m2:,.2f}", f"{r.area_mu:,.2f}", f"{r.area_ha:,.4f}",
                      f"{r.polygon_m2:,.2f}", f"{r.deducted_m2:,.2f}",
                      text(f"survey.basis.{r.basis}", lang))
    console.print(table)
