"""OGC API - Features - Part 2 (18-058r1): conformance class CRS by reference, one test per
abstract test."""

from __future__ import annotations

import re

import pyproj
import shapely

from tests.ogc.conftest import CRS84, EPSG, ITEMS, PROBLEM, SPEC, VILLAGES, frame, select

_URI = re.compile(r"^http://www\.opengis\.net/def/crs/(OGC/1\.3/CRS84|EPSG/0/\d+)$")


def _collections(api) -> list[dict]:
    listed = api.get("/ogc/collections").json()["collections"]
    return listed + [api.get(f"/ogc/collections/{c['id']}").json() for c in listed]


def test_crs__conformance(api) -> None:
    assert f"{SPEC}ogcapi-features-2/1.0/conf/crs" in api.get("/ogc/conformance").json()[
        "conformsTo"]


def test_crs__crs_uri(api) -> None:
    for collection in _collections(api):
        for uri in [*collection["crs"], collection["storageCrs"]]:
            assert _URI.match(uri), uri


def test_crs__default_crs(api) -> None:
    assert all(CRS84 in c["crs"] for c in _collections(api))


def test_crs__storageCrs(api) -> None:  # noqa: N802 - the abstract test's name
    assert all(c["storageCrs"] in c["crs"] for c in _collections(api))


def test_crs__crs_parameter(api) -> None:
    for uri in api.get(f"/ogc/collections/{VILLAGES}").json()["crs"]:
        response = api.get(ITEMS, params={"crs": uri, "limit": 2})
        assert response.status_code == 200 and response.headers["content-crs"] == f"<{uri}>"


def test_crs__crs_parameter_default(api) -> None:
    assert api.get(ITEMS).headers["content-crs"] == f"<{CRS84}>"


def test_crs__crs_parameter_invalid(api) -> None:
    for bad in ("http://www.opengis.net/def/crs/OGC/0/does_not_exist", f"{EPSG}3857"):
        response = api.get(ITEMS, params={"crs": bad})
        assert response.status_code == 400 and response.headers["content-type"] == PROBLEM


def test_crs__crs_parameter_transform(api) -> None:
    reference = api.get(ITEMS, params={"limit": 3}).json()["features"]
    fid = reference[0]["id"]
    for code in ("4490", "4326", "4544"):
        back = pyproj.Transformer.from_crs(f"EPSG:{code}", "OGC:CRS84")  # EPSG axis order
        got = api.get(ITEMS, params={"limit": 3, "crs": f"{EPSG}{code}"}).json()["features"]
        one = api.get(f"{ITEMS}/{fid}", params={"crs": f"{EPSG}{code}"}).json()
        for ref, feature in zip(reference, got, strict=True):
            pts = shapely.get_coordinates(shapely.geometry.shape(feature["geometry"]))
            x, y = back.transform(pts[:, 0], pts[:, 1])
            ref_pts = shapely.get_coordinates(shapely.geometry.shape(ref["geometry"]))
            assert abs(x - ref_pts[:, 0]).max() < 1e-6 and abs(y - ref_pts[:, 1]).max() < 1e-6
        assert one["geometry"] == got[0]["geometry"]


def test_crs__bbox_crs_parameter(api, sample_db) -> None:
    db = frame(sample_db, "village_plan_zones")
    box = shapely.box(106.35, 38.95, 106.45, 39.05)
    expected = set(db[db.intersects(box)]["id"])
    zones = "/ogc/collections/village_plan_zones/items"
    for code in ("4490", "4326", "4544"):
        fwd = pyproj.Transformer.from_crs("OGC:CRS84", f"EPSG:{code}")
        a1, b1 = fwd.transform(106.35, 38.95)
        a2, b2 = fwd.transform(106.45, 39.05)
        got = select(api, zones, bbox=f"{min(a1, a2)},{min(b1, b2)},{max(a1, a2)},{max(b1, b2)}",
                     **{"bbox-crs": f"{EPSG}{code}"})
        # 4544's corners enclose a slightly different lon/lat quadrilateral: every feature
        # returned intersects its box, and all of the CRS84 box's features but a sliver.
        assert got, code
        if code != "4544":
            assert got == expected, code
        else:
            assert len(got ^ expected) <= 2, code


def test_crs__bbox_crs_parameter_default(api) -> None:
    zones = "/ogc/collections/village_plan_zones/items"
    box = "106.35,38.95,106.45,39.05"
    assert select(api, zones, bbox=box) == select(api, zones, bbox=box,
                                                  **{"bbox-crs": CRS84})


def test_crs__bbox_crs_parameter_invalid(api) -> None:
    response = api.get(ITEMS, params={"bbox": "106,38,107,39",
                                      "bbox-crs": f"{EPSG}3857"})
    assert response.status_code == 400 and response.headers["content-type"] == PROBLEM
