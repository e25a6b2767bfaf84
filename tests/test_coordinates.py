"""Footprints from the files land applications carry: boundary-point coordinate files
(界址点坐标, CGCS2000 Gauss-Kruger X/Y with the zone from the header, the Y prefix or the
caller) and WKT, read by the upload endpoint; areas checked against pyproj.Geod."""

from __future__ import annotations

import json

import numpy as np
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import Polygon, box, shape

from api.app import create_app
from gis.errors import InputError, MissingCRS
from gis.layers.coordinates import read_coordinate_file, read_wkt_file, zone_epsg

GEOD = pyproj.Geod(ellps="GRS80")
#: The files write coordinates to the millimetre: a parcel's area moves by up to its
#: perimeter x 0.5 mm, about 1e-6 of these parcels' areas.
REL = 1e-5
#: Two parcels near Dawukou (lon, lat): a pentagon and a rectangle with a hole.
PARCEL_A = Polygon([(106.231, 39.006), (106.238, 39.0062), (106.2395, 39.0091),
                    (106.2345, 39.0098), (106.2305, 39.0085)])
PARCEL_B = Polygon([(106.30, 39.00), (106.31, 39.00), (106.31, 39.008), (106.30, 39.008)],
                   [[(106.303, 39.002), (106.306, 39.002), (106.306, 39.005),
                     (106.303, 39.005)]])


def geod_area(polygon: Polygon) -> float:
    """The ellipsoidal area: the outline's less the holes' (whatever the rings' order)."""
    def ring(r) -> float:
        return abs(GEOD.geometry_area_perimeter(Polygon(r))[0])
    return ring(polygon.exterior) - sum(ring(h) for h in polygon.interiors)


def to_gk(polygon: Polygon, zone: int = 35) -> list[list[tuple[float, float]]]:
    """Rings as surveyors write them: (X northing, Y easting), Y with the zone in front."""
    to = pyproj.Transformer.from_crs(4490, zone_epsg(zone)[0], always_xy=True)
    rings = []
    for ring in (polygon.exterior, *polygon.interiors):
        rings.append([(y, zone * 1_000_000 + x)
                      for x, y in (to.transform(*point) for point in ring.coords)])
    return rings


def coordinate_file(prefix: bool = True, header_zone: int | None = 35,
                    datum: str = "2000国家大地坐标系") -> bytes:
    lines = ["[属性描述]", "格式版本号=1.01", f"坐标系={datum}", "几度分带=3",
             "投影类型=高斯克吕格", "计量单位=米"]
    if header_zone is not None:
        lines.append(f"带号={header_zone}")
    lines += ["精度=0.001", "转换参数=,,,,,,", "[地块坐标]"]
    for number, (polygon, name) in enumerate(((PARCEL_A, "供水站"), (PARCEL_B, "调蓄池")),
                                             start=1):
        rings = to_gk(polygon)
        count = sum(len(r) for r in rings)
        lines.append(f"{count},{geod_area(polygon) / 10000:.4f},DK-{number},{name},面,,"
                     f"公共设施用地,,@")
        point = 1
        for ring_no, ring in enumerate(rings, start=1):
            for x, y in ring:
                y = y if prefix else y - 35_000_000
                lines.append(f"J{point},{ring_no},{x:.3f},{y:.3f}")
                point += 1
    return "\n".join(lines).encode("gbk")


def test_coordinate_file_areas_match_geod() -> None:
    parsed = read_coordinate_file(coordinate_file(), "报批坐标.txt")
    assert parsed.crs == "EPSG:4544"  # zone 35 of the 3-degree zones: CM 105E
    assert [p["parcel_no"] for p in parsed.properties] == ["DK-1", "DK-2"]
    assert parsed.properties[1]["name"] == "调蓄池"
    assert parsed.properties[1]["use"] == "公共设施用地"
    back = pyproj.Transformer.from_crs(4544, 4490, always_xy=True)
    for geom, original in zip(parsed.geometries, (PARCEL_A, PARCEL_B), strict=True):
        lonlat = shapely.transform(geom, lambda xy: np.column_stack(
            back.transform(xy[:, 0], xy[:, 1])))
        assert geod_area(lonlat) == pytest.approx(geod_area(original), rel=REL)
    assert len(parsed.geometries[1].interiors) == 1  # ring 2 inside ring 1: a hole


def test_the_zone_from_the_caller_or_the_prefix() -> None:
    no_header = coordinate_file(prefix=True, header_zone=None)
    assert read_coordinate_file(no_header, "a.txt").crs == "EPSG:4544"  # from the Y prefix
    bare = coordinate_file(prefix=False, header_zone=None)
    with pytest.raises(MissingCRS, match="zone"):
        read_coordinate_file(bare, "a.txt")
    assert read_coordinate_file(bare, "a.txt", zone=35).crs == "EPSG:4544"
    with pytest.raises(InputError, match="zone 35, not the 36"):
        read_coordinate_file(coordinate_file(), "a.txt", zone=36)
    with pytest.raises(InputError, match="not a CGCS2000 3-degree"):
        read_coordinate_file(bare, "a.txt", zone=50)


def test_space_separated_points_and_fullwidth_commas() -> None:
    """Some survey software separates with spaces, or writes full-width commas (，)."""
    rings = to_gk(PARCEL_A)[0]
    spaced = "\n".join(f"J{i} 1 {x:.3f} {y:.3f}" for i, (x, y) in enumerate(rings, start=1))
    fullwidth = "\n".join(f"J{i}，1，{x:.3f}，{y:.3f}" for i, (x, y) in enumerate(rings, start=1))
    for text in (spaced, fullwidth):
        parsed = read_coordinate_file(text.encode(), "a.txt")
        assert parsed.crs == "EPSG:4544" and parsed.properties == [{"parcel_no": "1"}]
        assert parsed.geometries[0].area == pytest.approx(
            shapely.Polygon([(y - 35_000_000, x) for x, y in rings]).area, rel=REL)


@pytest.mark.parametrize(("data", "fragment"), [
    (coordinate_file(datum="1980西安坐标系"), "only CGCS2000"),
    (b"J1,1,abc,def\n", "line 1"),
    ("[属性描述]\n带号=35\n".encode(), "no boundary points"),
    (b"J1,1,4320000,35500000\nJ2,1,4320010,35500000\nJ1,1,4320000,35500000\n",
     "at least 3"),
])
def test_bad_coordinate_files(data: bytes, fragment: str) -> None:
    with pytest.raises((InputError, MissingCRS)) as caught:
        read_coordinate_file(data, "bad.txt")
    assert fragment in caught.value.render("en")


def test_wkt_files() -> None:
    one = read_wkt_file(f"SRID=4490;{PARCEL_A.wkt}".encode(), "a.wkt")
    assert one.crs == "EPSG:4490" and one.geometries[0].equals(PARCEL_A)
    lines = read_wkt_file(f"{PARCEL_A.wkt}\n\n{PARCEL_B.wkt}\n".encode(), "b.wkt", "EPSG:4490")
    assert len(lines.geometries) == 2 and lines.properties[1] == {"line": 3}
    with pytest.raises(InputError, match="line 2"):
        read_wkt_file(f"{PARCEL_A.wkt}\nPOLYGON ((1 2, 3\n".encode(), "c.wkt")
    with pytest.raises(InputError, match="SRID=4326"):
        read_wkt_file(f"SRID=4326;{PARCEL_A.wkt}".encode(), "d.wkt", "EPSG:4544")


@pytest.fixture(scope="module")
def client(settings, layers, role_keys):
    with TestClient(create_app(settings), headers=role_keys["planner"]) as c:
        yield c


def test_upload_and_check_a_coordinate_file(client: TestClient) -> None:
    """The portal's upload: the file to CRS84 GeoJSON, each parcel's area as Geod's; then
    the siting check of one parcel reports the same area."""
    response = client.post("/api/v1/footprints/parse?filename=报批坐标.txt",
                           content=coordinate_file(prefix=False, header_zone=35))
    assert response.status_code == 200, response.text
    features = response.json()["features"]
    assert [f["properties"]["parcel_no"] for f in features] == ["DK-1", "DK-2"]
    for feature, original in zip(features, (PARCEL_A, PARCEL_B), strict=True):
        assert geod_area(shape(feature["geometry"])) == pytest.approx(geod_area(original),
                                                                      rel=REL)
    run = client.post("/api/v1/analysis/siting", json={
        "geometry": features[0]["geometry"], "crs": "CRS84", "activity": "NMP3",
        "new_construction_land": True, "profile": "dawukou"})
    assert run.status_code == 201, run.text
    assert run.json()["footprint_area"]["area_m2"] == pytest.approx(geod_area(PARCEL_A), rel=REL)


def test_upload_zone_choice_and_wkt(client: TestClient) -> None:
    bare = coordinate_file(prefix=False, header_zone=None)
    missing = client.post("/api/v1/footprints/parse?filename=a.txt", content=bare,
                          headers={"Accept-Language": "en"})
    assert missing.status_code == 422 and "zone" in missing.json()["detail"]
    chosen = client.post("/api/v1/footprints/parse?filename=a.txt&zone=35", content=bare)
    assert chosen.status_code == 200 and len(chosen.json()["features"]) == 2
    wrong = client.post("/api/v1/footprints/parse?filename=a.txt&zone=36",
                        content=coordinate_file(), headers={"Accept-Language": "en"})
    assert wrong.status_code == 422 and "zone 35" in wrong.json()["detail"]
    wkt = client.post("/api/v1/footprints/parse?filename=x.wkt&crs=EPSG:4490",
                      content=f"{PARCEL_A.wkt}\n{box(106.3, 39.0, 106.31, 39.01).wkt}".encode())
    assert wkt.status_code == 200, wkt.text
    areas = [geod_area(shape(f["geometry"])) for f in wkt.json()["features"]]
    assert areas[0] == pytest.approx(geod_area(PARCEL_A), rel=1e-9)
    no_crs = client.post("/api/v1/footprints/parse?filename=x.wkt", content=PARCEL_A.wkt.encode(),
                         headers={"Accept-Language": "en"})
    assert no_crs.status_code == 422 and "coordinate system" in no_crs.json()["detail"]


def test_gis_check_siting_reads_a_coordinate_file(settings, layers, tmp_path) -> None:
    """The command line takes the same file: its parcels together as the project's footprint,
    the area their sum."""
    from tests.test_cli_usage import run_gis

    path = tmp_path / "报批坐标.txt"
    path.write_bytes(coordinate_file(prefix=False, header_zone=None))
    missing = run_gis("check", "siting", str(path), "--activity", "NMP3", "--new-land",
                      "--profile", "dawukou", "--no-store")
    assert missing.returncode == 2 and "zone" in missing.stderr
    done = run_gis("check", "siting", str(path), "--activity", "NMP3", "--new-land",
                   "--profile", "dawukou", "--zone", "35", "--no-store", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["footprint_crs"] == "EPSG:4544"
    assert result["footprint_area"]["area_m2"] == pytest.approx(
        geod_area(PARCEL_A) + geod_area(PARCEL_B), rel=REL)
