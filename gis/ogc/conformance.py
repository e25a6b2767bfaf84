"""The conformance classes ``/ogc/conformance`` declares, by standard.

A class is listed only when ``tests/ogc/`` holds a test for each abstract test of it and they
pass (``tests/ogc/test_conformance_declared.py`` checks that every class below has its test
module). Not declared: OGC API - Records' draft "sorting" class (its abstract tests want a
``sortables`` resource and are not final; ``sortby`` works all the same), CQL2's
property-property, functions, temporal, array, arithmetic and case/accent-insensitive classes
(refused with a message naming the part), GML and OpenAPI 3.1.
"""

from __future__ import annotations

_SPEC = "http://www.opengis.net/spec/"

FEATURES = [
    f"{_SPEC}ogcapi-features-1/1.0/conf/core",
    f"{_SPEC}ogcapi-features-1/1.0/conf/oas30",
    f"{_SPEC}ogcapi-features-1/1.0/conf/html",
    f"{_SPEC}ogcapi-features-1/1.0/conf/geojson",
    f"{_SPEC}ogcapi-features-2/1.0/conf/crs",
    f"{_SPEC}ogcapi-features-3/1.0/conf/queryables",
    f"{_SPEC}ogcapi-features-3/1.0/conf/queryables-query-parameters",
    f"{_SPEC}ogcapi-features-3/1.0/conf/filter",
    f"{_SPEC}ogcapi-features-3/1.0/conf/features-filter",
]
CQL2 = [
    f"{_SPEC}cql2/1.0/conf/cql2-text",
    f"{_SPEC}cql2/1.0/conf/cql2-json",
    f"{_SPEC}cql2/1.0/conf/basic-cql2",
    f"{_SPEC}cql2/1.0/conf/advanced-comparison-operators",
    f"{_SPEC}cql2/1.0/conf/basic-spatial-functions",
    f"{_SPEC}cql2/1.0/conf/basic-spatial-functions-plus",
    f"{_SPEC}cql2/1.0/conf/spatial-functions",
]
TILES = [
    f"{_SPEC}ogcapi-tiles-1/1.0/conf/core",
    f"{_SPEC}ogcapi-tiles-1/1.0/conf/tileset",
    f"{_SPEC}ogcapi-tiles-1/1.0/conf/tilesets-list",
    f"{_SPEC}ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    f"{_SPEC}ogcapi-tiles-1/1.0/conf/mvt",
    f"{_SPEC}ogcapi-tiles-1/1.0/conf/oas30",
    f"{_SPEC}tms/2.0/conf/tilematrixset",
    f"{_SPEC}tms/2.0/conf/json-tilematrixset",
]
CONFORMANCE = [*FEATURES, *CQL2, *TILES]
