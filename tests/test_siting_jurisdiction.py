"""The siting check's jurisdiction advisory (issue 17, item 9): footprints are checked against
the union of the loaded outlines of the profile's jurisdiction, and where part of the
jurisdiction's outline is not loaded that part is "not checked", never "outside".

Two adjacent districts stand for Dawukou (640202) and Xingqing (640104); the region's outline
(640000) is loaded only where a test says so.
"""

from __future__ import annotations

import pytest
from shapely.geometry import box, mapping

from gis.analysis.siting import check
from gis.errors import InputError
from gis.units import geodesic_area
from tests.planning_fixtures import _load

DAWUKOU = box(106.0, 38.8, 106.6, 39.3)
XINGQING = box(106.0, 38.3, 106.6, 38.8)  # shares Dawukou's southern edge
REGION = box(104.2, 35.2, 107.7, 39.4)
ACROSS = box(106.30, 38.79, 106.31, 38.81)  # half in each district
ELSEWHERE = box(105.50, 37.50, 105.51, 37.51)  # in the region, in neither district
HALF_OUT = box(106.59, 39.00, 106.61, 39.01)  # half in Dawukou, half east of both
FAR = box(120.0, 45.0, 120.01, 45.01)


@pytest.fixture
def districts(clean_db, tmp_path):
    _load(clean_db, tmp_path, "admin_divisions", [
        {"code": "640202", "name": "大武口区", "level": "区", "parent_code": "640200"},
        {"code": "640104", "name": "兴庆区", "level": "区", "parent_code": "640100"}],
        [DAWUKOU, XINGQING])
    return clean_db


def _codes(engine, footprint, profile: str) -> dict[str, str]:
    result = check(engine, mapping(footprint), "LA1", False, profile=profile)
    return {w.code: w.message_en for w in result.warnings if "jurisdiction" in w.code}


def test_a_footprint_across_two_loaded_districts_is_inside_the_region(districts) -> None:
    assert _codes(districts, ACROSS, "ningxia") == {}


def test_elsewhere_in_the_region_is_not_checked_rather_than_refused(districts) -> None:
    codes = _codes(districts, ELSEWHERE, "ningxia")
    assert set(codes) == {"jurisdiction_not_checked"}
    assert "loaded outlines of 兴庆区, 大武口区" in codes["jurisdiction_not_checked"]
    result = check(districts, mapping(ELSEWHERE), "LA1", False, profile="ningxia")
    zh = next(w.message_zh for w in result.warnings if w.code == "jurisdiction_not_checked")
    assert "未核对" in zh and "宁夏回族自治区" in zh


def test_the_part_beyond_the_loaded_districts_is_not_checked(districts) -> None:
    codes = _codes(districts, HALF_OUT, "ningxia")
    assert set(codes) == {"jurisdiction_partly_not_checked"}
    outside_mu = geodesic_area(HALF_OUT & box(106.6, 39.0, 106.61, 39.01)).mu
    assert f"{outside_mu:,.2f} mu" in codes["jurisdiction_partly_not_checked"]


def test_a_district_profile_still_sees_its_own_outline(districts) -> None:
    # Dawukou's own outline is loaded: the Xingqing half is outside Dawukou.
    assert set(_codes(districts, ACROSS, "dawukou")) == {"partly_outside_jurisdiction"}
    with pytest.raises(InputError, match="outside Dawukou"):
        check(districts, mapping(ELSEWHERE), "LA1", False, profile="dawukou")


def test_with_the_region_outline_loaded_outside_is_outside(districts, tmp_path) -> None:
    _load(districts, tmp_path, "admin_divisions", [
        {"code": "640000", "name": "宁夏回族自治区", "level": "自治区"}], [REGION])
    assert _codes(districts, ELSEWHERE, "ningxia") == {}
    assert _codes(districts, ACROSS, "ningxia") == {}
    assert set(_codes(districts, box(107.69, 37.0, 107.71, 37.01), "ningxia")) == {
        "partly_outside_jurisdiction"}
    with pytest.raises(InputError, match="outside Ningxia"):
        check(districts, mapping(FAR), "LA1", False, profile="ningxia")


def test_nothing_loaded_is_not_checked(clean_db) -> None:
    assert set(_codes(clean_db, ELSEWHERE, "ningxia")) == {"jurisdiction_not_checked"}
