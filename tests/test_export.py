"""Tests for gis.layers.export: every format, read back independently and re-loaded.

The layers are filled through the real loader from factory files, exported, and then (a)
read with pyogrio/openpyxl/json directly and (b) loaded back into emptied tables, which must
reproduce the same attributes and areas.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pyogrio
import pytest
import shapely
from sqlalchemy import Engine, text

from gis.layers.catalogue import get_layer
from gis.layers.export import export_layer
from gis.layers.load import LoadOptions, load_file
from gis.testing import assert_close
from gis.units import M2_PER_MU, geodesic_area
from tests.factories import forest_frame, survey_frame, write

AREA_REL = 1e-4  # 0.01 %


def rows(engine: Engine, layer_id: str) -> dict[tuple, dict]:
    """Rows keyed by natural key: every catalogue field, area_m2 and the shapely geometry."""
    layer = get_layer(layer_id)
    cols = ", ".join(f'"{c}"' for c in [*layer.field_names, "area_m2"])
    with engine.connect() as conn:
        result = conn.execute(text(
            f"SELECT {cols}, ST_AsBinary(geom) AS wkb FROM {layer.table}"))
        out = [dict(r._mapping) for r in result]
    for r in out:
        r["geom"] = shapely.from_wkb(bytes(r.pop("wkb")))
    return {tuple(r[k] for k in layer.natural_key): r for r in out}


def truncate(engine: Engine, layer_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {get_layer(layer_id).table} RESTART IDENTITY"))


@pytest.fixture
def loaded(clean_db: Engine, tmp_path: Path) -> Engine:
    """Five survey patches and four forest parcels, loaded from GeoPackages."""
    src = tmp_path / "src"
    src.mkdir()
    survey = load_file(clean_db, write(survey_frame(5), src / "三调图斑.gpkg"), "survey_patches")
    forest = load_file(clean_db, write(forest_frame(4), src / "林地小班.gpkg"), "forest_parcels")
    assert (survey.inserted, forest.inserted) == (5, 4)
    return clean_db


# -- Shapefile --------------------------------------------------------------------------------


def test_shapefile_is_utf8_with_short_names(loaded: Engine, tmp_path: Path) -> None:
    out = export_layer(loaded, "survey_patches", "shp", tmp_path / "out" / "patches.shp")

    assert out == tmp_path / "out" / "patches.shp"
    assert out.with_suffix(".cpg").read_text().strip().upper() in {"UTF-8", "UTF8"}
    assert "星海镇星光村".encode() in out.with_suffix(".dbf").read_bytes()
    info = pyogrio.read_info(out)
    assert {"TBBH", "DLBM", "DLMC", "QSDWDM", "QSDWMC", "TBMJ", "XZQDM"} <= set(info["fields"])
    assert all(len(name.encode()) <= 10 for name in info["fields"])
    back = pyogrio.read_dataframe(out)
    stored = rows(loaded, "survey_patches")
    assert len(back) == len(stored) == 5
    for _, rec in back.iterrows():
        row = stored[(rec["XZQDM"], rec["TBBH"])]
        assert rec["DLMC"] == row["land_use_name"]
        assert rec["QSDWMC"] == row["owner_unit_name"]
        assert rec["DLBM"] == row["land_use_code"]
    assert set(back["DLMC"]) == {"乔木林地", "天然牧草地", "水浇地", "旱地", "灌木林地"}


def test_forest_shapefile_field_names(loaded: Engine, tmp_path: Path) -> None:
    out = export_layer(loaded, "forest_parcels", "shp", tmp_path / "forest.shp")
    back = pyogrio.read_dataframe(out)
    assert {"XIAN", "LIN_BAN", "XIAO_BAN", "DI_LEI", "YOU_SHI_SZ", "QLR", "LQZH",
            "SEN_LIN_LB", "SHI_QUAN_D"} <= set(back.columns)
    assert set(back["YOU_SHI_SZ"]) == {"油松", "樟子松", "山杏", "柠条"}
    assert "宁林证字（2009）第64020200号" in set(back["LQZH"])


# -- re-loading exports -----------------------------------------------------------------------


@pytest.mark.parametrize("layer_id", ["survey_patches", "forest_parcels"])
@pytest.mark.parametrize("fmt", ["shp", "gpkg", "geojson"])
def test_export_reloads_to_same_rows(loaded: Engine, tmp_path: Path, fmt: str, layer_id: str
                                     ) -> None:
    before = rows(loaded, layer_id)
    out = export_layer(loaded, layer_id, fmt, tmp_path / f"{layer_id}.{fmt}")
    truncate(loaded, layer_id)

    summary = load_file(loaded, out, layer_id, LoadOptions())

    assert (summary.features, summary.inserted) == (len(before), len(before))
    after = rows(loaded, layer_id)
    assert set(after) == set(before)
    fields = get_layer(layer_id).field_names
    for key, old in before.items():
        new = after[key]
        for name in fields:
            if isinstance(old[name], float):
                assert_close(new[name], old[name], 1e-9, name)
            else:
                assert new[name] == old[name], (key, name, new[name], old[name])
        assert_close(new["area_m2"], old["area_m2"], AREA_REL, "area_m2")
        assert_close(new["area_m2"], geodesic_area(old["geom"]).m2, AREA_REL, "area_m2")
        assert shapely.hausdorff_distance(new["geom"], old["geom"]) < 1e-6


# -- GeoJSON ----------------------------------------------------------------------------------


def test_geojson_is_crs84_lon_lat(loaded: Engine, tmp_path: Path) -> None:
    out = export_layer(loaded, "survey_patches", "geojson", tmp_path / "patches.geojson")
    doc = json.loads(out.read_text(encoding="utf-8"))

    crs = doc.get("crs")
    assert crs is None or "CRS84" in json.dumps(crs)
    stored = rows(loaded, "survey_patches")
    assert len(doc["features"]) == 5
    for feature in doc["features"]:
        props = feature["properties"]
        row = stored[(props["county_code"], props["patch_no"])]
        assert props["owner_unit_name"] == row["owner_unit_name"]
        ring = feature["geometry"]["coordinates"]
        while isinstance(ring[0][0], list):
            ring = ring[0]
        lon, lat = ring[0]
        assert 106.2 < lon < 106.4 and 38.9 < lat < 39.1  # x is longitude
        xmin, ymin, xmax, ymax = row["geom"].bounds
        assert xmin - 1e-7 <= lon <= xmax + 1e-7
        assert ymin - 1e-7 <= lat <= ymax + 1e-7


# -- Excel ------------------------------------------------------------------------------------


def _sheet(path: Path) -> tuple[list[str], list[dict]]:
    book = openpyxl.load_workbook(path, read_only=True)
    values = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    headers = [str(h) for h in values[0]]
    return headers, [dict(zip(headers, r, strict=True)) for r in values[1:]]


def _column(headers: list[str], prefix: str) -> str:
    found = [h for h in headers if h.startswith(prefix)]
    assert len(found) == 1, (prefix, headers)
    return found[0]


def test_xlsx_has_chinese_headers_and_consistent_areas(loaded: Engine, tmp_path: Path) -> None:
    out = export_layer(loaded, "survey_patches", "xlsx", tmp_path / "patches.xlsx")
    headers, records = _sheet(out)

    assert any("图斑编号" in h for h in headers)
    assert any("地类名称" in h for h in headers)
    assert any("权属单位名称" in h for h in headers)
    m2_col = _column(headers, "面积(平方米)")
    mu_col = _column(headers, "面积(亩)")
    ha_col = _column(headers, "面积(公顷)")
    no_col = _column(headers, "图斑编号")
    owner_col = _column(headers, "权属单位名称")

    stored = {k[1]: v for k, v in rows(loaded, "survey_patches").items()}
    assert len(records) == len(stored) == 5
    for rec in records:
        row = stored[str(rec[no_col])]
        assert rec[owner_col] == row["owner_unit_name"]
        m2, mu, ha = float(rec[m2_col]), float(rec[mu_col]), float(rec[ha_col])
        assert_close(m2, row["area_m2"], 1e-9, "m2")
        assert 10_000 < m2 < 50_000  # a few hectares
        assert ha * 15 == pytest.approx(mu, abs=1e-3)
        assert m2 / M2_PER_MU == pytest.approx(mu, abs=1e-3)
        assert m2 / 666.67 == pytest.approx(mu, rel=1e-5)  # the 666.67 m²/亩 rule of thumb
        assert m2 / 10_000 == pytest.approx(ha, abs=1e-5)


def test_xlsx_forest_headers(loaded: Engine, tmp_path: Path) -> None:
    out = export_layer(loaded, "forest_parcels", "xlsx", tmp_path / "forest.xlsx")
    headers, records = _sheet(out)
    assert any("林班号" in h for h in headers)
    assert any("小班号" in h for h in headers)
    species = _column(headers, "优势树种")
    assert {r[species] for r in records} == {"油松", "樟子松", "山杏", "柠条"}


# -- GeoPackage -------------------------------------------------------------------------------


def test_gpkg_layer_and_values(loaded: Engine, tmp_path: Path) -> None:
    out = export_layer(loaded, "forest_parcels", "gpkg", tmp_path / "forest.gpkg")
    assert [name for name, _ in pyogrio.list_layers(out)] == ["forest_parcels"]
    info = pyogrio.read_info(out)
    assert info["crs"] == "EPSG:4490"
    back = pyogrio.read_dataframe(out)
    assert set(back["forest_category"]) == {"public_welfare", "commercial"}
    assert set(back["lin_ban"]) == {"012", "013"}
    stored = rows(loaded, "forest_parcels")
    for _, rec in back.iterrows():
        row = stored[(rec["county_code"], rec["lin_ban"], rec["xiao_ban"])]
        assert rec["owner"] == row["owner"]
        assert_close(rec["area_m2"], row["area_m2"], 1e-12, "area_m2")
        assert rec["area_mu"] == pytest.approx(row["area_m2"] / M2_PER_MU, abs=1e-4)
