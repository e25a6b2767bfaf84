"""``gis layers``, ``gis load`` and ``gis export``: the layer catalogue, importing files into
it and exporting layers out of it (plain commands on the root app, not a group)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gis.cli.options import JsonOpt, output_option
from gis.cli.output import console, print_json, progress_bar
from gis.cli.resources import open_engine, settings
from gis.errors import GISError, InputError
from gis.messages import msg


def layers_cmd(json_out: JsonOpt = False) -> None:
    """List the layer catalogue with feature counts."""
    from gis.layers.catalogue import load_catalogue
    from gis.layers.stats import feature_counts

    with open_engine() as engine:
        counts = feature_counts(engine)
    rows = [
        {"id": layer.id, "title_zh": layer.zh, "title_en": layer.en, "table": layer.table,
         "group": layer.group, "sensitivity": layer.sensitivity,
         "natural_key": layer.natural_key, "features": counts.get(layer.id)}
        for layer in load_catalogue()
    ]
    if json_out:
        print_json(rows)
        return
    table = Table(title="One-Map layers 图层目录")
    for col in ("id", "中文名", "title", "table", "features"):
        table.add_column(col, justify="right" if col == "features" else "left")
    for row in rows:
        table.add_row(row["id"], row["title_zh"], row["title_en"], row["table"],
                      "-" if row["features"] is None else f"{row['features']:,}")
    console.print(table)


def load_cmd(
    path: Annotated[Path, typer.Argument(
        help="GeoPackage, Shapefile (.shp/.zip), GeoJSON or FileGDB (.gdb)")],
    layer: Annotated[str, typer.Option("--layer", "-l", help="Catalogue layer id.")],
    source_layer: Annotated[str | None, typer.Option(help="Layer inside the file.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding (e.g. GBK).")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS if the file has none.")] = None,
    from_gcj02: Annotated[bool, typer.Option(help="Coordinates are GCJ-02 (AMap).")] = False,
    field_map: Annotated[str | None, typer.Option(
        help="SRC=field,... or a YAML/JSON file mapping source fields to layer fields.")] = None,
    set_values: Annotated[list[str] | None, typer.Option(
        "--set", help="Constant FIELD=VALUE for every feature (repeatable).")] = None,
    strict: Annotated[bool, typer.Option(
        help="Refuse invalid geometry instead of repairing it.")] = False,
    replace: Annotated[bool, typer.Option(help="Delete features absent from the file.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Load a file into a layer: validated, in one transaction, upserted by natural key."""
    from gis.layers.fieldmap import parse_field_map
    from gis.layers.load import LoadOptions, load_file

    if not path.exists():
        raise InputError(msg("source.missing", path=path))
    constants = {}
    for item in set_values or []:
        if "=" not in item:
            raise GISError(msg("command.bad_set", item=item))
        key, value = item.split("=", 1)
        constants[key.strip()] = value.strip()
    options = LoadOptions(source_layer=source_layer, encoding=encoding, crs=crs,
                          from_gcj02=from_gcj02, field_map=parse_field_map(field_map),
                          constants=constants, strict=strict, replace=replace)
    with open_engine() as engine, progress_bar() as progress:
        summary = load_file(engine, path, layer, options, progress, settings().data.extent)
        progress.finish()
    if json_out:
        print_json(summary.as_dict())
        return
    table = Table(title=f"Loaded {summary.source} -> {summary.layer}", show_header=False)
    for key in ("source_layer", "source_crs", "encoding", "features", "inserted", "updated",
                "unchanged", "deleted", "repaired"):
        table.add_row(key, str(getattr(summary, key)))
    if summary.version is not None:  # a control line: the version its rows now are
        table.add_row("version", str(summary.version))
    table.add_row("field map", ", ".join(f"{v}->{k}" for k, v in summary.field_map.items()))
    if summary.ignored_fields:
        table.add_row("ignored fields", ", ".join(summary.ignored_fields))
    console.print(table)


def export_cmd(
    layer: Annotated[str, typer.Argument(help="Catalogue layer id.")],
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="gpkg | shp | geojson | xlsx")] = "gpkg",
    output: Annotated[Path | None, output_option()] = None,
    version: Annotated[int | None, typer.Option(
        "--version", min=1, help="A control line's version (default: the one in force today; "
        "gis lines versions).")] = None,
) -> None:
    """Export a layer to GeoPackage, Shapefile (UTF-8 + .cpg), GeoJSON (CRS84) or Excel."""
    from gis.layers.catalogue import get_layer
    from gis.layers.export import export_layer
    from gis.layers.versions import check_version

    with open_engine() as engine:
        check_version(engine, get_layer(layer), version)
        path = export_layer(engine, layer, fmt, output, version)  # type: ignore[arg-type]
    console.print(f"wrote {path}")
