"""CQL2 (text and JSON) compiled to SQLAlchemy expressions: parameters, never SQL text.

pygeofilter parses the filter into an AST; this evaluator walks it and accepts only what it
knows: attribute names are looked up in the layer's queryables (anything else is an error, so
a name can never reach SQL), every literal becomes a bound parameter, geometries are bound as
GeoJSON text. Functions, temporal and array operators are refused with a clear message rather
than half-supported.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

from gis.errors import InvalidParameter
from gis.messages import Foreign, Joined, Message, msg
from gis.ogc.crs import ServedCRS

GEOMETRY_NAMES = {"geometry", "geom"}
MAX_FILTER_CHARS = 20_000


class FilterError(InvalidParameter):
    title = "Invalid filter"


def kind_of(python_type: type) -> Message | str:
    """The name of a value type in each language (``str``, ``int`` ... in English)."""
    try:
        return msg(f"ogc.type.{python_type.__name__}")
    except KeyError:
        return python_type.__name__


#: Families of filter nodes we do not evaluate -> what the Chinese message calls them.
_UNSUPPORTED = ((ast.TemporalPredicate, "ogc.cql_temporal"),
                (ast.ArrayPredicate, "ogc.cql_array"), (ast.Arithmetic, "ogc.cql_arithmetic"),
                (ast.SpatialDistancePredicate, "ogc.cql_distance"),
                (ast.Relate, "ogc.cql_relate"))


def _unsupported(node: Any, words: str) -> FilterError:
    """The error for a part of a filter we do not evaluate (``node``, None if unknown)."""
    if node is None:
        account = msg("ogc.cql_other")
    elif isinstance(node, ast.Function):
        account = msg("ogc.cql_function", name=node.name)
    else:
        account = next((msg(key) for cls, key in _UNSUPPORTED if isinstance(node, cls)),
                       msg("ogc.cql_node", node=type(node).__name__))
    return FilterError(msg("ogc.filter_unsupported", reason=Foreign(words, account)))


def _swap(coords: Any) -> Any:
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [coords[1], coords[0], *coords[2:]]
    return [_swap(c) for c in coords]


class _SQLEvaluator(Evaluator):
    def __init__(self, columns: Mapping[str, sa.ColumnElement], geom: sa.ColumnElement,
                 filter_crs: ServedCRS) -> None:
        self.columns = columns
        self.geom = geom
        self.crs = filter_crs

    def adopt(self, node, *sub_args):
        # No handler: the base class raises NotImplementedError with these words.
        raise _unsupported(node, f"Failed to evaluate node of type {type(node)}")

    # -- logic --------------------------------------------------------------------------
    @handle(ast.Not)
    def not_(self, node, sub):
        return sa.not_(sub)

    @handle(ast.And)
    def and_(self, node, lhs, rhs):
        return sa.and_(lhs, rhs)

    @handle(ast.Or)
    def or_(self, node, lhs, rhs):
        return sa.or_(lhs, rhs)

    # -- predicates ---------------------------------------------------------------------
    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node, lhs, rhs):
        ops = {"=": lhs.__eq__, "<>": lhs.__ne__, "<": lhs.__lt__, "<=": lhs.__le__,
               ">": lhs.__gt__, ">=": lhs.__ge__}
        return ops[node.op.value](self._bind(lhs, rhs))

    @handle(ast.Between)
    def between(self, node, lhs, low, high):
        expr = lhs.between(self._bind(lhs, low), self._bind(lhs, high))
        return sa.not_(expr) if node.not_ else expr

    @handle(ast.Like)
    def like(self, node, lhs):
        if not isinstance(node.pattern, str):
            raise FilterError(msg("ogc.filter_like_pattern"))
        # CQL2 wildcards are % and _ (pygeofilter normalises the text form to these).
        expr = lhs.ilike(node.pattern) if node.nocase else lhs.like(node.pattern)
        return sa.not_(expr) if node.not_ else expr

    @handle(ast.In)
    def in_(self, node, lhs, *options):
        expr = lhs.in_([self._bind(lhs, option) for option in options])
        return sa.not_(expr) if node.not_ else expr

    @handle(ast.IsNull)
    def is_null(self, node, lhs):
        return lhs.is_not(None) if node.not_ else lhs.is_(None)

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node, lhs, rhs):
        functions = {"INTERSECTS": sa.func.ST_Intersects, "DISJOINT": sa.func.ST_Disjoint,
                     "CONTAINS": sa.func.ST_Contains, "WITHIN": sa.func.ST_Within,
                     "TOUCHES": sa.func.ST_Touches, "CROSSES": sa.func.ST_Crosses,
                     "OVERLAPS": sa.func.ST_Overlaps, "EQUALS": sa.func.ST_Equals}
        return functions[node.op.value](lhs, rhs)

    @handle(ast.BBox)
    def bbox(self, node, lhs):
        return sa.func.ST_Intersects(lhs, self._envelope(node.minx, node.miny, node.maxx,
                                                         node.maxy))

    # -- operands -----------------------------------------------------------------------
    @handle(ast.Attribute)
    def attribute(self, node):
        if node.name in GEOMETRY_NAMES:
            return self.geom
        column = self.columns.get(node.name)
        if column is None:
            raise FilterError(msg("ogc.filter_unknown_property", name=node.name,
                                  names=Joined.of([*sorted(self.columns), "geometry"])))
        return column

    @handle(values.Geometry)
    def geometry(self, node):
        geometry = dict(node.geometry)
        if self.crs.swap_axes:
            geometry["coordinates"] = _swap(geometry["coordinates"])
        text = json.dumps({"type": geometry["type"], "coordinates": geometry["coordinates"]})
        literal = sa.func.ST_SetSRID(sa.func.ST_GeomFromGeoJSON(sa.bindparam(None, text)),
                                     self.crs.srid)
        return literal if self.crs.srid == 4490 else sa.func.ST_Transform(literal, 4490)

    @handle(values.Envelope)
    def envelope(self, node):
        return self._envelope(node.x1, node.y1, node.x2, node.y2)

    @handle(str, int, float, bool, dt.date, dt.datetime)
    def literal(self, node):
        return node  # bound in the predicate, where the column's type is known

    def _bind(self, column: Any, value: Any) -> Any:
        """A bound parameter of the column's type; a value that cannot be one is an error
        (rather than a database type error later)."""
        if not isinstance(value, (str, int, float, bool, dt.date, dt.datetime)):
            raise FilterError(msg("ogc.filter_literal_needed"))
        python_type = getattr(getattr(column, "type", None), "python_type", str)
        try:
            if python_type is str:
                value = value if isinstance(value, str) else str(value)
            elif python_type is bool:
                if not isinstance(value, bool):
                    raise ValueError
            elif python_type in (int, float):
                if isinstance(value, bool):
                    raise ValueError
                value = python_type(value)
            elif python_type is dt.date:
                if isinstance(value, dt.datetime):
                    value = value.date()
                elif isinstance(value, str):
                    value = dt.date.fromisoformat(value)
        except (ValueError, TypeError):
            name = getattr(column, "name", "property")
            raise FilterError(msg("ogc.filter_value_type", value=value, name=name,
                                  kind=kind_of(python_type))) from None
        return sa.bindparam(None, value, type_=column.type)

    def _envelope(self, x1: float, y1: float, x2: float, y2: float):
        if self.crs.swap_axes:
            x1, y1, x2, y2 = y1, x1, y2, x2
        env = sa.func.ST_MakeEnvelope(*(sa.bindparam(None, float(v)) for v in (x1, y1, x2, y2)),
                                      self.crs.srid)
        return env if self.crs.srid == 4490 else sa.func.ST_Transform(env, 4490)


def _bbox_to_polygon(node: Any) -> Any:
    """pygeofilter 0.4 reads a CQL2-JSON ``{"bbox": [...]}`` with its axes mixed up; turn it
    into the equivalent polygon before parsing."""
    if isinstance(node, dict):
        if set(node) == {"bbox"} and isinstance(node["bbox"], list):
            box = node["bbox"]
            if len(box) not in (4, 6) or not all(isinstance(v, (int, float)) for v in box):
                raise FilterError(msg("ogc.filter_bbox"))
            x1, y1, x2, y2 = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
            return {"type": "Polygon",
                    "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}
        return {k: _bbox_to_polygon(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_bbox_to_polygon(v) for v in node]
    return node


def parse_filter(text: str, lang: str | None) -> Any:
    """The pygeofilter AST of a CQL2 filter in ``cql2-text`` (default) or ``cql2-json``."""
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(msg("ogc.filter_too_long", limit=MAX_FILTER_CHARS))
    lang = (lang or "cql2-text").lower()
    try:
        if lang == "cql2-text":
            return parse_cql2_text(text)
        if lang == "cql2-json":
            return parse_cql2_json(_bbox_to_polygon(json.loads(text)))
    except FilterError:
        raise
    except Exception as exc:  # parser errors come in many types (lark, json, KeyError)
        raise FilterError(msg("ogc.filter_unparsable", language=lang, reason=_parse_error(exc)),
                          parameter="filter") from None
    raise FilterError(msg("ogc.filter_lang", language=lang), parameter="filter-lang")


def _parse_error(exc: Exception) -> Foreign:
    """The parser's words (English) and, for Chinese readers, where the error is."""
    line = getattr(exc, "line", None) or getattr(exc, "lineno", None)
    column = getattr(exc, "column", None) or getattr(exc, "colno", None)
    account = (msg("ogc.filter_syntax_at", line=line, column=column)
               if isinstance(line, int) and isinstance(column, int) and min(line, column) > 0
               else msg("ogc.filter_structure"))
    return Foreign(str(exc).split("\n")[0], account)


def compile_filter(tree: Any, columns: Mapping[str, sa.ColumnElement], geom: sa.ColumnElement,
                   filter_crs: ServedCRS) -> sa.ColumnElement:
    try:
        result = _SQLEvaluator(columns, geom, filter_crs).evaluate(tree)
    except FilterError:
        raise
    except NotImplementedError as exc:
        raise _unsupported(None, str(exc)) from None
    if not isinstance(result, sa.ColumnElement):
        raise FilterError(msg("ogc.filter_not_condition"))
    return result
