"""The OpenAPI 3.0 document of the OGC API (``/ogc/api``, the landing page's ``service-desc``).

FastAPI's own ``/openapi.json`` is OpenAPI 3.1 and describes the whole application; OGC API -
Features Part 1 (``/conf/oas30``) and Tiles (``/conf/oas30``) ask for 3.0, and clients read
more from it than from the resources: GDAL's OAPIF driver takes the ``filter-lang`` enum (it
pushes ``-where`` down only when the enum names ``cql-text``) and the query parameters named
like properties (which filters it may send as ``name=value``) from the items path of each
collection. So the document has one path per collection the caller may read, with that
collection's queryables as parameters, the ``datetime``, ``filter-lang`` (enum and default),
``limit`` (with its maximum) and CRS parameters, every status code an operation answers,
the two ways to pass a key (``X-API-Key``, HTTP Basic), and operation ids with the suffixes
OGC API - Tiles lists. Built per request from the catalogue: no I/O.
"""

from __future__ import annotations

from typing import Any

from gis.layers.catalogue import Layer
from gis.ogc.crs import SERVED

_JSON = {"application/json": {"schema": {"type": "object"}}}
_TYPES = {"text": "string", "int": "integer", "float": "number", "bool": "boolean",
          "date": "string"}
_ERRORS = {
    "400": {"description": "Invalid parameter (RFC 7807 problem details)"},
    "401": {"description": "A key is needed for this collection"},
    "403": {"description": "The key's role may not read this collection"},
    "404": {"description": "No such resource"},
    "500": {"description": "Server error (problem details with the request id)"},
}


def _param(name: str, schema: dict[str, Any], description: str, where: str = "query",
           required: bool = False, **extra: Any) -> dict[str, Any]:
    out = {"name": name, "in": where, "required": required, "schema": schema,
           "description": description, **extra}
    if where == "query":
        out.setdefault("style", "form")
        out.setdefault("explode", False)
    return out


def _parameters(max_limit: int, filter_langs: list[str]) -> dict[str, Any]:
    crs = {"type": "string", "format": "uri", "enum": [c.uri for c in SERVED]}
    return {
        "f": _param("f", {"type": "string", "enum": ["json", "html"]},
                    "Format: json (default) or html"),
        "limit": _param("limit", {"type": "integer", "minimum": 1, "maximum": max_limit,
                                  "default": 10}, "Features per page"),
        "offset": _param("offset", {"type": "integer", "minimum": 0, "default": 0},
                         "Features to skip"),
        "bbox": _param("bbox", {"type": "array", "minItems": 4, "maxItems": 6,
                                "items": {"type": "number"}},
                       "Bounding box in bbox-crs (CRS84 lon/lat by default; west > east "
                       "crosses the antimeridian)"),
        "bbox-crs": _param("bbox-crs", crs, "CRS of bbox"),
        "crs": _param("crs", crs, "CRS of the returned geometries"),
        "datetime": _param("datetime", {"type": "string"},
                           "Instant or interval (RFC 3339; '..' or empty for an open end) "
                           "on the collection's temporal property"),
        "version": _param("version", {"type": "integer", "minimum": 1},
                          "A control line's version (default: the one in force on "
                          "datetime's last day, or today)"),
        "filter": _param("filter", {"type": "string"}, "CQL2 filter expression"),
        "filter-lang": _param("filter-lang", {"type": "string", "enum": filter_langs,
                                              "default": "cql2-text"},
                              "cql2-text (default; cql-text is its draft name) or cql2-json"),
        "filter-crs": _param("filter-crs", crs, "CRS of geometries in the filter"),
        "properties": _param("properties", {"type": "array", "items": {"type": "string"}},
                             "Properties to return"),
        "sortby": _param("sortby", {"type": "array", "items": {"type": "string"}},
                         "Sort keys, e.g. -area_m2,+id"),
        "featureId": _param("featureId", {"type": "string"}, "Feature id", "path", True),
        "tileMatrixSetId": _param("tileMatrixSetId", {"type": "string"},
                                  "Tile matrix set", "path", True),
        "tileMatrix": _param("tileMatrix", {"type": "string"}, "Tile matrix (zoom level)",
                             "path", True),
        "tileRow": _param("tileRow", {"type": "integer", "minimum": 0}, "Tile row",
                          "path", True),
        "tileCol": _param("tileCol", {"type": "integer", "minimum": 0}, "Tile column",
                          "path", True),
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _op(op_id: str, summary: str, ok: dict[str, Any], params: list[Any] | None = None,
        extra: dict[str, Any] | None = None, secured: bool = False) -> dict[str, Any]:
    codes = ["400", "404", "500", *(["401", "403"] if secured else [])]
    responses = {"200": {"description": "OK", "content": ok}, **(extra or {}),
                 **{c: {"$ref": f"#/components/responses/E{c}"} for c in codes}}
    out: dict[str, Any] = {"operationId": op_id, "summary": summary,
                           "parameters": params or [], "responses": responses}
    if secured:
        out["security"] = [{}, {"apiKey": []}, {"basic": []}]
    return out


def _queryable_params(layer: Layer) -> list[dict[str, Any]]:
    out = [_param("id", {"type": "integer"}, "feature id"),
           _param("area_m2", {"type": "number"}, "area (m²)")]
    for field in layer.fields:
        schema: dict[str, Any] = {"type": _TYPES[field.type]}
        if field.type == "date":
            schema["format"] = "date"
        out.append(_param(field.name, schema, field.en))
    return out


def _collection_paths(layer: Layer, tms_ids: list[str]) -> dict[str, Any]:
    c = f"/collections/{layer.id}"
    html = {"text/html": {"schema": {"type": "string"}}}
    geojson = {"application/geo+json": {"schema": {"type": "object"}}, **html}
    items_params = [_ref(n) for n in ("f", "limit", "offset", "bbox", "bbox-crs", "crs",
                                      "datetime", "filter", "filter-lang", "filter-crs",
                                      "properties", "sortby")]
    if layer.versioned:  # a control line: one version at a time, this one if asked
        items_params.append(_ref("version"))
    tile_extra = {"204": {"description": "No feature in this tile"},
                  "304": {"description": "Not modified (If-None-Match)"}}
    tms = {"type": "string", "enum": tms_ids}
    tms_param = {**_param("tileMatrixSetId", tms, "Tile matrix set", "path", True)}
    mvt = {"application/vnd.mapbox-vector-tile": {"schema": {"type": "string",
                                                             "format": "binary"}}}
    p = layer.id
    return {
        c: {"get": _op(f"{p}.getCollection", layer.en, {**_JSON, **html}, [_ref("f")],
                       secured=True)},
        f"{c}/queryables": {"get": _op(
            f"{p}.getQueryables", f"{layer.en}: queryables",
            {"application/schema+json": {"schema": {"type": "object"}}}, secured=True)},
        f"{c}/items": {"get": _op(f"{p}.getFeatures", f"{layer.en}: features", geojson,
                                  items_params + _queryable_params(layer), secured=True)},
        f"{c}/items/{{featureId}}": {"get": _op(
            f"{p}.getFeature", f"{layer.en}: one feature", geojson,
            [_ref("featureId"), _ref("crs"), _ref("f")], secured=True)},
        f"{c}/tiles": {"get": _op(f"{p}.collection.vector.getTileSetsList",
                                  f"{layer.en}: vector tilesets", _JSON, secured=True)},
        f"{c}/tiles/{{tileMatrixSetId}}": {"get": _op(
            f"{p}.collection.vector.getTileSet", f"{layer.en}: tileset", _JSON,
            [tms_param], secured=True)},
        f"{c}/tiles/{{tileMatrixSetId}}/tilejson.json": {"get": _op(
            f"{p}.getTileJSON", f"{layer.en}: TileJSON", _JSON, [tms_param], secured=True)},
        f"{c}/tiles/{{tileMatrixSetId}}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}": {
            "get": _op(f"{p}.collection.vector.getTile", f"{layer.en}: a vector tile", mvt,
                       [tms_param, _ref("tileMatrix"), _ref("tileRow"), _ref("tileCol")],
                       tile_extra, secured=True)},
    }


def openapi_document(server: str, title: str, description: str, version: str,
                     layers: list[Layer], tms_ids: list[str], max_limit: int,
                     filter_langs: list[str]) -> dict[str, Any]:
    """The OpenAPI 3.0.3 document for the OGC API at ``server`` (``.../ogc``), listing the
    ``layers`` the caller may read."""
    html = {"text/html": {"schema": {"type": "string"}}}
    paths: dict[str, Any] = {
        "/": {"get": _op("getLandingPage", "Landing page", {**_JSON, **html}, [_ref("f")])},
        "/conformance": {"get": _op("getConformance", "Conformance classes",
                                    {**_JSON, **html}, [_ref("f")])},
        "/api": {"get": _op("getApi", "This document", {
            "application/vnd.oai.openapi+json;version=3.0": {"schema": {"type": "object"}}})},
        "/collections": {"get": _op("getCollections", "Collections the caller may read",
                                    {**_JSON, **html}, [_ref("f")], secured=True)},
        "/tileMatrixSets": {"get": _op("getTileMatrixSetsList", "Tile matrix sets", _JSON)},
        "/tileMatrixSets/{tileMatrixSetId}": {"get": _op(
            "getTileMatrixSet", "A tile matrix set",
            _JSON, [_ref("tileMatrixSetId")])},
    }
    for layer in layers:
        paths.update(_collection_paths(layer, tms_ids))
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "description": description, "version": version},
        "servers": [{"url": server}],
        "paths": paths,
        "components": {
            "parameters": _parameters(max_limit, filter_langs),
            "responses": {f"E{code}": {
                "description": value["description"],
                "content": {"application/problem+json": {"schema": {"type": "object"}}}}
                for code, value in _ERRORS.items()},
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                           "description": "Issued with `gis users add NAME --role ROLE`"},
                "basic": {"type": "http", "scheme": "basic",
                          "description": "Any user name, the key as the password (QGIS, "
                                         "GDAL_HTTP_AUTH=BASIC)"},
            },
        },
    }
