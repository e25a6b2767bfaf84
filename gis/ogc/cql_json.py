"""CQL2 JSON (OGC 21-065r2, Annex C) read into pygeofilter's syntax tree.

Our own reader rather than pygeofilter 0.4's, which fails on parts of the final standard:
``between`` with its three arguments (``[property, low, high]``), GeoJSON
``GeometryCollection`` literals, and ``{"bbox": [...]}`` read with its axes mixed up. The
tree is the one :mod:`gis.ogc.cql_text` builds, so both encodings evaluate alike. A node it
does not know is "Unable to parse expression node ..." (a :class:`ValueError`), the words
pygeofilter used for the same case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pygeofilter import ast, values
from pygeofilter.cql2 import (
    ARITHMETIC_MAP,
    ARRAY_PREDICATES_MAP,
    SPATIAL_PREDICATES_MAP,
    TEMPORAL_PREDICATES_MAP,
)

from gis.ogc.cql_text import CQLSyntaxError, bbox_envelope

_COMPARISONS = {"=": ast.Equal, "<>": ast.NotEqual, "<": ast.LessThan, "<=": ast.LessEqual,
                ">": ast.GreaterThan, ">=": ast.GreaterEqual}
_GEOJSON_TYPES = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                  "MultiPolygon", "GeometryCollection"}
#: Functions of the optional CQL2 classes: read, so that the evaluator can name them.
_FUNCTIONS = {"casei", "accenti"}


def _unparsable(node: Any) -> ValueError:
    return ValueError(f"Unable to parse expression node {node!r}")


def _args(node: dict[str, Any], count: int | None = None) -> list[Any]:
    args = node.get("args")
    if not isinstance(args, list) or (count is not None and len(args) != count):
        raise _unparsable(node)
    return args


def _instant(text: Any, kind: str) -> dt.date | dt.datetime | str:
    if text == "..":
        return text
    if not isinstance(text, str):
        raise CQLSyntaxError(f"a {kind} is a string, not {text!r}")
    try:
        if kind == "date":
            if len(text) != 10:
                raise ValueError
            return dt.date.fromisoformat(text)
        value = dt.datetime.fromisoformat(text)
        if value.tzinfo is None:
            raise ValueError
        return value
    except ValueError:
        raise CQLSyntaxError(f"{text!r} is not a {kind}") from None


def _literal_object(node: dict[str, Any]) -> Any:
    if set(node) == {"property"} and isinstance(node["property"], str):
        return ast.Attribute(node["property"])
    if set(node) == {"date"}:
        return _instant(node["date"], "date")
    if set(node) == {"timestamp"}:
        return _instant(node["timestamp"], "timestamp")
    if set(node) == {"interval"} and isinstance(node["interval"], list) \
            and len(node["interval"]) == 2:
        bounds = [_instant(v, "timestamp" if isinstance(v, str) and "T" in v else "date")
                  if isinstance(v, str) else to_ast(v) for v in node["interval"]]
        return values.Interval(*bounds)
    if set(node) == {"bbox"} and isinstance(node["bbox"], list):
        return bbox_envelope(node["bbox"])
    if node.get("type") in _GEOJSON_TYPES and ("coordinates" in node or "geometries" in node):
        return values.Geometry({k: v for k, v in node.items()
                                if k in ("type", "coordinates", "geometries")})
    raise _unparsable(node)


def _operation(node: dict[str, Any]) -> Any:
    op = node["op"]
    if not isinstance(op, str):
        raise _unparsable(node)
    if op in ("and", "or"):
        args = [to_ast(a) for a in _args(node)]
        if len(args) < 2:
            raise _unparsable(node)
        cls = ast.And if op == "and" else ast.Or
        tree = args[0]
        for arg in args[1:]:
            tree = cls(tree, arg)
        return tree
    if op == "not":
        return ast.Not(to_ast(_args(node, 1)[0]))
    if op in _COMPARISONS:
        lhs, rhs = (to_ast(a) for a in _args(node, 2))
        return _COMPARISONS[op](lhs, rhs)
    if op == "like":
        lhs, pattern = (to_ast(a) for a in _args(node, 2))
        return ast.Like(lhs, pattern, False, "%", "_", "\\", False)
    if op == "between":
        args = _args(node)
        if len(args) == 2 and isinstance(args[1], list) and len(args[1]) == 2:
            args = [args[0], *args[1]]  # the draft form [property, [low, high]]
        if len(args) != 3:
            raise _unparsable(node)
        lhs, low, high = (to_ast(a) for a in args)
        return ast.Between(lhs, low, high, False)
    if op == "in":
        lhs, options = _args(node, 2)
        if not isinstance(options, list):
            raise _unparsable(node)
        return ast.In(to_ast(lhs), [to_ast(o) for o in options], False)
    if op == "isNull":
        return ast.IsNull(to_ast(_args(node, 1)[0]), False)
    for table in (SPATIAL_PREDICATES_MAP, TEMPORAL_PREDICATES_MAP, ARRAY_PREDICATES_MAP,
                  ARITHMETIC_MAP):
        if op in table:
            lhs, rhs = (to_ast(a) for a in _args(node, 2))
            return table[op](lhs, rhs)
    if op in _FUNCTIONS:
        return ast.Function(op, [to_ast(a) for a in _args(node)])
    raise _unparsable(node)


def to_ast(node: Any) -> Any:
    """The syntax tree of a decoded CQL2 JSON expression (or of one of its operands)."""
    if isinstance(node, bool | str) or node is None:
        return node
    if isinstance(node, int | float):
        return node
    if isinstance(node, list):
        return [to_ast(item) for item in node]
    if isinstance(node, dict):
        if "op" in node:
            if set(node) - {"op", "args"}:
                raise _unparsable(node)
            return _operation(node)
        return _literal_object(node)
    raise _unparsable(node)
