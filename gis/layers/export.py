"""``gis export``: a layer out to GeoPackage, Shapefile, GeoJSON or Excel.

Shapefile fields use the catalogue's short source-style names (TBBH, DLBM, ...) and UTF-8 with
a ``.cpg``, so the file opens correctly in ArcGIS/QGIS and loads back with the default field
map. Excel carries the Chinese titles as headers and areas in m², 亩 and ha.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import pyogrio
from psycopg import sql
from sqlalchemy import Engine

from gis.crs import CRS84, STORAGE_CRS
from gis.errors import UnsupportedFormat
from gis.layers.catalogue import Layer, get_layer
from gis.messages import msg
from gis.units import M2_PER_HA, M2_PER_MU

ExportFormat = Literal["gpkg", "shp", "geojson", "xlsx"]
EXTENSIONS: dict[str, str] = {"gpkg": ".gpkg", "shp": ".shp", "geojson": ".geojson",
                              "xlsx": ".xlsx"}


def read_layer(engine: Engine, layer: Layer, version: int | None = None) -> gpd.GeoDataFrame:
    """The whole layer as a GeoDataFrame in EPSG:4490, ordered by feature id; a control line
    in ``version``, else in its version in force today (never two versions at once)."""
    columns = sql.SQL(", ").join(
        map(sql.Identifier, ["id", *layer.field_names, "area_m2", "updated_at"])
    )
    where = sql.SQL(
        "WHERE version = coalesce(%(version)s::int, (SELECT control_line_version(%(layer)s)))"
    ) if layer.versioned else sql.SQL("")
    query = sql.SQL("SELECT {}, ST_AsBinary(geom) AS geometry FROM {} {} ORDER BY id").format(
        columns, sql.Identifier(layer.table), where
    )
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            cur.execute(query, {"version": version, "layer": layer.id})
            names = [d.name for d in cur.description]
            rows = cur.fetchall()
    frame = pd.DataFrame(rows, columns=names)
    geometry = gpd.GeoSeries.from_wkb(
        [bytes(g) for g in frame.pop("geometry")], crs=STORAGE_CRS
    )
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=STORAGE_CRS)


def _with_areas(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["area_mu"] = (out["area_m2"] / M2_PER_MU).round(4)
    out["area_ha"] = (out["area_m2"] / M2_PER_HA).round(6)
    return out


def export_layer(
    engine: Engine, layer_id: str, fmt: ExportFormat, output: Path | str | None = None,
    version: int | None = None,
) -> Path:
    """``version``: a control line's version (default: the one in force today)."""
    layer = get_layer(layer_id)
    if fmt not in EXTENSIONS:
        raise UnsupportedFormat(msg("export.unknown_format", fmt=fmt,
                                    formats=sorted(EXTENSIONS)))
    output = Path(output) if output else Path(f"{layer.id}{EXTENSIONS[fmt]}")
    output.parent.mkdir(parents=True, exist_ok=True)
    frame = _with_areas(read_layer(engine, layer, version))
    frame["updated_at"] = frame["updated_at"].astype(str)
    for f in layer.fields:
        if f.type == "date":
            frame[f.name] = frame[f.name].astype(object).where(frame[f.name].notna(), None)
    if fmt == "xlsx":
        _write_xlsx(frame, layer, output)
    elif fmt == "shp":
        renamed = frame.rename(columns={f.name: f.shp for f in layer.fields})
        renamed = renamed.rename(columns={"area_m2": "MJ_M2", "area_mu": "MJ_MU",
                                          "area_ha": "MJ_HA", "updated_at": "GXSJ",
                                          "id": "FID_"})
        pyogrio.write_dataframe(renamed, output, driver="ESRI Shapefile", encoding="UTF-8")
    elif fmt == "geojson":
        pyogrio.write_dataframe(frame.to_crs(CRS84), output, driver="GeoJSON",
                                layer_options={"RFC7946": "YES"})
    else:
        if output.exists():
            output.unlink()
        pyogrio.write_dataframe(frame, output, layer=layer.id, driver="GPKG")
    return output


def _write_xlsx(frame: gpd.GeoDataFrame, layer: Layer, output: Path) -> None:
    headers = {"id": "要素编号 ID"}
    headers.update({f.name: f"{f.zh} {f.en}" for f in layer.fields})
    headers.update({"area_m2": "面积(平方米) Area m²", "area_mu": "面积(亩) Area mu",
                    "area_ha": "面积(公顷) Area ha", "updated_at": "更新时间 Updated"})
    table = pd.DataFrame(frame.drop(columns="geometry")).rename(columns=headers)
    with pd.ExcelWriter(output, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name=layer.id[:31], index=False)
        sheet = writer.sheets[layer.id[:31]]
        sheet.freeze_panes = "B2"
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column[:200])
            sheet.column_dimensions[column[0].column_letter].width = min(40, width + 4)
