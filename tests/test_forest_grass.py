"""Forest/grassland reconciliation on planted synthetic data: detection (kinds, areas vs
shapely + pyproj.Geod), slivers, the work list, decisions, concurrency, re-detection."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import pytest
from shapely.geometry import box

from gis.analysis.forest_grass import decide, detect, get_finding, list_findings, set_status
from gis.errors import Conflict, InputError, NotFound
from gis.identity import Actor
from gis.layers.load import LoadOptions, load_file
from gis.units import geodesic_area

DISTRICT = box(106.0, 38.8, 106.6, 39.3)
TOWN = box(106.0, 38.8, 106.3, 39.3)
VILLAGE = box(106.0, 38.8, 106.3, 39.05)
F1 = box(106.100, 39.000, 106.105, 39.004)    # ~17 ha
F2 = box(106.104, 39.003, 106.108, 39.006)    # overlaps F1, other owner
F3 = box(106.120, 39.000, 106.123, 39.003)    # no owner
F4 = box(106.130, 39.000, 106.133, 39.003)    # no certificate; survey says grassland
F5 = box(106.140, 39.000, 106.143, 39.003)    # certificate 150 mu, mapped ~ 88 mu
G1 = box(106.100, 39.001, 106.112, 39.0035)   # overlaps F1 and F2; centred under F2
G2 = box(106.12298, 39.000, 106.126, 39.003)  # a ~1.7 m strip on F3: a sliver
S1 = box(106.129, 38.999, 106.134, 39.004)    # 0401 under F4
S2 = box(106.110, 39.0005, 106.115, 39.0025)  # 0301 under G1


def _load(engine, tmp_path, layer, rows, geoms):
    path = tmp_path / f"{layer}.gpkg"
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490").to_file(path)
    load_file(engine, path, layer, LoadOptions(strict=True))


def _forest(xb, owner="星海镇星光村村民委员会", cert="LQ-1", cert_mu=None):
    return {"county_code": "640202", "lin_ban": "001", "xiao_ban": xb, "land_class": "乔木林地",
            "owner": owner, "certificate_no": cert, "certificate_area_mu": cert_mu}


def _grass(n: int) -> dict:
    return {"parcel_no": f"CD-{n}", "grass_class": "温性草原类", "owner": "星光村",
            "certificate_no": f"CY-{n}"}


@pytest.fixture
def onemap(clean_db, tmp_path):
    _load(clean_db, tmp_path, "admin_divisions", [
        {"code": "640202", "name": "大武口区", "level": "区"},
        {"code": "640202100", "name": "星海镇", "level": "镇", "parent_code": "640202"},
        {"code": "640202100201", "name": "星光村", "level": "村", "parent_code": "640202100"}],
        [DISTRICT, TOWN, VILLAGE])
    _load(clean_db, tmp_path, "forest_parcels", [
        _forest("001"), _forest("002", owner="个人 张三"), _forest("003", owner=None),
        _forest("004", cert=None), _forest("005", cert_mu=150.0)], [F1, F2, F3, F4, F5])
    _load(clean_db, tmp_path, "grassland_parcels", [_grass(1), _grass(2)], [G1, G2])
    _load(clean_db, tmp_path, "survey_patches", [
        {"county_code": "640202", "patch_no": "0001", "land_use_code": "0401"},
        {"county_code": "640202", "patch_no": "0002", "land_use_code": "0301"}], [S1, S2])
    return clean_db


def _by_kind(engine):
    _, rows = list_findings(engine, division="640202", limit=1000)
    out: dict[str, list] = {}
    for row in rows:
        out.setdefault(row.kind, []).append(row)
    return out


def test_detects_exactly_the_planted_situations(onemap) -> None:
    summary = detect(onemap, "640202", actor=Actor("林草局 王工", "k0000001"))
    kinds = _by_kind(onemap)
    assert summary.detected == {k: len(v) for k, v in kinds.items()}
    fg = {tuple(p["key"] for p in f.parcels): f for f in kinds["forest_grass_overlap"]}
    assert set(fg) == {("640202/001/001", "CD-1"), ("640202/001/002", "CD-1")}
    assert fg[("640202/001/001", "CD-1")].area_m2 == pytest.approx(
        geodesic_area(F1 & G1).m2, rel=1e-3)
    assert fg[("640202/001/001", "CD-1")].area_mu == pytest.approx(
        geodesic_area(F1 & G1).mu, rel=1e-3)
    assert [f.parcels[1]["key"] for f in kinds["sliver"]] == ["CD-2"]
    assert geodesic_area(F3 & G2).m2 < 670
    own = kinds["ownership_overlap"][0]
    assert own.area_m2 == pytest.approx(geodesic_area(F1 & F2).m2, rel=1e-3)
    mismatches = {tuple(p["key"] for p in f.parcels) for f in kinds["class_mismatch"]}
    assert mismatches == {("640202/001/004", "640202/0001"), ("CD-1", "640202/0002")}
    assert [f.parcels[0]["key"] for f in kinds["missing_owner"]] == ["640202/001/003"]
    assert [f.parcels[0]["key"] for f in kinds["missing_certificate"]] == ["640202/001/004"]
    cert = kinds["certificate_mismatch"][0]
    assert cert.parcels[0]["attributes"]["certificate_area_mu"] == 150.0
    assert cert.area_mu == pytest.approx(geodesic_area(F5).mu, rel=1e-3)
    assert {f.township for v in kinds.values() for f in v} == {"星海镇"}
    assert {f.village for v in kinds.values() for f in v} == {"星光村"}
    finding, events = get_finding(onemap, cert.id)
    assert events[0].action == "detected" and events[0].actor == "林草局 王工"
    assert finding.geometry["type"] == "MultiPolygon"


def test_filters_and_paging(onemap) -> None:
    detect(onemap, "640202")
    total, page = list_findings(onemap, division="640202", limit=3)
    assert total >= 8 and len(page) == 3
    _, rest = list_findings(onemap, division="640202", limit=3, offset=3)
    assert not {f.id for f in page} & {f.id for f in rest}
    total, only = list_findings(onemap, kind="missing_owner", village="星光村")
    assert total == 1 and only[0].kind == "missing_owner"
    with pytest.raises(InputError, match="unknown kind"):
        list_findings(onemap, kind="nonsense")
    with pytest.raises(InputError, match="limit"):
        list_findings(onemap, limit=0)


def test_neighbours_sharing_an_edge_are_not_overlaps(clean_db, tmp_path) -> None:
    """Detection keeps a pair only when the interiors meet (ST_Intersects and not
    ST_Touches): parcels of a partition share edges and corners, which is no conflict, but a
    parcel inside its neighbour that shares part of the boundary is."""
    f6 = box(106.150, 39.000, 106.153, 39.003)
    f7 = box(106.153, 39.000, 106.156, 39.003)  # shares F6's east edge, another owner
    f8 = box(106.150, 39.000, 106.152, 39.002)  # inside F6, on its south-west corner
    f9 = box(106.156, 39.003, 106.159, 39.006)  # meets F7 at one corner
    g3 = box(106.156, 39.000, 106.159, 39.003)  # shares F7's east edge
    _load(clean_db, tmp_path, "admin_divisions",
          [{"code": "640202", "name": "大武口区", "level": "区"}], [DISTRICT])
    _load(clean_db, tmp_path, "forest_parcels", [
        _forest("006"), _forest("007", owner="个人 李四"), _forest("008", owner="个人 王五"),
        _forest("009", owner="个人 赵六")], [f6, f7, f8, f9])
    _load(clean_db, tmp_path, "grassland_parcels", [_grass(3)], [g3])
    summary = detect(clean_db, "640202")
    assert summary.detected == {"ownership_overlap": 1}
    (finding,) = _by_kind(clean_db)["ownership_overlap"]
    assert [p["key"] for p in finding.parcels] == ["640202/001/006", "640202/001/008"]
    assert finding.area_m2 == pytest.approx(geodesic_area(f8).m2, rel=1e-3)


def test_decision_flow_and_history(onemap) -> None:
    detect(onemap, "640202")
    finding = _by_kind(onemap)["forest_grass_overlap"][0]
    checked = set_status(onemap, finding.id, "field_check", Actor("王工"), finding.version,
                         "实地核查")
    decided = decide(onemap, finding.id, "keep_forest", Actor("李科长"), "现场为乔木林",
                     checked.version)
    assert decided.status == "decided" and decided.decision == "keep_forest"
    # the refusal names who made the version the caller did not see, from its event
    with pytest.raises(Conflict, match=r"changed by 李科长 at .* now version 3, you had 1"):
        decide(onemap, finding.id, "keep_grass", Actor("赵工"), "草地", finding.version)
    with pytest.raises(InputError, match="reason"):
        decide(onemap, finding.id, "keep_grass", Actor("赵工"), " ", decided.version)
    with pytest.raises(InputError, match="unknown decision"):
        decide(onemap, finding.id, "delete_it", Actor("赵工"), "x", decided.version)
    with pytest.raises(NotFound):
        decide(onemap, 999_999, "keep_grass", Actor("赵工"), "x", 1)
    current, events = get_finding(onemap, finding.id)
    assert [e.action for e in events] == ["detected", "status", "decided"]
    assert [e.version for e in events] == [1, 2, 3]
    assert events[2].actor == "李科长" and events[2].reason == "现场为乔木林"
    # the finding carries its decision trail: who decided, when and why
    assert (current.decided_by, current.decision_reason, current.decided_at) == (
        "李科长", "现场为乔木林", events[2].at)


def test_concurrent_decisions_cannot_both_win(onemap) -> None:
    detect(onemap, "640202")
    finding = _by_kind(onemap)["ownership_overlap"][0]

    def attempt(decision: str) -> str:
        try:
            decide(onemap, finding.id, decision, Actor(decision), "并发", finding.version)
            return "won"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(attempt, ["reassign_owner", "no_change"]))
    assert outcomes == ["conflict", "won"]


def test_redetection_keeps_decisions_closes_and_adds(onemap, tmp_path) -> None:
    detect(onemap, "640202")
    overlap = next(f for f in _by_kind(onemap)["forest_grass_overlap"]
                   if f.parcels[0]["key"] == "640202/001/001")
    decide(onemap, overlap.id, "split_by_line", Actor("李科长"), "按现状界线分割", overlap.version)
    # The grassland layer is corrected: CD-1 shrinks a little (same ground), CD-2 moves away,
    # and a new parcel CD-3 overlaps F5.
    _load(onemap, tmp_path, "grassland_parcels", [_grass(1), _grass(2), _grass(3)],
        [box(106.1002, 39.001, 106.112, 39.0035), box(106.5, 39.2, 106.51, 39.21),
         box(106.141, 39.001, 106.150, 39.002)])
    summary = detect(onemap, "640202")
    assert summary.closed >= 1 and summary.new >= 1
    kept, _ = get_finding(onemap, overlap.id)
    assert kept.status == "decided" and kept.decision == "split_by_line"
    assert kept.area_m2 == pytest.approx(
        geodesic_area(F1 & box(106.1002, 39.001, 106.112, 39.0035)).m2, rel=1e-3)
    _, slivers = list_findings(onemap, kind="sliver")
    assert [s.status for s in slivers] == ["closed"]
    assert get_finding(onemap, slivers[0].id)[1][-1].action == "closed"
    _, fg = list_findings(onemap, kind="forest_grass_overlap", status="open")
    assert any(f.parcels[0]["key"] == "640202/001/005" for f in fg)


def test_unknown_division(onemap) -> None:
    with pytest.raises(NotFound, match="admin_divisions"):
        detect(onemap, "640999")


def test_apply_makes_a_new_version_and_keeps_the_originals(onemap) -> None:
    from sqlalchemy import text

    from gis.analysis.forest_grass_apply import apply_decisions
    from gis.testing import table_state

    detect(onemap, "640202")
    kinds = _by_kind(onemap)
    fg = {f.parcels[0]["key"]: f for f in kinds["forest_grass_overlap"]}
    decide(onemap, fg["640202/001/001"].id, "keep_forest", Actor("李科长"), "乔木林",
           fg["640202/001/001"].version)
    decide(onemap, fg["640202/001/002"].id, "split_by_line", Actor("李科长"), "按界线",
           fg["640202/001/002"].version)
    cert = kinds["certificate_mismatch"][0]
    decide(onemap, cert.id, "correct_certificate", Actor("李科长"), "以图为准", cert.version)
    originals = {layer: table_state(onemap, layer)
                 for layer in ("forest_parcels", "grassland_parcels")}

    summary = apply_decisions(onemap, "640202", Actor("李科长"))

    assert summary.applied == 3
    assert {layer: table_state(onemap, layer) for layer in originals} == originals
    with onemap.connect() as conn:
        rows = {(r.layer, r.parcel_key): r for r in conn.execute(text(
            "SELECT layer, parcel_key, area_m2, attributes, ST_AsText(geom) AS wkt "
            "FROM recon_parcels WHERE version_id = :v"), {"v": summary.version_id})}
    # CD-1 loses the F1 overlap (keep_forest) and the half of the F2 overlap on F2's side:
    # G1 is centred under F2, so the split line is the horizontal through the piece's centre.
    piece = F2 & G1
    mid = (piece.bounds[1] + piece.bounds[3]) / 2
    f2_half = box(piece.bounds[0], mid, piece.bounds[2], piece.bounds[3])
    expected = geodesic_area(G1.difference(F1).difference(f2_half)).m2
    after = rows[("grassland_parcels", "CD-1")].area_m2
    assert after == pytest.approx(expected, rel=1e-3)
    assert rows[("forest_parcels", "640202/001/001")].area_m2 == pytest.approx(
        geodesic_area(F1).m2, rel=1e-6)
    corrected = rows[("forest_parcels", "640202/001/005")].attributes["certificate_area_mu"]
    assert corrected == pytest.approx(geodesic_area(F5).mu, abs=0.01)
    town = {(c.township, c.layer): c for c in summary.by_township}
    change = town[("", "grassland_parcels")]
    assert change.before_m2 - change.after_m2 == pytest.approx(
        geodesic_area(G1).m2 - expected, rel=1e-3)
    _, applied = list_findings(onemap, status="applied")
    assert len(applied) == 3
    assert get_finding(onemap, applied[0].id)[1][-1].action == "applied"
    again = apply_decisions(onemap, "640202", Actor("李科长"))
    assert again.applied == 0 and again.version_id > summary.version_id
