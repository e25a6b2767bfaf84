"""CQL2 (21-065r2): the conformance classes declared (Basic CQL2, Advanced Comparison
Operators, Basic Spatial Functions, ... plus, Spatial Functions, CQL2 Text, CQL2 JSON), one
test per abstract test (Annex A). The "test-data" and "logical" tests run the standard's
kinds of predicates on the sample village plans and zones; the expected result is computed
here, in Python (three-valued logic for NULLs, shapely for geometry), not by the server."""

from __future__ import annotations

import itertools
import json
import random

import shapely

from tests.ogc.conftest import ITEMS, SPEC, VILLAGES, declared, frame, select

CQL2 = f"{SPEC}cql2/1.0/conf/"
ZONES = "/ogc/collections/village_plan_zones/items"
OPS = {"=": lambda a, b: a == b, "<>": lambda a, b: a != b, "<": lambda a, b: a < b,
       "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _ok(api, path: str = ITEMS, **params) -> set[int]:
    return select(api, path, **params)


def _refused(api, expression: str, path: str = ITEMS, lang: str = "cql2-text") -> None:
    response = api.get(path, params={"filter": expression, "filter-lang": lang})
    assert response.status_code == 400, (expression, response.text)


def _scalars(api) -> dict[str, str]:
    props = api.get(f"/ogc/collections/{VILLAGES}/queryables").json()["properties"]
    return {name: ("date" if p.get("format") == "date" else p["type"])
            for name, p in props.items() if "type" in p}


_VALUES = {"string": "'foo'", "boolean": "true", "number": "3.14", "integer": "1",
           "date": "DATE('2022-04-14')"}


# -- Predicates evaluated independently ----------------------------------------------------
def _row_value(row, name):
    value = row[name]
    return None if value is None or value != value else value  # NaN/NaT -> NULL


def _predicates(db) -> list[tuple[str, callable]]:
    """(CQL2 text, row -> True/False/None) on the village plans."""
    name = sorted(db["village_name"])[len(db) // 2]
    area = sorted(db["planned_construction_m2"])[len(db) // 3]
    day = sorted(db["approved_date"].dropna())[len(db) // 2]
    out = []
    for op, fn in OPS.items():
        for prop, literal, value in (("village_name", f"'{name}'", name),
                                     ("planned_construction_m2", repr(float(area)), area),
                                     ("approved_date", f"DATE('{day.isoformat()}')", day)):
            out.append((f"{prop}{op}{literal}", lambda r, p=prop, v=value, f=fn: (
                None if _row_value(r, p) is None else f(_row_value(r, p), v))))
    for prop in ("approved_date", "flexible_quota_m2", "village_name"):
        out.append((f"{prop} IS NULL", lambda r, p=prop: _row_value(r, p) is None))
        out.append((f"{prop} IS NOT NULL", lambda r, p=prop: _row_value(r, p) is not None))
    out.append(("resettled=true", lambda r: None if _row_value(r, "resettled") is None
                else bool(r["resettled"])))
    return out


def _not(a):
    return None if a is None else not a


def _and(a, b):
    return False if a is False or b is False else (None if a is None or b is None else True)


def _or(a, b):
    return True if a is True or b is True else (None if a is None or b is None else False)


def _expected(db, fn) -> set[int]:
    return {int(r["id"]) for _, r in db.iterrows() if fn(r) is True}


# -- Basic CQL2 ------------------------------------------------------------------------------
def test_basic_cql2__basic_test(api) -> None:
    assert f"{CQL2}basic-cql2" in declared(api)
    scalars = _scalars(api)
    assert scalars and {"string", "number", "integer", "boolean", "date"} <= set(
        scalars.values())


def test_basic_cql2__comparison(api) -> None:
    for name, kind in _scalars(api).items():
        value = _VALUES[kind]
        results = {op: _ok(api, filter=f"{name} {op} {value}") for op in OPS}
        assert not results["="] & results["<>"], name
        assert not results[">"] & results["<="], name
        assert not results["<"] & results[">="], name


def test_basic_cql2__is_null(api) -> None:
    for name in _scalars(api):
        null, not_null = _ok(api, filter=f"{name} IS NULL"), _ok(api, filter=f"{name} is not null")
        assert not null & not_null and null | not_null == _ok(api), name


def test_basic_cql2__boolean(api) -> None:
    assert _ok(api, filter="true") == _ok(api) and _ok(api, filter="FALSE") == set()
    assert _ok(api, filter='false', **{"filter-lang": "cql2-json"}) == set()


def test_basic_cql2__test_data(api, sample_db) -> None:
    db = frame(sample_db, VILLAGES)
    for text, fn in _predicates(db):
        assert _ok(api, filter=text) == _expected(db, fn), text


def test_basic_cql2__logical(api, sample_db) -> None:
    db = frame(sample_db, VILLAGES)
    predicates = _predicates(db)
    rng = random.Random(19)
    for _ in range(40):
        (t1, f1), (t2, f2), (t3, f3), (t4, f4) = rng.sample(predicates, 4)
        text = f"(NOT ({t2}) AND {t1}) OR ({t3} and {t4}) or not ({t1} OR {t4})"

        def fn(r, f1=f1, f2=f2, f3=f3, f4=f4):
            return _or(_or(_and(_not(f2(r)), f1(r)), _and(f3(r), f4(r))),
                       _not(_or(f1(r), f4(r))))

        assert _ok(api, filter=text) == _expected(db, fn), text


# -- Advanced comparison operators ---------------------------------------------------------
def test_advanced_comparison_operators__like(api) -> None:
    assert f"{CQL2}advanced-comparison-operators" in declared(api)
    for name in ("village_name", "township_name", "category"):
        assert not _ok(api, filter=f"{name} LIKE '_%'") & _ok(api, filter=f"{name} LIKE ''")
        assert _ok(api, filter=f"{name} LIKE '%'") == _ok(api, filter=f"{name} LIKE '%%'")


def test_advanced_comparison_operators__between(api, sample_db) -> None:
    db = frame(sample_db, VILLAGES)
    low, high = sorted(db["planned_construction_m2"])[2], sorted(db["planned_construction_m2"])[7]
    inside = set(db[db["planned_construction_m2"].between(low, high)]["id"])
    text = f"planned_construction_m2 BETWEEN {low!r} AND {high!r}"
    assert _ok(api, filter=text) == inside
    assert _ok(api, filter=text.replace("BETWEEN", "NOT BETWEEN")) == set(db["id"]) - inside
    for args in ([{"property": "planned_construction_m2"}, low, high],  # the final form
                 [{"property": "planned_construction_m2"}, [low, high]]):  # the draft's
        assert _ok(api, filter=json.dumps({"op": "between", "args": args}),
                   **{"filter-lang": "cql2-json"}) == inside


def test_advanced_comparison_operators__in(api, sample_db) -> None:
    db = frame(sample_db, VILLAGES)
    names = list(db["village_name"][:3])
    quoted = ", ".join(f"'{n}'" for n in names)
    assert _ok(api, filter=f"village_name IN ({quoted})") == set(db["id"][:3])
    assert _ok(api, filter=f"village_name NOT IN ({quoted})") == set(db["id"][3:])
    assert _ok(api, filter="id IN (1, 2, 3.5)") == {1, 2} & set(db["id"])


def test_advanced_comparison_operators__test_data(api, sample_db) -> None:
    db = frame(sample_db, VILLAGES)
    first = db["village_name"].iloc[0]
    cases = {f"village_name LIKE '{first[0]}%'": db["village_name"].str.startswith(first[0]),
             f"village_name LIKE '_{first[1:]}'": db["village_name"] == first,
             "village_name NOT LIKE '%村'": ~db["village_name"].str.endswith("村"),
             "planned_construction_m2 BETWEEN 0 AND 300000":
                 db["planned_construction_m2"].between(0, 300000)}
    for text, mask in cases.items():
        assert _ok(api, filter=text) == set(db[mask]["id"]), text


def test_advanced_comparison_operators__logical(api) -> None:
    text = ("(NOT village_name LIKE '%村' AND planned_construction_m2 BETWEEN 0 AND 1e9) "
            "OR (id IN (1, 2) AND NOT (township_name IN ('x', 'y') OR id NOT BETWEEN 1 AND 5))")
    _ok(api, filter=text)


# -- Basic spatial functions ---------------------------------------------------------------
def test_basic_spatial_functions__s_intersects(api) -> None:
    assert f"{CQL2}basic-spatial-functions" in declared(api)
    assert _ok(api, filter="S_INTERSECTS(geometry,BBOX(-180,-90,180,90))") == _ok(api)
    assert _ok(api, filter="S_INTERSECTS(geometry,POINT(7.02 49.92))") == set()
    _refused(api, "S_INTERSECTS(geometry,POINT(90 180))")
    assert _ok(api, filter="S_INTERSECTS(geometry,BBOX(-180,-90,-90,90)) AND "
                           "S_INTERSECTS(geometry,BBOX(90,-90,180,90))") == set()


def _zones(sample_db):
    return frame(sample_db, "village_plan_zones")


def test_basic_spatial_functions__test_data(api, sample_db) -> None:
    db = _zones(sample_db)
    boxes = {"BBOX(106.35,38.95,106.45,39.05)": shapely.box(106.35, 38.95, 106.45, 39.05),
             "BBOX(106.4,39.0,106.5,39.1)": shapely.box(106.4, 39.0, 106.5, 39.1),
             # across the antimeridian: 150°E eastwards to 170°W, and 90°E to 110°E
             "BBOX(150,-90,-170,90)": shapely.MultiPolygon([shapely.box(150, -90, 180, 90),
                                                           shapely.box(-180, -90, -170, 90)]),
             "BBOX(90,30,110,40)": shapely.box(90, 30, 110, 40)}
    hits = {k: set(db[db.intersects(g)]["id"]) for k, g in boxes.items()}
    for text, expected in hits.items():
        assert _ok(api, ZONES, filter=f"S_INTERSECTS(geometry,{text})") == expected, text
    a, b = "BBOX(106.35,38.95,106.45,39.05)", "BBOX(106.4,39.0,106.5,39.1)"
    assert _ok(api, ZONES, filter=f"S_INTERSECTS(geometry,{a}) and "
                                  f"not S_INTERSECTS(geometry,{b})") == hits[a] - hits[b]
    assert _ok(api, ZONES, filter=f"S_INTERSECTS(geometry,{a}) or "
                                  f"S_INTERSECTS(geometry,{b})") == hits[a] | hits[b]
    point = db.geometry.iloc[0].representative_point()
    assert _ok(api, ZONES, filter=f"S_INTERSECTS(geometry,POINT({point.x} {point.y}))") == set(
        db[db.intersects(point)]["id"])


def test_basic_spatial_functions__logical(api) -> None:
    a, b = "S_INTERSECTS(geometry,BBOX(106.35,38.95,106.45,39.05))", "village_name LIKE '%村'"
    _ok(api, filter=f"(NOT {a} AND {b}) OR ({a} and NOT {b}) or not ({a} AND {b})")


# -- Basic spatial functions with additional spatial literals -------------------------------
_PLUS = [
    "S_INTERSECTS(geometry,LINESTRING(-180 -45, 0 -45))",
    "S_INTERSECTS(geometry,MULTILINESTRING((-180 -45, 0 -45), (0 45, 180 45)))",
    "S_INTERSECTS(geometry,POLYGON((-180 -90, -90 -90, -90 90, -180 90, -180 -90), "
    "(-120 -50, -100 -50, -100 -40, -120 -40, -120 -50)))",
    "S_INTERSECTS(geometry,MULTIPOLYGON(((-180 -90, -90 -90, -90 90, -180 90, -180 -90), "
    "(-120 -50, -100 -50, -100 -40, -120 -40, -120 -50)),((0 0, 10 0, 10 10, 0 10, 0 0))))",
    "S_INTERSECTS(geometry,GEOMETRYCOLLECTION(POINT(7.02 49.92), "
    "POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))))",
]


def test_basic_spatial_functions_plus__s_intersects(api) -> None:
    assert f"{CQL2}basic-spatial-functions-plus" in declared(api)
    _refused(api, "S_INTERSECTS(geometry,MULTIPOINT(7.02 49.92, 90 180))")
    for text in _PLUS:
        assert _ok(api, filter=text) == set(), text  # all far from Ningxia
    for degenerate in ("POLYGON((0 0, 1 1, 0 0))", "POLYGON((0 0, 1 0, 1 1, 0 1))",
                       "POLYGON((0 0, 10 10, 10 0, 0 10, 0 0))", "LINESTRING(1 1)"):
        _refused(api, f"S_INTERSECTS(geometry,{degenerate})")


def test_basic_spatial_functions_plus__test_data(api, sample_db) -> None:
    db = _zones(sample_db)
    minx, miny, maxx, maxy = db.total_bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    p1, p2 = (db.geometry.iloc[i].representative_point() for i in (0, 5))
    literals = {
        f"LINESTRING({minx} {p1.y}, {maxx} {p1.y})": shapely.LineString([(minx, p1.y),
                                                                         (maxx, p1.y)]),
        f"MULTIPOINT(({p1.x} {p1.y}), ({p2.x} {p2.y}))": shapely.MultiPoint([p1, p2]),
        f"MULTILINESTRING(({minx} {cy}, {cx} {cy}), ({p2.x} {miny}, {p2.x} {maxy}))":
            shapely.MultiLineString([[(minx, cy), (cx, cy)], [(p2.x, miny), (p2.x, maxy)]]),
        f"GEOMETRYCOLLECTION(POINT({p1.x} {p1.y}), LINESTRING({minx} {miny}, {maxx} {maxy}))":
            shapely.GeometryCollection([p1, shapely.LineString([(minx, miny), (maxx, maxy)])]),
    }
    for text, geom in literals.items():
        expected = set(db[db.intersects(geom)]["id"])
        assert expected, text
        assert _ok(api, ZONES, filter=f"S_INTERSECTS(geometry,{text})") == expected, text
        as_json = json.dumps({"op": "s_intersects", "args": [
            {"property": "geometry"}, shapely.geometry.mapping(geom)]})
        assert _ok(api, ZONES, filter=as_json, **{"filter-lang": "cql2-json"}) == expected


# -- Spatial functions -----------------------------------------------------------------------
WORLD_BOX, WORLD = "BBOX(-180,-90,180,90)", "POLYGON((-180 -90,180 -90,180 90,-180 90,-180 -90))"


def test_spatial_functions__s_intersects(api) -> None:
    assert f"{CQL2}spatial-functions" in declared(api)
    a = _ok(api, filter=f"S_INTERSECTS(geometry,{WORLD_BOX})")
    assert a == _ok(api, filter=f"S_INTERSECTS(geometry,{WORLD})") == _ok(api)
    _ok(api, filter="S_INTERSECTS(geometry,LINESTRING(7 50, 10 51))")
    _ok(api, filter="S_INTERSECTS(geometry,POINT(7.02 49.92))")
    _refused(api, "S_INTERSECTS(geometry,POINT(90 180))")


def test_spatial_functions__s_disjoint(api) -> None:
    assert _ok(api, filter=f"S_DISJOINT(geometry,{WORLD_BOX})") == set()
    assert _ok(api, filter=f"S_DISJOINT(geometry,{WORLD})") == set()
    for literal in ("LINESTRING(7 50,10 51)", "POINT(7.02 49.92)"):
        disjoint = _ok(api, filter=f"S_DISJOINT(geometry,{literal})")
        assert not disjoint & _ok(api, filter=f"S_INTERSECTS(geometry,{literal})")
    _refused(api, "S_DISJOINT(geometry,POINT(90 180))")


def test_spatial_functions__s_equals(api) -> None:
    assert _ok(api, filter=f"S_EQUALS(geometry,{WORLD})") == _ok(
        api, filter="S_EQUALS(geometry,LINESTRING(7 50,10 51))") == set()
    _ok(api, filter="S_EQUALS(geometry,POINT(7.02 49.92))")


def test_spatial_functions__s_touches(api) -> None:
    for literal in (WORLD_BOX, WORLD, "LINESTRING(7 50,10 51)"):
        _ok(api, filter=f"S_TOUCHES(geometry,{literal})")


def test_spatial_functions__s_crosses(api) -> None:
    for literal in (WORLD_BOX, WORLD, "LINESTRING(7 50,10 51)"):
        _ok(api, filter=f"S_CROSSES(geometry,{literal})")


def test_spatial_functions__s_within(api) -> None:
    assert _ok(api, filter=f"S_WITHIN(geometry,{WORLD_BOX})") == _ok(
        api, filter=f"S_WITHIN(geometry,{WORLD})") == _ok(api)
    _ok(api, filter="S_WITHIN(geometry,LINESTRING(7 50,10 51))")
    _ok(api, filter="S_WITHIN(geometry,MULTIPOINT(7 50,10 51))")


def test_spatial_functions__s_contains(api) -> None:
    contains = _ok(api, filter=f"S_CONTAINS(geometry,{WORLD_BOX})")
    assert contains == _ok(api, filter=f"S_CONTAINS(geometry,{WORLD})") == set()
    assert not contains & _ok(api, filter=f"S_WITHIN(geometry,{WORLD_BOX})")
    _ok(api, filter="S_CONTAINS(geometry,LINESTRING(7 50,10 51))")
    _ok(api, filter="S_CONTAINS(geometry,MULTIPOINT(7 50,10 51))")


def test_spatial_functions__s_overlaps(api) -> None:
    _ok(api, filter=f"S_OVERLAPS(geometry,{WORLD})")


def test_spatial_functions__test_data(api, sample_db) -> None:
    db = _zones(sample_db)
    one = db.geometry.iloc[3]
    exact = shapely.to_wkt(one, rounding_precision=-1)
    ring = shapely.to_wkt(shapely.LineString(one.geoms[0].exterior.coords[:3]),
                          rounding_precision=-1)
    box = shapely.box(*one.buffer(0.002).bounds)
    inner = one.representative_point()
    cases = {
        f"S_EQUALS(geometry,{exact})": db.geom_equals(one),
        f"S_TOUCHES(geometry,{ring})": db.touches(shapely.from_wkt(ring)),
        f"S_WITHIN(geometry,{box.wkt})": db.within(box),
        f"S_CONTAINS(geometry,POINT({inner.x} {inner.y}))": db.contains(inner),
        f"S_OVERLAPS(geometry,{box.wkt})": db.overlaps(box),
        f"S_DISJOINT(geometry,{box.wkt})": db.disjoint(box),
        f"S_CROSSES(geometry,LINESTRING({box.bounds[0]} {inner.y}, {box.bounds[2]} "
        f"{inner.y}))": db.crosses(shapely.LineString([(box.bounds[0], inner.y),
                                                       (box.bounds[2], inner.y)])),
    }
    for text, mask in cases.items():
        assert _ok(api, ZONES, filter=text) == set(db[mask]["id"]), text
    assert db.geom_equals(one).sum() == 1 and db.touches(shapely.from_wkt(ring)).any()


def test_spatial_functions__logical(api) -> None:
    predicates = [f"S_INTERSECTS(geometry,{WORLD})", "S_DISJOINT(geometry,POINT(7 50))",
                  "S_WITHIN(geometry,BBOX(106,38,107,40))", "village_name LIKE '%村'",
                  "S_CONTAINS(geometry,POINT(106.4 39))"]
    for p1, p2, p3, p4 in itertools.islice(itertools.permutations(predicates, 4), 12):
        _ok(api, filter=f"((NOT {p1} AND {p2}) OR ({p3} and NOT {p4}) or not ({p1} AND {p4}))")


# -- Encodings -------------------------------------------------------------------------------
_PAIRS = [
    ("village_name = '镇河村'", {"op": "=", "args": [{"property": "village_name"}, "镇河村"]}),
    ("NOT (resettled = true OR planned_construction_m2 > 300000)",
     {"op": "not", "args": [{"op": "or", "args": [
         {"op": "=", "args": [{"property": "resettled"}, True]},
         {"op": ">", "args": [{"property": "planned_construction_m2"}, 300000]}]}]}),
    ("approved_date >= DATE('2022-01-01')",
     {"op": ">=", "args": [{"property": "approved_date"}, {"date": "2022-01-01"}]}),
    ("village_name LIKE '%村' AND id IN (1, 2, 3)",
     {"op": "and", "args": [{"op": "like", "args": [{"property": "village_name"}, "%村"]},
                            {"op": "in", "args": [{"property": "id"}, [1, 2, 3]]}]}),
    ("flexible_quota_m2 IS NULL", {"op": "isNull", "args": [{"property": "flexible_quota_m2"}]}),
    ("S_INTERSECTS(geometry, BBOX(106.35, 38.95, 106.45, 39.05))",
     {"op": "s_intersects", "args": [{"property": "geometry"},
                                     {"bbox": [106.35, 38.95, 106.45, 39.05]}]}),
    ("TRUE", True),
]


def test_cql2_text__validate(api) -> None:
    assert f"{CQL2}cql2-text" in declared(api)
    for text, _ in _PAIRS:
        _ok(api, filter=text, **{"filter-lang": "cql2-text"})


def test_cql2_text__escaping(api) -> None:
    from gis.ogc.cql_text import parse_text

    assert parse_text("a1 = 'it''s'").rhs == "it's"
    assert parse_text("a1 = 'it\\'s'").rhs == "it's"
    assert parse_text("a1 = '\\a\\b\\t\\n\\v\\f\\r'").rhs == "\a\b\t\n\v\f\r"
    assert _ok(api, filter="village_name = 'x'' OR ''1''=''1'") == set()


def test_cql2_json__validate(api) -> None:
    assert f"{CQL2}cql2-json" in declared(api)
    for text, tree in _PAIRS:
        assert _ok(api, filter=json.dumps(tree), **{"filter-lang": "cql2-json"}) == _ok(
            api, filter=text), text
