"""The sample one-map in data/samples: it loads cleanly, it contains exactly the situations
``planted.yaml`` lists (re-measured here independently, in Python and in PostGIS), and
``gis samples build`` reproduces it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
import yaml
from shapely.geometry import shape
from sqlalchemy import Engine, text

from gis.layers.catalogue import get_layer, load_catalogue
from gis.layers.load import LoadOptions, load_file
from gis.samples import SAMPLES_GPKG, load_samples
from gis.samples.generate import BOUNDARIES, LAYER_IDS, QUOTA_LEDGER, build_samples
from gis.settings import PROJECT_ROOT
from gis.units import geodesic_area

SAMPLES = PROJECT_ROOT / "data" / "samples"
GPKG = SAMPLES / SAMPLES_GPKG
RASTERS = ("dem.tif", "landcover_2020.tif", "landcover_2023.tif")
OVERLAP_KINDS = ("forest_grass_overlap", "forest_grass_sliver", "ownership_overlap",
                 "three_line_conflict", "class_mismatch")


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def planted() -> dict:
    return yaml.safe_load((SAMPLES / "planted.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def situations(planted: dict) -> dict[str, dict]:
    return {s["id"]: s for s in planted["situations"]}


@pytest.fixture(scope="module")
def frames() -> dict:
    return {lid: pyogrio.read_dataframe(GPKG, layer=lid, use_arrow=True) for lid in LAYER_IDS}


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    build_samples(out, boundaries=SAMPLES / BOUNDARIES)
    return out


@pytest.fixture
def loaded(engine: Engine, settings, planted: dict) -> Engine:
    """The samples in the database (loaded once, reused while the tables still hold them)."""
    counts = planted["feature_counts"]
    with engine.connect() as conn:
        have = {lid: conn.execute(text(f"SELECT count(*) FROM {get_layer(lid).table}")).scalar()
                for lid in LAYER_IDS}
    if have != {lid: counts[lid] for lid in LAYER_IDS}:
        tables = ", ".join(layer.table for layer in load_catalogue())
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables}, layer_loads RESTART IDENTITY"))
        load_samples(engine, settings)
    return engine


def _key_columns(layer_id: str) -> list[str]:
    return get_layer(layer_id).natural_key


def _geometry(frames: dict, layer_id: str, key: dict) -> shapely.Geometry:
    frame = frames[layer_id]
    rows = frame
    for column in _key_columns(layer_id):
        rows = rows[rows[column] == key[column]]
    assert len(rows) == 1, f"{layer_id} {key}: {len(rows)} features"
    return rows.geometry.iloc[0]


def _close(actual: float, expected: float, rel: float = 1e-3) -> bool:
    return abs(actual - expected) <= rel * abs(expected)


# ---------------------------------------------------------------------------------- loading
def test_every_layer_loads_strictly_without_repair(clean_db: Engine, settings,
                                                   planted: dict) -> None:
    listed = {str(name) for name, _ in pyogrio.list_layers(GPKG)}
    assert listed == {*LAYER_IDS, QUOTA_LEDGER}
    for lid in LAYER_IDS:
        summary = load_file(clean_db, GPKG, lid, LoadOptions(source_layer=lid, strict=True),
                            extent=settings.data.extent)
        assert summary.repaired == 0, lid
        assert summary.features == summary.inserted == planted["feature_counts"][lid], lid
        assert summary.ignored_fields == [], lid


def test_loading_twice_changes_nothing(loaded: Engine, settings) -> None:
    summaries = load_samples(loaded, settings)
    assert sorted(s.layer for s in summaries) == sorted(LAYER_IDS)
    for s in summaries:
        assert (s.inserted, s.updated, s.repaired) == (0, 0, 0), s.layer
        assert s.unchanged == s.features


def test_everything_lies_inside_the_real_districts(loaded: Engine) -> None:
    data = json.loads((SAMPLES / BOUNDARIES).read_text(encoding="utf-8"))
    outline = shapely.union_all([shape(f["geometry"]) for f in data["features"]])
    with loaded.connect() as conn:
        for lid in LAYER_IDS:
            outside = conn.execute(text(
                f"WITH d AS (SELECT ST_Buffer(ST_GeomFromWKB(:w, 4490), 1e-9) AS g) "
                f"SELECT count(*) FROM {get_layer(lid).table} t, d "
                f"WHERE NOT ST_CoveredBy(t.geom, d.g)"), {"w": shapely.to_wkb(outline)}).scalar()
            assert outside == 0, lid


def test_natural_keys_are_unique_and_values_canonical(frames: dict) -> None:
    for lid in LAYER_IDS:
        layer = get_layer(lid)
        frame = frames[lid]
        assert not frame.duplicated(subset=layer.natural_key).any(), lid
        assert list(frame.columns[:-1]) == layer.field_names, lid
        assert frame.crs.to_epsg() == 4490
        for field in layer.fields:
            if field.values:
                present = set(frame[field.name].dropna())
                assert present <= set(field.values), (lid, field.name, present)


# ---------------------------------------------------------------------------------- planted truth
def test_planted_overlaps_measured_independently(planted: dict, frames: dict) -> None:
    sliver = planted["tolerances"]["sliver_m2"]
    checked = 0
    for s in planted["situations"]:
        if s["kind"] not in OVERLAP_KINDS:
            continue
        geoms = [_geometry(frames, layer, key)
                 for layer, keys in s["features"].items() for key in keys]
        assert len(geoms) == 2, s["id"]
        area = geodesic_area(geoms[0].intersection(geoms[1])).m2
        assert _close(area, s["expected"]["area_m2"]), (s["id"], area)
        if s["kind"] == "forest_grass_sliver":
            assert area < sliver, s["id"]
        elif s["kind"] != "class_mismatch":
            assert area > sliver, s["id"]
        checked += 1
    kinds = [s["kind"] for s in planted["situations"]]
    assert kinds.count("forest_grass_overlap") >= 4
    assert kinds.count("forest_grass_sliver") >= 3
    assert checked >= 20


def test_class_mismatches_name_the_right_survey_codes(planted: dict, frames: dict) -> None:
    forest_codes = {"0301", "0305", "0307"}
    grass_codes = {"0401", "0404"}
    deliberate = {}
    for s in planted["situations"]:
        if s["kind"] != "class_mismatch":
            continue
        patch = s["features"]["survey_patches"][0]
        survey = frames["survey_patches"]
        row = survey[(survey.county_code == patch["county_code"])
                     & (survey.patch_no == patch["patch_no"])].iloc[0]
        assert row.land_use_code == s["expected"]["survey_code"]
        layer = next(lid for lid in s["features"] if lid != "survey_patches")
        assert row.land_use_code not in (forest_codes if layer == "forest_parcels"
                                         else grass_codes)
        if "implied_by" not in s["expected"]:
            deliberate[(layer, row.land_use_code)] = s["id"]
    assert {("forest_parcels", "0404"), ("forest_parcels", "0103"), ("forest_parcels", "0702"),
            ("grassland_parcels", "0305")} <= set(deliberate)


def test_no_unplanted_overlaps_in_postgis(loaded: Engine, planted: dict) -> None:
    def pairs(a: str, b: str, ka: str, kb: str, same: bool = False) -> dict:
        cond = "AND a.id < b.id" if same else ""
        sql = (f"SELECT {ka}, {kb}, ST_Area(ST_Intersection(a.geom, b.geom)::geography, true) "
               f"FROM {a} a JOIN {b} b ON ST_Intersects(a.geom, b.geom) {cond}")
        with loaded.connect() as conn:
            rows = conn.execute(text(sql)).all()
        return {(r[0], r[1]): r[2] for r in rows if r[2] > planted["tolerances"]["noise_m2"]}

    fkey = "a.county_code || '/' || a.lin_ban || '/' || a.xiao_ban"
    forest = pairs("forest_parcels", "forest_parcels", fkey,
                   fkey.replace("a.", "b."), same=True)
    grass = pairs("grassland_parcels", "grassland_parcels", "a.parcel_no", "b.parcel_no",
                  same=True)
    fg = pairs("forest_parcels", "grassland_parcels", fkey, "b.parcel_no")
    rf = pairs("eco_redline", "basic_farmland", "a.redline_code", "b.parcel_code")
    fu = pairs("basic_farmland", "urban_boundary", "a.parcel_code", "b.boundary_code")
    ru = pairs("eco_redline", "urban_boundary", "a.redline_code", "b.boundary_code")

    def fk(k: dict) -> str:
        return f"{k['county_code']}/{k['lin_ban']}/{k['xiao_ban']}"

    want_fg, want_ff, want_rf, want_fu = {}, {}, {}, {}
    for s in planted["situations"]:
        f, e = s["features"], s["expected"]
        if s["kind"] in ("forest_grass_overlap", "forest_grass_sliver"):
            want_fg[(fk(f["forest_parcels"][0]), f["grassland_parcels"][0]["parcel_no"])] = \
                e["area_m2"]
        elif s["kind"] == "ownership_overlap":
            a, b = (fk(k) for k in f["forest_parcels"])
            want_ff[frozenset((a, b))] = e["area_m2"]
        elif s["kind"] == "three_line_conflict" and "eco_redline" in f:
            want_rf[(f["eco_redline"][0]["redline_code"],
                     f["basic_farmland"][0]["parcel_code"])] = e["area_m2"]
        elif s["kind"] == "three_line_conflict":
            want_fu[(f["basic_farmland"][0]["parcel_code"],
                     f["urban_boundary"][0]["boundary_code"])] = e["area_m2"]
    survey = pairs("survey_patches", "survey_patches", "a.patch_no", "b.patch_no", same=True)
    assert grass == {}
    assert ru == {}
    assert survey == {}
    assert {frozenset(k) for k in forest} == set(want_ff)
    assert set(fg) == set(want_fg)
    assert set(rf) == set(want_rf) and len(rf) == 1
    assert set(fu) == set(want_fu) and len(fu) == 1
    for got, want in ((fg, want_fg), (rf, want_rf), (fu, want_fu)):
        for key, area in got.items():
            assert _close(area, want[key]), key
    for key, area in forest.items():
        assert _close(area, want_ff[frozenset(key)]), key


def test_ownership_and_certificate_defects(situations: dict, frames: dict) -> None:
    forest = frames["forest_parcels"]
    unclear = situations["OWN-UNCLEAR-01"]["features"]["forest_parcels"][0]
    none = situations["CERT-NONE-01"]["features"]["forest_parcels"][0]
    cert = situations["CERT-AREA-01"]["features"]["forest_parcels"][0]

    def row(key: dict):
        return forest[(forest.county_code == key["county_code"])
                      & (forest.lin_ban == key["lin_ban"])
                      & (forest.xiao_ban == key["xiao_ban"])].iloc[0]

    assert pd.isna(row(unclear).owner)
    assert row(none).owner and row(none).certificate_status == "none"
    assert pd.isna(row(none).certificate_no)
    c = row(cert)
    mapped_mu = geodesic_area(c.geometry).mu
    assert c.certificate_area_mu == 150.0 and 90 < mapped_mu < 110
    assert _close(mapped_mu, situations["CERT-AREA-01"]["expected"]["mapped_area_mu"], 1e-4)
    defects = {tuple(k.values()) for k in (unclear, none, cert)}
    others = forest[[tuple(r) not in defects for r in
                     forest[["county_code", "lin_ban", "xiao_ban"]].itertuples(index=False)]]
    assert others.owner.notna().all() and others.certificate_no.notna().all()
    mapped = np.array([geodesic_area(g).mu for g in others.geometry])
    assert np.all(np.abs(others.certificate_area_mu.to_numpy(dtype=float) - mapped) < 0.06)


def test_village_quota_shares(planted: dict, frames: dict) -> None:
    plans = frames["village_plans"].set_index("village_code")
    zones = frames["village_plan_zones"]
    for q in planted["village_quotas"]:
        plan = plans.loc[q["village_code"]]
        share = plan.flexible_quota_m2 / plan.planned_construction_m2
        assert share == pytest.approx(q["share"], abs=1e-9)
        mine = zones[zones.village_code == q["village_code"]]
        construction = sum(geodesic_area(g).m2 for g in mine[mine.construction].geometry)
        flexible = sum(geodesic_area(g).m2 for g in mine[mine.flexible_quota].geometry)
        assert _close(construction, plan.planned_construction_m2, 1e-6)
        assert _close(flexible, plan.flexible_quota_m2, 1e-6)
    shares = {p.village_name: p.flexible_quota_m2 / p.planned_construction_m2
              for p in plans.itertuples()}
    assert shares["隆惠村"] == pytest.approx(0.03) and shares["月牙湖村"] == pytest.approx(0.04)
    assert shares["星海村"] >= 0.05 and shares["塔桥村"] >= 0.05  # exactly 5.00%
    assert shares["祥和村"] == pytest.approx(0.0498)
    assert plans.resettled[plans.index.str.startswith("640202")].all()


def test_quota_ledger_is_overdrawn(situations: dict, frames: dict) -> None:
    ledger = pyogrio.read_dataframe(GPKG, layer=QUOTA_LEDGER)
    assert set(ledger.purpose) <= {"key_industry", "major_project", "ecological_restoration"}
    plans = frames["village_plans"].set_index("village_code")
    s = situations["QUOTA-OVERDRAWN-01"]
    village = s["features"]["village_plans"][0]["village_code"]
    drawn = ledger[ledger.village_code == village].area_m2.sum()
    assert drawn == s["expected"]["drawn_m2"] > plans.loc[village].flexible_quota_m2
    for other, rows in ledger.groupby("village_code"):
        if other != village:
            assert rows.area_m2.sum() <= plans.loc[other].flexible_quota_m2


def test_urban_boundary_ratios(loaded: Engine, situations: dict) -> None:
    with loaded.connect() as conn:
        rows = {c: (a, b) for c, a, b in conn.execute(text(
            "SELECT county_code, sum(area_m2), max(baseline_2020_m2) FROM urban_boundary "
            "GROUP BY county_code")).all()}
    ratios = {c: a / b for c, (a, b) in rows.items()}
    assert ratios["640202"] == pytest.approx(1.25, abs=0.005)
    assert ratios["640104"] == pytest.approx(1.36, abs=0.005)
    assert ratios["640202"] == pytest.approx(situations["UDB-01"]["expected"]["ratio"], rel=1e-6)
    assert ratios["640104"] == pytest.approx(situations["UDB-02"]["expected"]["ratio"], rel=1e-6)
    assert situations["UDB-01"]["expected"]["information_only"] is True
    # 003:131-133 "城镇开发边界扩展倍数控制在……1.3倍以内" is region-wide: the two districts
    # together (1.25x and 1.36x) exceed it.
    region = situations["UDB-REGION-01"]["expected"]
    together = sum(a for a, _ in rows.values()) / sum(b for _, b in rows.values())
    assert together == pytest.approx(region["ratio"], rel=1e-6) and together > 1.3
    assert region["exceeds"] is True and region["limit"] == 1.3
    assert region["covers"] == sorted(rows)


def test_village_categories_follow_the_seed(planted: dict, frames: dict) -> None:
    """000:848-852: "实现镇河村等 9个行政村共 46 个自然村集聚提升、月牙湖村等 16 个行政村共 81 个
    自然村整治改善、塔桥村等 14 个行政村共 59 个自然村搬迁撤……"; Dawukou's 001:1132-1136 names
    the five types for its 8 villages but no village's type, so its categories are
    illustrative and say so."""
    categories = dict(zip(frames["village_plans"].village_name,
                          frames["village_plans"].category, strict=True))
    assert {n: categories[n] for n in ("镇河村", "月牙湖村", "塔桥村")} == {
        "镇河村": "agglomeration", "月牙湖村": "improvement", "塔桥村": "relocation"}
    sources = {q["village_name"]: (q["category"], q["category_source"])
               for q in planted["village_quotas"]}
    assert {n: s for n, (_, s) in sources.items() if s} == dict.fromkeys(
        ("镇河村", "月牙湖村", "塔桥村"), "000:848-852")
    assert all(categories[n] == c for n, (c, _) in sources.items())
    dawukou = frames["village_plans"][frames["village_plans"].village_code.str.startswith(
        "640202")]
    assert len(dawukou) == 8  # "潮湖村、果园村等 8个行政村" (001:1136)


def test_forest_farm_areas_match_their_nominal_area(frames: dict) -> None:
    areas = frames["forest_farm_areas"]
    assert set(areas.nominal_area_mu) == {10000.0, 12000.0, 2600.0}
    for row in areas.itertuples():
        assert _close(geodesic_area(row.geometry).mu, row.nominal_area_mu, 0.01), row.area_name


def test_projects_overlap_what_planted_says(planted: dict, frames: dict) -> None:
    keyed = {"eco_redline": "redline_code", "urban_boundary": "boundary_code",
             "basic_farmland": "parcel_code", "cultivated_land": "patch_no"}
    layers = [*keyed, "forest_parcels", "grassland_parcels"]
    for s in planted["situations"]:
        if s["kind"] != "project_siting":
            continue
        footprint = _geometry(frames, "projects", s["features"]["projects"][0])
        got = {}
        for lid in layers:
            frame = frames[lid]
            for idx in frame.sindex.query(footprint, predicate="intersects"):
                area = geodesic_area(footprint.intersection(frame.geometry.iloc[idx])).m2
                if area > planted["tolerances"]["noise_m2"]:
                    row = frame.iloc[idx]
                    key = tuple(row[c] for c in _key_columns(lid))
                    got[(lid, key)] = area
        want = {(h["layer"], tuple(h[c] for c in _key_columns(h["layer"]))): h["area_m2"]
                for h in s["expected"]["overlaps"]}
        assert set(got) == set(want), s["id"]
        for key, area in got.items():
            assert _close(area, want[key]), (s["id"], key)
    zones = {s["id"]: {(h["layer"], h.get("zone")) for h in s["expected"]["overlaps"]
                       if h["layer"] != "grassland_parcels"}
             for s in planted["situations"] if s["kind"] == "project_siting"}
    assert ("eco_redline", "core") in zones["PRJ-01"]
    assert zones["PRJ-02"] == {("eco_redline", "general")}
    assert ("basic_farmland", None) in zones["PRJ-03"]
    assert zones["PRJ-04"] == {("cultivated_land", None)}
    assert zones["PRJ-05"] == {("urban_boundary", "centralized_construction")}


def test_readme_lists_every_planted_situation(planted: dict) -> None:
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for s in planted["situations"]:
        assert f"| {s['id']} | {s['kind']} |" in readme, s["id"]


# ---------------------------------------------------------------------------------- rasters
def test_landcover_changes_are_exactly_the_planted_patches(planted: dict) -> None:
    with rasterio.open(SAMPLES / "landcover_2020.tif") as a, \
            rasterio.open(SAMPLES / "landcover_2023.tif") as b:
        assert a.transform == b.transform and a.crs == b.crs and a.dtypes == b.dtypes
        assert a.crs.to_epsg() == 4544 and a.res == (30.0, 30.0)
        before, after = a.read(1), b.read(1)
    new = ~np.isin(before, (5, 6)) & np.isin(after, (5, 6))
    changed = before != after
    patches = [s for s in planted["situations"] if s["kind"].startswith("landcover")]
    kinds = [s["kind"] for s in patches]
    assert kinds.count("landcover_new_construction") + kinds.count("landcover_new_bare") >= 5
    total_new = 0
    for s in patches:
        w = s["expected"]["window"]
        win = (slice(w["row_off"], w["row_off"] + w["height"]),
               slice(w["col_off"], w["col_off"] + w["width"]))
        count = int((new if s["kind"] != "landcover_other_change" else changed)[win].sum())
        assert count == s["expected"]["pixel_count"], s["id"]
        if s["kind"] != "landcover_other_change":
            total_new += count
    assert int(new.sum()) == total_new
    assert int(changed.sum()) == sum(s["expected"]["pixel_count"] for s in patches)
    inside = {s["id"]: {(h["layer"], h.get("zone")) for h in s["expected"]["inside"]}
              for s in patches}
    zones = [z for v in inside.values() for z in v]
    assert zones.count(("eco_redline", "general")) >= 2
    assert ("eco_redline", "core") in zones and ("basic_farmland", None) in zones
    assert any(not v for k, v in inside.items()
               if next(s for s in patches if s["id"] == k)["kind"] != "landcover_other_change")


def test_dem_is_high_in_the_west(frames: dict) -> None:
    with rasterio.open(SAMPLES / "dem.tif") as dem:
        assert dem.crs.to_epsg() == 4544 and dem.dtypes[0] == "int16"
        z = dem.read(1, masked=True)
        transform = dem.transform
    dwk = frames["admin_divisions"].query("code == '640202'").to_crs(4544).geometry.iloc[0]
    minx, miny, maxx, maxy = dwk.bounds
    cols = np.arange(z.shape[1])
    xs = transform.c + (cols + 0.5) * transform.a
    rows = slice(int((transform.f - maxy) / -transform.e), int((transform.f - miny) / -transform.e))
    band = z[rows]
    west = band[:, xs < minx + (maxx - minx) / 3]
    east = band[:, xs > maxx - (maxx - minx) / 3]
    assert west.mean() > east.mean() + 600
    assert 2000 < band.max() < 3200 and 1050 < band.min() < 1200


# ---------------------------------------------------------------------------------- rebuild
def test_build_reproduces_the_committed_samples(rebuilt: Path) -> None:
    for name in ("planted.yaml", "README.md", BOUNDARIES):
        assert (rebuilt / name).read_bytes() == (SAMPLES / name).read_bytes(), name
    for lid in (*LAYER_IDS, QUOTA_LEDGER):
        new = pyogrio.read_dataframe(rebuilt / SAMPLES_GPKG, layer=lid, use_arrow=True)
        old = pyogrio.read_dataframe(GPKG, layer=lid, use_arrow=True)
        attrs = [c for c in old.columns if c != "geometry"]
        assert new[attrs].equals(old[attrs]), lid
        if "geometry" in old:
            assert shapely.to_wkb(new.geometry.values).tolist() == \
                shapely.to_wkb(old.geometry.values).tolist(), lid
    for name in RASTERS:
        with rasterio.open(rebuilt / name) as a, rasterio.open(SAMPLES / name) as b:
            assert a.transform == b.transform and a.crs == b.crs and a.dtypes == b.dtypes
            assert np.array_equal(a.read(1), b.read(1)), name
        assert (rebuilt / name).read_bytes() == (SAMPLES / name).read_bytes(), name


def test_samples_stay_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.iterdir() if p.is_file())
    assert total < 5 * 1024 * 1024
