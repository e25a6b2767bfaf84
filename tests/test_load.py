"""Tests for gis.layers.load: real files written with pyogrio, loaded into the real PostGIS.

Areas are checked against :func:`gis.units.geodesic_area` of the *source* polygon (pyproj's
GeographicLib integral in Python, independent of the database's ``ST_Area``), and positions
against a pyproj transform of the source coordinates. Every refused input is checked to leave
the target table exactly as it was (row count and an md5 over every row) and to add no audit
row to ``layer_loads``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from sqlalchemy import Engine, text
from typer.testing import CliRunner

import gis.cli
from gis.errors import (
    CoordinatesOutOfRange,
    CRSMismatch,
    DuplicateKey,
    EmptySource,
    EncodingError,
    FieldMappingError,
    InputError,
    InvalidGeometry,
    MissingCRS,
    UnknownLayer,
    UnsupportedFormat,
    WrongGeometryType,
)
from gis.gcj02 import wgs84_to_gcj02_geometry
from gis.layers.catalogue import get_layer
from gis.layers.load import LoadOptions, LoadSummary, load_file
from gis.testing import assert_close, table_state
from gis.units import geodesic_area
from tests.factories import (
    COUNTY_CODE,
    bowtie,
    bowtie_repaired_area_m2,
    cultivated_frame,
    forest_frame,
    lonlat_geoms,
    redline_frame,
    survey_frame,
    write,
)

AREA_REL = 1e-4  # 0.01 %

SURVEY_COLUMNS = {
    "TBBH": "patch_no", "DLBM": "land_use_code", "DLMC": "land_use_name",
    "QSDWDM": "owner_unit_code", "QSDWMC": "owner_unit_name", "TBMJ": "patch_area_m2",
    "XZQDM": "county_code",
}


# -- helpers ----------------------------------------------------------------------------------


def load(engine: Engine, path: Path, layer: str = "survey_patches", **options) -> LoadSummary:
    return load_file(engine, path, layer, LoadOptions(**options))


def rows(engine: Engine, layer_id: str) -> list[dict]:
    """Every row of a layer (fields, area_m2, updated_at, shapely geom), by natural key."""
    layer = get_layer(layer_id)
    cols = ", ".join(f'"{c}"' for c in [*layer.field_names, "area_m2", "updated_at"])
    order = ", ".join(f'"{c}"' for c in layer.natural_key)
    with engine.connect() as conn:
        result = conn.execute(text(
            f"SELECT {cols}, ST_AsBinary(geom) AS wkb, ST_SRID(geom) AS srid, "
            f"ST_IsValid(geom) AS valid, GeometryType(geom) AS gtype "
            f"FROM {layer.table} ORDER BY {order}"
        ))
        out = [dict(r._mapping) for r in result]
    for r in out:
        r["geom"] = shapely.from_wkb(bytes(r.pop("wkb")))
    return out


def load_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM layer_loads")).scalar_one()


def assert_survey_rows(stored: list[dict], frame) -> None:
    """Stored survey rows equal the source frame (lon/lat, EPSG:4490 or CRS84) exactly."""
    assert len(stored) == len(frame)
    by_no = {r["patch_no"]: r for r in stored}
    for _, src in frame.iterrows():
        row = by_no[src["TBBH"]]
        for column, field in SURVEY_COLUMNS.items():
            assert row[field] == src[column], (field, row[field], src[column])
        assert row["srid"] == 4490
        assert row["gtype"] == "MULTIPOLYGON"
        assert_close(row["area_m2"], geodesic_area(src.geometry).m2, AREA_REL, "area_m2")


def max_coord_diff(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """Largest vertex difference between two geometries with the same vertex sequence."""
    ca = shapely.get_coordinates(shapely.normalize(a))
    cb = shapely.get_coordinates(shapely.normalize(b))
    assert ca.shape == cb.shape
    return float(np.abs(ca - cb).max())


@pytest.fixture
def db(clean_db: Engine) -> Engine:
    return clean_db


# -- round trips of each format ---------------------------------------------------------------


@pytest.mark.parametrize("ext", ["gpkg", "shp", "geojson", "gdb"])
def test_round_trip_each_format(db: Engine, tmp_path: Path, ext: str) -> None:
    frame = survey_frame(5)
    path = write(frame, tmp_path / f"patches.{ext}")
    if ext == "shp":
        assert (tmp_path / "patches.cpg").read_text().strip().upper() == "UTF-8"

    summary = load(db, path)

    assert (summary.features, summary.inserted, summary.updated, summary.unchanged) == (5, 5, 0, 0)
    assert summary.source_crs == "EPSG:4490"
    assert summary.repaired == 0
    assert {summary.field_map[v]: v for v in SURVEY_COLUMNS.values()} == {
        k: v for k, v in SURVEY_COLUMNS.items()}
    stored = rows(db, "survey_patches")
    assert_survey_rows(stored, frame)
    assert {r["owner_unit_name"] for r in stored} >= {"星海镇星光村", "长胜街道龙泉村"}
    assert {r["land_use_name"] for r in stored} >= {"乔木林地", "天然牧草地", "水浇地"}
    for row, src in zip(stored, frame.geometry, strict=True):
        assert max_coord_diff(row["geom"], src) < 1e-9
    assert load_count(db) == 1


# -- encodings --------------------------------------------------------------------------------


def _gbk_shapefile(tmp_path: Path, cpg: bool) -> tuple[Path, object]:
    frame = survey_frame(5)
    path = write(frame, tmp_path / "gbk.shp", encoding="GBK")
    cpg_path = tmp_path / "gbk.cpg"
    assert cpg_path.read_text().strip() == "GBK"
    raw = (tmp_path / "gbk.dbf").read_bytes()
    assert "星海镇星光村".encode("gbk") in raw  # really GBK bytes on disk
    assert "星海镇星光村".encode() not in raw
    if not cpg:
        cpg_path.unlink()
    return path, frame


def test_gbk_shapefile_with_cpg(db: Engine, tmp_path: Path) -> None:
    path, frame = _gbk_shapefile(tmp_path, cpg=True)
    summary = load(db, path)
    assert summary.inserted == 5
    assert_survey_rows(rows(db, "survey_patches"), frame)


def test_gbk_shapefile_without_cpg_is_detected(db: Engine, tmp_path: Path) -> None:
    path, frame = _gbk_shapefile(tmp_path, cpg=False)
    summary = load(db, path)
    assert summary.encoding == "gb18030"
    assert summary.inserted == 5
    assert_survey_rows(rows(db, "survey_patches"), frame)


def test_utf8_shapefile_without_cpg_is_detected(db: Engine, tmp_path: Path) -> None:
    frame = survey_frame(3)
    path = write(frame, tmp_path / "utf8.shp")
    (tmp_path / "utf8.cpg").unlink()
    summary = load(db, path)
    assert summary.encoding == "utf-8"
    assert_survey_rows(rows(db, "survey_patches"), frame)


def test_gbk_shapefile_with_explicit_encoding(db: Engine, tmp_path: Path) -> None:
    path, frame = _gbk_shapefile(tmp_path, cpg=False)
    summary = load(db, path, encoding="GBK")
    assert summary.encoding == "GBK"
    assert_survey_rows(rows(db, "survey_patches"), frame)


def test_gbk_cpg_encoding_is_reported(db: Engine, tmp_path: Path) -> None:
    path, _ = _gbk_shapefile(tmp_path, cpg=True)
    summary = load(db, path)
    assert_survey_rows(rows(db, "survey_patches"), survey_frame(5))  # the values are right
    assert summary.encoding.upper() in {"GBK", "CP936", "GB18030"}


def test_wrong_explicit_encoding_is_refused(db: Engine, tmp_path: Path) -> None:
    write(survey_frame(2, start=10), tmp_path / "base.gpkg")
    load(db, tmp_path / "base.gpkg")
    before, audits = table_state(db, "survey_patches"), load_count(db)
    path, _ = _gbk_shapefile(tmp_path, cpg=False)

    with pytest.raises(EncodingError, match="UTF-8"):
        load(db, path, encoding="UTF-8")

    assert table_state(db, "survey_patches") == before
    assert load_count(db) == audits


# -- refused inputs leave the table unchanged -------------------------------------------------

Builder = Callable[[Path], tuple[Path, str, dict]]


def _gpkg(frame, d: Path, name: str = "bad.gpkg", **kw) -> Path:
    return write(frame, d / name, **kw)


def _unknown_layer(d: Path):
    return _gpkg(survey_frame(3), d), "survey_patchez", {}


def _empty_file(d: Path):
    return _gpkg(survey_frame(3).iloc[:0], d, geometry_type="Polygon"), "survey_patches", {}


def _shp_without_prj(d: Path):
    path = write(survey_frame(3, crs=4543), d / "noprj.shp")
    (d / "noprj.prj").unlink()
    return path, "survey_patches", {}


def _crs_contradicts_file(d: Path):
    return _gpkg(survey_frame(3), d), "survey_patches", {"crs": "EPSG:4543"}


def _points(d: Path):
    frame = survey_frame(3)
    frame = frame.set_geometry(shapely.centroid(frame.geometry.to_numpy()), crs=4490)
    return _gpkg(frame, d), "survey_patches", {}


def _lines(d: Path):
    frame = survey_frame(3)
    frame = frame.set_geometry(frame.geometry.boundary)
    return _gpkg(frame, d), "survey_patches", {}


def _metres_as_4490(d: Path):
    frame = survey_frame(3, crs=4543).set_crs(4490, allow_override=True)
    return _gpkg(frame, d), "survey_patches", {}


def _outside_china(d: Path):
    frame = survey_frame(3, crs=4326)  # moved to Paris, correctly labelled as WGS84
    frame = frame.set_geometry(frame.geometry.translate(2.35 - 106.3, 48.85 - 39.0))
    return _gpkg(frame, d), "survey_patches", {}


def _null_geometry(d: Path):
    frame = survey_frame(3)
    frame.loc[1, "geometry"] = None
    return _gpkg(frame, d), "survey_patches", {}


def _empty_geometry(d: Path):
    frame = survey_frame(3)
    frame.loc[1, "geometry"] = shapely.Polygon()
    return _gpkg(frame, d), "survey_patches", {}


def _bowtie_strict(d: Path):
    frame = survey_frame(3)
    frame.loc[2, "geometry"] = bowtie(2)
    return _gpkg(frame, d), "survey_patches", {"strict": True}


def _duplicate_key(d: Path):
    frame = survey_frame(3)
    frame.loc[2, "TBBH"] = frame.loc[0, "TBBH"]
    return _gpkg(frame, d), "survey_patches", {}


def _missing_required(d: Path):
    return _gpkg(survey_frame(3).drop(columns="DLBM"), d), "survey_patches", {}


def _bad_coded_value(d: Path):
    frame = redline_frame(3)
    frame.loc[1, "GKFQ"] = "xyz"
    return _gpkg(frame, d), "eco_redline", {}


def _text_in_int_field(d: Path):
    frame = cultivated_frame(3)
    frame["ZLDB"] = frame["ZLDB"].astype(object)
    frame.loc[1, "ZLDB"] = "三等"
    return _gpkg(frame, d), "cultivated_land", {}


def _unsupported_extension(d: Path):
    path = d / "patches.kml"
    write(survey_frame(3), path, driver="KML")
    return path, "survey_patches", {}


def _nonexistent(d: Path):
    return d / "missing.gpkg", "survey_patches", {}


def _baseline(layer_id: str) -> tuple[str, object]:
    """A good file for the layer (other patch numbers than the bad files) to load first."""
    if layer_id == "eco_redline":
        return layer_id, redline_frame(2, start=8)
    if layer_id == "cultivated_land":
        return layer_id, cultivated_frame(2, start=8)
    return "survey_patches", survey_frame(2, start=8)


BAD_INPUTS = [
    pytest.param(_unknown_layer, UnknownLayer, "survey_patchez", id="unknown-layer"),
    pytest.param(_empty_file, EmptySource, "no features", id="empty-file"),
    pytest.param(_shp_without_prj, MissingCRS, "no CRS", id="shp-without-prj"),
    pytest.param(_crs_contradicts_file, CRSMismatch, "EPSG:4543", id="crs-contradicts-file"),
    pytest.param(_points, WrongGeometryType, "POINT", id="points"),
    pytest.param(_lines, WrongGeometryType, "LINESTRING", id="lines"),
    pytest.param(_metres_as_4490, CoordinatesOutOfRange, "projected", id="metres-as-4490"),
    pytest.param(_outside_china, CoordinatesOutOfRange, "outside the service extent",
                 id="outside-china"),
    pytest.param(_null_geometry, InvalidGeometry, r"rows: \[2\]", id="null-geometry"),
    pytest.param(_empty_geometry, InvalidGeometry, r"rows: \[2\]", id="empty-geometry"),
    pytest.param(_bowtie_strict, InvalidGeometry, "row 3", id="bowtie-strict"),
    pytest.param(_duplicate_key, DuplicateKey, r"rows \[1, 3\]", id="duplicate-key"),
    pytest.param(_missing_required, FieldMappingError, "land_use_code", id="missing-required"),
    pytest.param(_bad_coded_value, FieldMappingError, "xyz", id="bad-coded-value"),
    pytest.param(_text_in_int_field, FieldMappingError, "quality_grade", id="text-in-int"),
    pytest.param(_unsupported_extension, UnsupportedFormat, ".kml", id="unsupported-format"),
    pytest.param(_nonexistent, InputError, "does not exist", id="nonexistent-path"),
]


@pytest.mark.parametrize(("build", "error", "match"), BAD_INPUTS)
def test_bad_input_leaves_table_unchanged(
    db: Engine, tmp_path: Path, build: Builder, error: type[Exception], match: str
) -> None:
    path, layer_id, options = build(tmp_path)
    target, good = _baseline(layer_id)
    assert load(db, write(good, tmp_path / "good.gpkg"), target).inserted == 2
    before, audits = table_state(db, target), load_count(db)
    assert before.count == 2

    with pytest.raises(error, match=match):
        load(db, path, layer_id, **options)

    assert table_state(db, target) == before
    assert load_count(db) == audits


def test_integer_out_of_range_is_refused_before_the_database(db: Engine,
                                                            tmp_path: Path) -> None:
    """10**12 does not fit PostgreSQL ``integer``; binary COPY would wrap it silently, so the
    field map refuses it, naming the row."""
    load(db, write(cultivated_frame(2, start=8), tmp_path / "good.gpkg"), "cultivated_land")
    before, audits = table_state(db, "cultivated_land"), load_count(db)
    frame = cultivated_frame(3)
    frame["ZLDB"] = frame["ZLDB"].astype("int64")
    frame.loc[1, "ZLDB"] = 10**12
    path = write(frame, tmp_path / "big.gpkg")

    with pytest.raises(FieldMappingError, match=r"outside .* rows \[2\]"):
        load(db, path, "cultivated_land")

    assert table_state(db, "cultivated_land") == before
    assert load_count(db) == audits


@pytest.mark.parametrize("preloaded", [False, True], ids=["bulk-path", "upsert-path"])
def test_failure_inside_the_database_rolls_back(db: Engine, tmp_path: Path,
                                                preloaded: bool) -> None:
    """An error raised by PostgreSQL itself, after rows were copied, leaves the table (and its
    spatial index) as before: a real trigger refuses one row of the file."""
    if preloaded:
        load(db, write(cultivated_frame(2, start=8), tmp_path / "good.gpkg"), "cultivated_land")
    before, audits = table_state(db, "cultivated_land"), load_count(db)
    with db.begin() as conn:
        conn.execute(text(
            "CREATE FUNCTION refuse_grade_13() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.quality_grade = 13 THEN RAISE EXCEPTION 'grade 13 refused'; END IF; "
            "RETURN NEW; END $$"))
        conn.execute(text("CREATE TRIGGER refuse_13 BEFORE INSERT ON cultivated_land "
                          "FOR EACH ROW EXECUTE FUNCTION refuse_grade_13()"))
    try:
        frame = cultivated_frame(3)
        frame["ZLDB"] = [5, 13, 7]
        with pytest.raises(Exception, match="grade 13 refused"):
            load(db, write(frame, tmp_path / "bad.gpkg"), "cultivated_land")
    finally:
        with db.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_13 ON cultivated_land"))
            conn.execute(text("DROP FUNCTION refuse_grade_13()"))
    assert table_state(db, "cultivated_land") == before
    assert load_count(db) == audits
    with db.connect() as conn:
        index = conn.execute(text("SELECT to_regclass('cultivated_land_geom_gist')")).scalar()
    assert index == "cultivated_land_geom_gist"


# -- repair -----------------------------------------------------------------------------------


def test_bowtie_is_repaired_without_strict(db: Engine, tmp_path: Path) -> None:
    frame = survey_frame(4)
    frame.loc[2, "geometry"] = bowtie(2)
    assert not frame.geometry[2].is_valid
    summary = load(db, write(frame, tmp_path / "bowtie.gpkg"))

    assert summary.repaired == 1
    assert summary.repaired_rows == [3]
    assert summary.inserted == 4
    stored = {r["patch_no"]: r for r in rows(db, "survey_patches")}
    fixed = stored["0003"]
    assert fixed["valid"] is True
    assert fixed["gtype"] == "MULTIPOLYGON"
    assert len(fixed["geom"].geoms) == 2  # the two triangles of the bow-tie
    assert_close(fixed["area_m2"], bowtie_repaired_area_m2(2), AREA_REL, "repaired area")
    assert fixed["area_m2"] < geodesic_area(lonlat_geoms(1, start=2)[0]).m2 / 2 * 1.001
    assert all(r["valid"] for r in stored.values())


# -- re-loading -------------------------------------------------------------------------------


def test_reload_is_idempotent_and_updates_only_changes(db: Engine, tmp_path: Path) -> None:
    frame = survey_frame(6)
    path = write(frame, tmp_path / "patches.gpkg")
    first = load(db, path)
    assert (first.inserted, first.updated, first.unchanged) == (6, 0, 0)
    state = table_state(db, "survey_patches")
    before = {r["patch_no"]: r for r in rows(db, "survey_patches")}

    second = load(db, path)
    assert (second.inserted, second.updated, second.unchanged, second.deleted) == (0, 0, 6, 0)
    assert table_state(db, "survey_patches") == state

    changed = frame.copy()
    changed.loc[3, "DLMC"] = "有林地"
    third = load(db, write(changed, tmp_path / "changed.gpkg"))
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 5)
    after = {r["patch_no"]: r for r in rows(db, "survey_patches")}
    assert after["0004"]["land_use_name"] == "有林地"
    assert after["0004"]["updated_at"] > before["0004"]["updated_at"]
    for no in set(after) - {"0004"}:
        assert after[no] == before[no]


def test_replace_deletes_features_missing_from_file(db: Engine, tmp_path: Path) -> None:
    frame = survey_frame(5)
    load(db, write(frame, tmp_path / "all.gpkg"))
    before = {r["patch_no"]: r for r in rows(db, "survey_patches")}

    summary = load(db, write(frame.drop(index=1), tmp_path / "fewer.gpkg"), replace=True)

    assert (summary.inserted, summary.updated, summary.unchanged, summary.deleted) == (0, 0, 4, 1)
    after = {r["patch_no"]: r for r in rows(db, "survey_patches")}
    assert set(after) == set(before) - {"0002"}
    assert all(after[k] == before[k] for k in after)


def test_without_replace_nothing_is_deleted(db: Engine, tmp_path: Path) -> None:
    frame = survey_frame(5)
    load(db, write(frame, tmp_path / "all.gpkg"))
    summary = load(db, write(frame.drop(index=1), tmp_path / "fewer.gpkg"))
    assert summary.deleted == 0
    assert table_state(db, "survey_patches").count == 5


# -- CRS and GCJ-02 ---------------------------------------------------------------------------


# EPSG:4543 is CGCS2000 3-degree Gauss-Kruger CM *102E*; EPSG:4544 (CM 105E, 103.5-106.5E) is
# the zone Dawukou really lies in. Both are projected and must land at the same place.
@pytest.mark.parametrize(("epsg", "ext"), [(4543, "gpkg"), (4544, "shp"), (4544, "gpkg"),
                                           (4326, "geojson")])
def test_source_crs_is_transformed_to_4490(db: Engine, tmp_path: Path, epsg: int, ext: str
                                           ) -> None:
    frame = survey_frame(4, crs=epsg)
    path = write(frame, tmp_path / f"src.{ext}")
    summary = load(db, path)

    assert summary.source_crs == f"EPSG:{epsg}"
    transformer = pyproj.Transformer.from_crs(epsg, 4490, always_xy=True)
    originals = lonlat_geoms(4)
    for row, src, original in zip(rows(db, "survey_patches"), frame.geometry, originals,
                                  strict=True):
        expected = shapely.transform(
            src, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
        assert max_coord_diff(row["geom"], expected) < 1e-7
        assert max_coord_diff(row["geom"], original) < 1e-7
        assert_close(row["area_m2"], geodesic_area(original).m2, AREA_REL, "area_m2")
    if epsg != 4326:  # really projected metres in the file, east of the central meridian
        x0 = shapely.get_coordinates(frame.geometry[0])[:, 0].min()
        assert 500_000 < x0 < 1_000_000


def test_crs_option_fills_in_missing_prj(db: Engine, tmp_path: Path) -> None:
    path = write(survey_frame(3, crs=4543), tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    summary = load(db, path, crs="EPSG:4543")
    assert summary.source_crs == "EPSG:4543"
    for row, original in zip(rows(db, "survey_patches"), lonlat_geoms(3), strict=True):
        assert max_coord_diff(row["geom"], original) < 1e-7


def test_gcj02_source_is_moved_back_to_wgs84(db: Engine, tmp_path: Path) -> None:
    frame = survey_frame(4, crs=4326)
    originals = list(frame.geometry)
    shifted = frame.set_geometry(frame.geometry.map(wgs84_to_gcj02_geometry), crs=4326)
    # the offset is a few hundred metres: far more than the tolerance below
    assert max_coord_diff(shifted.geometry[0], originals[0]) > 1e-3
    summary = load(db, write(shifted, tmp_path / "amap.geojson"), from_gcj02=True)

    assert summary.source_crs == "GCJ-02"
    for row, original in zip(rows(db, "survey_patches"), originals, strict=True):
        assert max_coord_diff(row["geom"], original) < 1e-6


def test_gcj02_with_projected_source_is_refused(db: Engine, tmp_path: Path) -> None:
    load(db, write(survey_frame(2, start=8), tmp_path / "good.gpkg"))
    before = table_state(db, "survey_patches")
    path = write(survey_frame(3, crs=4543), tmp_path / "gk.gpkg")
    with pytest.raises(CRSMismatch, match="projected"):
        load(db, path, from_gcj02=True)
    assert table_state(db, "survey_patches") == before


# -- field maps -------------------------------------------------------------------------------


def test_custom_field_map(db: Engine, tmp_path: Path) -> None:
    frame = survey_frame(3).rename(
        columns={"TBBH": "MY_TBBH", "DLBM": "MY_DLBM", "DLMC": "地类名称说明", "XZQDM": "XIAN_DM"})
    frame["BZ"] = "备注"
    field_map = {"MY_TBBH": "patch_no", "MY_DLBM": "land_use_code",
                 "地类名称说明": "land_use_name", "XIAN_DM": "county_code"}
    summary = load(db, write(frame, tmp_path / "custom.gpkg"), field_map=field_map)

    assert summary.inserted == 3
    assert summary.field_map["patch_no"] == "MY_TBBH"
    assert summary.field_map["land_use_name"] == "地类名称说明"
    assert summary.ignored_fields == ["BZ"]
    stored = rows(db, "survey_patches")
    assert [r["patch_no"] for r in stored] == ["0001", "0002", "0003"]
    assert [r["land_use_code"] for r in stored] == ["0301", "0401", "0102"]
    assert [r["land_use_name"] for r in stored] == ["乔木林地", "天然牧草地", "水浇地"]
    assert {r["county_code"] for r in stored} == {COUNTY_CODE}


def test_field_map_with_unknown_target_is_refused(db: Engine, tmp_path: Path) -> None:
    frame = survey_frame(3).rename(columns={"TBBH": "MY_TBBH"})
    with pytest.raises(FieldMappingError, match="patch_number"):
        load(db, write(frame, tmp_path / "custom.gpkg"), field_map={"MY_TBBH": "patch_number"})
    assert table_state(db, "survey_patches").count == 0


def test_constants_fill_a_column(db: Engine, tmp_path: Path) -> None:
    frame = survey_frame(3).drop(columns="XZQDM")
    summary = load(db, write(frame, tmp_path / "nocounty.gpkg"),
                   constants={"county_code": "640202"})
    assert summary.field_map["county_code"] == "=640202"
    assert [r["county_code"] for r in rows(db, "survey_patches")] == ["640202"] * 3


def test_missing_county_without_constant_is_refused(db: Engine, tmp_path: Path) -> None:
    frame = survey_frame(3).drop(columns="XZQDM")
    with pytest.raises(FieldMappingError, match="county_code"):
        load(db, write(frame, tmp_path / "nocounty.gpkg"))


def test_chinese_source_field_names(db: Engine, tmp_path: Path) -> None:
    frame = forest_frame(5, chinese_names=True)
    summary = load(db, write(frame, tmp_path / "林地小班.gpkg"), "forest_parcels")

    assert summary.inserted == 5
    assert summary.field_map["lin_ban"] == "林班"
    assert summary.field_map["xiao_ban"] == "小班"
    assert summary.field_map["land_class"] == "地类"
    assert summary.ignored_fields == []
    stored = rows(db, "forest_parcels")
    keys = [(r["county_code"], r["lin_ban"], r["xiao_ban"]) for r in stored]
    assert keys == list(zip(frame["XZQDM"], frame["林班"], frame["小班"], strict=True))
    by_key = {(r["lin_ban"], r["xiao_ban"]): r for r in stored}
    for _, src in frame.iterrows():
        row = by_key[(src["林班"], src["小班"])]
        assert row["land_class"] == src["地类"]
        assert row["dominant_species"] == src["优势树种"]
        assert row["owner"] == src["权利人"]
        assert row["certificate_no"] == src["林权证号"]
        assert row["stand_age"] == src["林龄"]
        assert row["certificate_area_mu"] == src["证书面积"]
        category = {"公益林": "public_welfare", "商品林": "commercial"}[src["森林类别"]]
        assert row["forest_category"] == category
        level = {"国家级": "national", "地方级": "local"}.get(src["事权等级"])
        assert row["public_welfare_level"] == level
        assert_close(row["area_m2"], geodesic_area(src.geometry).m2, AREA_REL, "area_m2")


# -- CLI --------------------------------------------------------------------------------------


def test_cli_load_json(db: Engine, tmp_path: Path, settings) -> None:
    path = write(survey_frame(4), tmp_path / "patches.gpkg")
    args = ["load", str(path), "--layer", "survey_patches", "--json"]
    result = CliRunner().invoke(gis.cli.app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["layer"] == "survey_patches"
    assert (data["features"], data["inserted"], data["updated"], data["unchanged"]) == (4, 4, 0, 0)
    assert data["source_crs"] == "EPSG:4490"
    assert table_state(db, "survey_patches").count == 4

    again = json.loads(CliRunner().invoke(gis.cli.app, args).stdout)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 4)


def test_cli_main_failing_load_exits_2(db: Engine, tmp_path: Path, settings, monkeypatch,
                                       capsys) -> None:
    monkeypatch.setenv("GIS_LANG", "en")  # the English texts below; Chinese is tested apart
    load(db, write(survey_frame(2, start=8), tmp_path / "good.gpkg"))
    before = table_state(db, "survey_patches")
    frame = survey_frame(3)
    frame.loc[2, "TBBH"] = frame.loc[0, "TBBH"]
    path = write(frame, tmp_path / "dup.gpkg")
    monkeypatch.setattr(sys, "argv", ["gis", "load", str(path), "--layer", "survey_patches"])

    with pytest.raises(SystemExit) as info:
        gis.cli.main()

    assert info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "Duplicate natural key" in err
    assert "repeats within the file" in err
    assert table_state(db, "survey_patches") == before




@pytest.mark.parametrize("folder", ["[draft]", "[/old]"])
def test_cli_main_error_message_is_not_rich_markup(db: Engine, tmp_path: Path, monkeypatch,
                                                   capsys, folder: str) -> None:
    path = tmp_path / "missing" / folder / "patches.gpkg"  # does not exist: InputError
    monkeypatch.setenv("GIS_LANG", "en")
    monkeypatch.setattr(sys, "argv", ["gis", "load", str(path), "--layer", "survey_patches"])

    with pytest.raises(SystemExit) as info:
        gis.cli.main()

    assert info.value.code == 2
    err = "".join(capsys.readouterr().err.split())
    assert f"{folder}/patches.gpkgdoesnotexist" in err
