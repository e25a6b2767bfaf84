"""The survey's official areas (图斑地类面积 TBDLMJ): mapped on load (GeoPackage, GBK
Shapefile, FileGDB), checked (TBDLMJ = TBMJ - KCMJ), and used by every survey statistic:
the land-class totals and the cultivated-land indicator equal an independent sum of the
samples' TBDLMJ and differ from the polygon sum by the deducted area; a footprint over part
of a patch takes its official area pro rata."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping
from sqlalchemy import text

from api.app import create_app
from gis.analysis.control_lines import indicators
from gis.analysis.siting import check
from gis.analysis.survey_areas import land_class_totals
from gis.errors import FieldMappingError
from gis.layers.load import LoadOptions, load_file
from gis.samples import SAMPLES_GPKG
from gis.testing import table_state
from gis.units import M2_PER_MU, geodesic_area
from tests.test_cli_usage import run_gis
from tests.test_samples import SAMPLES

GPKG = SAMPLES / SAMPLES_GPKG


@pytest.fixture(scope="module")
def patches() -> gpd.GeoDataFrame:
    """The samples' survey patches read straight from the GeoPackage (the independent side)."""
    return pyogrio.read_dataframe(GPKG, layer="survey_patches")


@pytest.fixture
def survey_db(clean_db, settings):
    for layer in ("admin_divisions", "survey_patches", "cultivated_land"):
        load_file(clean_db, GPKG, layer, LoadOptions(source_layer=layer, strict=True),
                  extent=settings.data.extent)
    return clean_db


def test_samples_carry_realistic_deductions(patches) -> None:
    cultivated = patches[patches["land_use_code"].str.startswith("01")]
    assert (cultivated["deducted_class_code"] == "1203").all()  # 田坎
    assert (cultivated["deduction_coefficient"] > 0).all()
    others = patches[~patches["land_use_code"].str.startswith("01")]
    assert (others["deducted_area_m2"] == 0).all()
    assert np.allclose(patches["official_area_m2"],
                       patches["patch_area_m2"] - patches["deducted_area_m2"], atol=0.011)


def test_class_totals_are_the_sum_of_tbdlmj(survey_db, patches) -> None:
    for county in ("640202", "640104"):
        mine = patches[patches["county_code"] == county]
        totals = {t.code: t for t in land_class_totals(survey_db, county)}
        expected = mine.groupby(mine["land_use_code"].str[:2])
        assert set(totals) == set(expected.groups)
        for code, group in expected:
            t = totals[code]
            assert t.basis == "official" and t.patches == len(group)
            assert t.area_m2 == pytest.approx(group["official_area_m2"].sum(), abs=0.02)
            polygon = sum(geodesic_area(g).m2 for g in group.geometry)
            assert t.polygon_m2 == pytest.approx(polygon, rel=1e-6)
            # the polygon sum overstates by the deducted area (terraces), within rounding
            assert t.polygon_m2 - t.area_m2 == pytest.approx(group["deducted_area_m2"].sum(),
                                                             abs=0.01 * len(group) + 1.0)
        assert totals["01"].deducted_m2 > 0


def test_cultivated_indicator_uses_official_areas(survey_db, patches) -> None:
    found = {i.id: i for i in indicators(survey_db, "640202")}
    mine = patches[(patches["county_code"] == "640202")
                   & patches["land_use_code"].str.startswith("01")]
    official = mine["official_area_m2"].sum()
    assert found["cultivated_land"].value == pytest.approx(official / M2_PER_MU, abs=1e-4)
    assert "TBDLMJ" in found["cultivated_land"].note_en
    polygon = sum(geodesic_area(g).m2 for g in mine.geometry) / M2_PER_MU
    assert polygon - found["cultivated_land"].value > 10  # terraces no longer counted


def test_farmland_indicator_uses_its_patches_official_areas(survey_db, patches,
                                                           settings) -> None:
    load_file(survey_db, GPKG, "basic_farmland",
              LoadOptions(source_layer="basic_farmland", strict=True),
              extent=settings.data.extent)
    farm = pyogrio.read_dataframe(GPKG, layer="basic_farmland")
    farm = farm[farm["county_code"] == "640202"]
    keyed = patches.set_index(["county_code", "patch_no"])
    expected = polygon = 0.0
    for _, parcel in farm.iterrows():
        patch = keyed.loc[(parcel["county_code"], parcel["survey_patch_no"])]
        share = geodesic_area(parcel.geometry).m2 / geodesic_area(patch.geometry).m2
        expected += patch["official_area_m2"] * min(share, 1.0)
        polygon += geodesic_area(parcel.geometry).m2
    found = {i.id: i for i in indicators(survey_db, "640202")}["basic_farmland"]
    assert found.value == pytest.approx(expected / M2_PER_MU, abs=1e-3)
    assert "TBDLMJ" in found.note_en and found.value < polygon / M2_PER_MU


def test_footprint_over_part_of_a_patch_counts_pro_rata(survey_db, patches) -> None:
    row = patches[patches["land_use_code"].str.startswith("01")].sort_values(
        "deduction_coefficient").iloc[-1]
    geom = row.geometry
    x0, y0, x1, y1 = geom.bounds
    half = box(x0 - 0.001, y0 - 0.001, (x0 + x1) / 2, y1 + 0.001)
    piece = geom.intersection(half)
    others = patches[patches.intersects(half) & (patches["patch_no"] != row["patch_no"])
                     & (patches["county_code"] == row["county_code"])]
    result = check(survey_db, mapping(half), "LA1", False, profile="ningxia")
    survey = result.land_survey
    assert survey is not None and survey.pro_rata
    share = geodesic_area(piece).m2 / geodesic_area(geom).m2
    expected = row["official_area_m2"] * share
    for _, other in others[others["land_use_code"].str.startswith("01")].iterrows():
        cut = other.geometry.intersection(half)
        expected += other["official_area_m2"] * geodesic_area(cut).m2 / geodesic_area(
            other.geometry).m2
    assert survey.cultivated_m2 == pytest.approx(expected, rel=1e-5)
    assert survey.cultivated_share == pytest.approx(
        expected / geodesic_area(half).m2, rel=1e-4)
    assert "pro rata" in survey.note_en


def _survey_frame(n: int = 3) -> gpd.GeoDataFrame:
    tbmj = [geodesic_area(box(106.3 + i * 0.01, 39.0, 106.305 + i * 0.01, 39.005)).m2
            for i in range(n)]
    kcxs = [0.0, 0.053, 0.098][:n]
    kcmj = [round(a * k, 2) for a, k in zip(tbmj, kcxs, strict=True)]
    return gpd.GeoDataFrame({
        "XZQDM": "640202", "TBBH": [f"{i + 1:04d}" for i in range(n)],
        "DLBM": ["0102", "0103", "0103"][:n], "DLMC": ["水浇地", "旱地", "旱地"][:n],
        "QSDWMC": "星海镇星光村", "TBMJ": [round(a, 2) for a in tbmj],
        "KCDLBM": [None, "1203", "1203"][:n], "KCXS": kcxs, "KCMJ": kcmj,
        "TBDLMJ": [round(round(a, 2) - k, 2) for a, k in zip(tbmj, kcmj, strict=True)],
    }, geometry=[box(106.3 + i * 0.01, 39.0, 106.305 + i * 0.01, 39.005) for i in range(n)],
        crs="EPSG:4490")


@pytest.mark.parametrize("driver", ["ESRI Shapefile", "OpenFileGDB"])
def test_survey_fields_map_from_gbk_shapefile_and_filegdb(clean_db, tmp_path, driver) -> None:
    frame = _survey_frame()
    if driver == "ESRI Shapefile":
        path = tmp_path / "三调图斑.shp"
        frame.to_file(path, driver=driver, encoding="GBK")
        path.with_suffix(".cpg").unlink(missing_ok=True)  # as delivered: GBK, no .cpg
    else:
        path = tmp_path / "三调.gdb"
        pyogrio.write_dataframe(frame, path, layer="DLTB", driver=driver)
    summary = load_file(clean_db, path, "survey_patches")
    assert {"KCDLBM", "KCXS", "KCMJ", "TBDLMJ"} <= set(summary.field_map.values())
    with clean_db.connect() as conn:
        rows = conn.execute(text(
            "SELECT patch_no, deducted_class_code, deduction_coefficient, deducted_area_m2, "
            "official_area_m2, owner_unit_name FROM survey_patches ORDER BY patch_no")).all()
    assert [r[1] for r in rows] == [None, "1203", "1203"]
    assert [r[4] for r in rows] == pytest.approx(list(frame["TBDLMJ"]))
    assert rows[0][5] == "星海镇星光村"


def test_official_areas_that_do_not_add_up_are_refused(clean_db, tmp_path) -> None:
    good = _survey_frame(2)
    load_file(clean_db, _write(good, tmp_path / "good.gpkg"), "survey_patches")
    before = table_state(clean_db, "survey_patches")
    bad = _survey_frame()
    bad.loc[2, "TBDLMJ"] = bad.loc[2, "TBDLMJ"] + 5.0
    with pytest.raises(FieldMappingError, match=r"rows \[3\]"):
        load_file(clean_db, _write(bad, tmp_path / "bad.gpkg"), "survey_patches")
    bad = _survey_frame()
    bad.loc[1, "KCXS"] = 1.2
    with pytest.raises(FieldMappingError, match="KCXS"):
        load_file(clean_db, _write(bad, tmp_path / "bad2.gpkg"), "survey_patches")
    assert table_state(clean_db, "survey_patches") == before
    out = run_gis("load", str(tmp_path / "bad.gpkg"), "--layer", "survey_patches")
    assert out.returncode == 2 and "TBDLMJ" in out.stderr


def _write(frame: gpd.GeoDataFrame, path):
    frame.to_file(path)
    return path


def test_land_classes_api_and_cli(survey_db, settings, role_keys, patches) -> None:
    with TestClient(create_app(settings), headers=role_keys["planner"]) as client:
        body = client.get("/api/v1/land-classes/640202").json()
        assert client.get("/api/v1/land-classes/640202", headers={"X-API-Key": ""}
                          ).status_code in (401, 403)  # survey data: planner role
        assert client.get("/api/v1/land-classes/64x").status_code == 422
    mine = patches[patches["county_code"] == "640202"]
    assert {r["code"] for r in body} == set(mine["land_use_code"].str[:2])
    assert all(r["basis"] == "official" for r in body)
    out = run_gis("land-classes", "640202", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == body
