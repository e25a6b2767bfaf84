"""Writing the sample GeoPackage: one layer per catalogue layer plus the quota ledger table.

Columns follow the catalogue's field order and types, geometries are MultiPolygons in
EPSG:4490, and ``gpkg_contents.last_change`` is pinned so that a rebuild is byte-identical.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyogrio

from gis.layers.catalogue import get_layer
from gis.samples import _geo as geo
from gis.samples._model import LAYER_IDS, QUOTA_LEDGER, Feature

#: gpkg_contents.last_change of every layer (GDAL's OGR_CURRENT_DATE), so rebuilds are identical.
GPKG_TIMESTAMP = "2026-01-01T00:00:00Z"


def _column(field_type: str, values: list) -> pd.api.extensions.ExtensionArray | pd.Series:
    if field_type == "int":
        return pd.array(values, dtype="Int64")
    if field_type == "float":
        return pd.array(values, dtype="Float64")
    if field_type == "bool":
        return pd.array(values, dtype="boolean")
    if field_type == "date":
        dates = [dt.date.fromisoformat(v) if v else None for v in values]
        return pd.array(dates, dtype=pd.ArrowDtype(pa.date32()))
    return pd.Series(values, dtype=object)


def write_geopackage(path: Path, layers: dict[str, list[Feature]], ledger: list[dict]) -> Path:
    """One GeoPackage layer per catalogue layer (catalogue field order and types) plus the
    attribute table ``quota_ledger``; ``gpkg_contents.last_change`` is pinned."""
    import geopandas as gpd

    if path.exists():
        path.unlink()
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    try:
        for lid in LAYER_IDS:
            layer = get_layer(lid)
            rows = layers[lid]
            data = {f.name: _column(f.type, [r.attrs.get(f.name) for r in rows])
                    for f in layer.fields}
            frame = gpd.GeoDataFrame(data, geometry=[geo.as_multi(r.geom) for r in rows],
                                     crs="EPSG:4490")
            pyogrio.write_dataframe(
                frame, path, layer=lid, driver="GPKG", use_arrow=True,
                geometry_type="MultiPolygon",
                layer_options={"DESCRIPTION": f"{layer.zh} {layer.en} (generated sample)"})
        table = pd.DataFrame({
            "village_code": _column("text", [d["village_code"] for d in ledger]),
            "project_code": _column("text", [d["project_code"] for d in ledger]),
            "project_name": _column("text", [d["project_name"] for d in ledger]),
            "area_m2": _column("float", [d["area_m2"] for d in ledger]),
            "draw_date": _column("date", [d["draw_date"] for d in ledger]),
            "purpose": _column("text", [d["purpose"] for d in ledger]),
        })
        pyogrio.write_dataframe(table, path, layer=QUOTA_LEDGER, driver="GPKG", use_arrow=True,
                                layer_options={"DESCRIPTION": "机动指标台账 flexible-quota ledger"})
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    return path
