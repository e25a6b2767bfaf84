"""A conformance class is declared only with its tests: every class ``/ogc/conformance``
lists has its abstract tests in this suite (``test_<class>__<abstract test>``), and the
suite tests no class the service does not declare."""

from __future__ import annotations

import importlib
import pkgutil

import tests.ogc
from gis.ogc.conformance import CONFORMANCE

#: conformance class -> (suite module, test name prefix, abstract tests of the class)
SUITE = {
    "ogcapi-features-1/1.0/conf/core": ("test_features_part1", "core", 33),
    "ogcapi-features-1/1.0/conf/geojson": ("test_features_part1", "geojson", 2),
    "ogcapi-features-1/1.0/conf/html": ("test_features_part1", "html", 2),
    "ogcapi-features-1/1.0/conf/oas30": ("test_features_part1", "oas30", 5),
    "ogcapi-features-2/1.0/conf/crs": ("test_features_part2", "crs", 11),
    "ogcapi-features-3/1.0/conf/queryables": ("test_features_part3", "queryables", 3),
    "ogcapi-features-3/1.0/conf/queryables-query-parameters": (
        "test_features_part3", "queryables_query_parameters", 2),
    "ogcapi-features-3/1.0/conf/filter": ("test_features_part3", "filter", 7),
    "ogcapi-features-3/1.0/conf/features-filter": ("test_features_part3", "features_filter",
                                                   5),
    "cql2/1.0/conf/basic-cql2": ("test_cql2", "basic_cql2", 6),
    "cql2/1.0/conf/advanced-comparison-operators": (
        "test_cql2", "advanced_comparison_operators", 5),
    "cql2/1.0/conf/basic-spatial-functions": ("test_cql2", "basic_spatial_functions", 3),
    "cql2/1.0/conf/basic-spatial-functions-plus": (
        "test_cql2", "basic_spatial_functions_plus", 2),
    "cql2/1.0/conf/spatial-functions": ("test_cql2", "spatial_functions", 10),
    "cql2/1.0/conf/cql2-text": ("test_cql2", "cql2_text", 2),
    "cql2/1.0/conf/cql2-json": ("test_cql2", "cql2_json", 1),
    "ogcapi-tiles-1/1.0/conf/core": ("test_tiles_part1", "core", 7),
    "ogcapi-tiles-1/1.0/conf/tileset": ("test_tiles_part1", "tileset", 1),
    "ogcapi-tiles-1/1.0/conf/tilesets-list": ("test_tiles_part1", "tilesets_list", 1),
    "ogcapi-tiles-1/1.0/conf/geodata-tilesets": ("test_tiles_part1", "geodata_tilesets", 2),
    "ogcapi-tiles-1/1.0/conf/mvt": ("test_tiles_part1", "mvt", 1),
    "ogcapi-tiles-1/1.0/conf/oas30": ("test_tiles_part1", "oas30", 2),
    "tms/2.0/conf/tilematrixset": ("test_tiles_part1", "tilematrixset", 1),
    "tms/2.0/conf/json-tilematrixset": ("test_tiles_part1", "json_tilematrixset", 4),
}


def _tests(module: str, prefix: str) -> list[str]:
    mod = importlib.import_module(f"tests.ogc.{module}")
    return [name for name in dir(mod) if name.startswith(f"test_{prefix}__")]


def test_every_declared_class_has_its_abstract_tests() -> None:
    declared = {c.removeprefix("http://www.opengis.net/spec/") for c in CONFORMANCE}
    assert declared == set(SUITE)
    for cls, (module, prefix, count) in SUITE.items():
        # Part 1's OpenAPI class has 6 abstract tests; "security" is one of them too.
        found = _tests(module, prefix)
        assert len(found) >= count, (cls, found)


def test_suite_modules_are_the_ones_listed() -> None:
    modules = {m.name for m in pkgutil.iter_modules(tests.ogc.__path__)
               if m.name.startswith("test_")}
    assert {m for m, _, _ in SUITE.values()} | {"test_conformance_declared"} == modules - {
        "test_clients"}
