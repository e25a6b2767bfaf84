"""CQL2 (text and JSON) compiled to SQLAlchemy expressions: parameters, never SQL text.

Our parsers (:mod:`gis.ogc.cql_text`, :mod:`gis.ogc.cql_json`) read the filter into
pygeofilter's syntax tree; this evaluator walks it and accepts only what it knows: attribute
names are looked up in the layer's queryables (anything else is an error, so a name can never
reach SQL), every literal becomes a bound parameter, geometries are checked against the filter
CRS (:mod:`gis.ogc.geometry`) and bound as GeoJSON text. Functions, temporal and array
operators and arithmetic are refused with a clear message rather than half-supported.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle

from gis.errors import InvalidParameter
from gis.messages import Foreign, Joined, Message, msg
from gis.ogc.cql_json import to_ast
from gis.ogc.cql_text import parse_text
from gis.ogc.crs import ServedCRS
from gis.ogc.geometry import envelope, geometry_literal
from gis.ogc.temporal import CHINA_TIME, day_of

GEOMETRY_NAMES = {"geometry", "geom"}
MAX_FILTER_CHARS = 20_000
#: filter-lang values: the standard's two, and the draft name GDAL 3.6 sends for CQL2 Text.
FILTER_LANGS = {"cql2-text": "cql2-text", "cql-text": "cql2-text", "cql2-json": "cql2-json"}
_LITERALS = (str, int, float, bool, dt.date, dt.datetime)


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


def _is_sql(value: Any) -> bool:
    return isinstance(value, sa.ColumnElement)


def _condition(value: Any) -> Any:
    """A boolean literal as SQL ``true``/``false``; anything else as it is."""
    if isinstance(value, bool):
        return sa.true() if value else sa.false()
    return value


class _SQLEvaluator(Evaluator):
    def __init__(self, columns: Mapping[str, sa.ColumnElement], geom: sa.ColumnElement,
                 filter_crs: ServedCRS) -> None:
        self.columns = columns
        self.geom = geom
        self.crs = filter_crs

    def adopt(self, node, *sub_args):
        # A node no handler below covers (a CQL2 class this service does not declare) is a
        # 400 naming it, not pygeofilter's NotImplementedError.
        raise _unsupported(node, f"Failed to evaluate node of type {type(node)}")

    # -- logic --------------------------------------------------------------------------
    @handle(ast.Not)
    def not_(self, node, sub):
        return sa.not_(_condition(sub))

    @handle(ast.And)
    def and_(self, node, lhs, rhs):
        return sa.and_(_condition(lhs), _condition(rhs))

    @handle(ast.Or)
    def or_(self, node, lhs, rhs):
        return sa.or_(_condition(lhs), _condition(rhs))

    # -- predicates ---------------------------------------------------------------------
    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node, lhs, rhs):
        op = node.op.value
        if not _is_sql(lhs) and _is_sql(rhs):  # literal OP property: mirror it
            lhs, rhs = rhs, lhs
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        if _is_sql(lhs):
            rhs = rhs if _is_sql(rhs) else self._bind(lhs, rhs)
        else:
            lhs, rhs = self._literal(lhs), self._literal(rhs)
        ops = {"=": lhs.__eq__, "<>": lhs.__ne__, "<": lhs.__lt__, "<=": lhs.__le__,
               ">": lhs.__gt__, ">=": lhs.__ge__}
        return ops[op](rhs)

    @handle(ast.Between)
    def between(self, node, lhs, low, high):
        lhs = self._property(lhs)
        expr = lhs.between(self._bind(lhs, low), self._bind(lhs, high))
        return sa.not_(expr) if node.not_ else expr

    @handle(ast.Like)
    def like(self, node, lhs):
        if not isinstance(node.pattern, str):
            raise FilterError(msg("ogc.filter_like_pattern"))
        lhs = self._property(lhs)
        # CQL2 wildcards are % and _, its escape character the backslash: PostgreSQL's own.
        expr = lhs.ilike(node.pattern) if node.nocase else lhs.like(node.pattern)
        return sa.not_(expr) if node.not_ else expr

    @handle(ast.In)
    def in_(self, node, lhs, *options):
        lhs = self._property(lhs)
        expr = lhs.in_([self._bind(lhs, option) for option in options])
        return sa.not_(expr) if node.not_ else expr

    @handle(ast.IsNull)
    def is_null(self, node, lhs):
        lhs = lhs if _is_sql(lhs) else self._literal(lhs)
        return lhs.is_not(None) if node.not_ else lhs.is_(None)

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node, lhs, rhs):
        if not (_is_sql(lhs) and _is_sql(rhs)):
            raise FilterError(msg("ogc.filter_geometry_needed", op=node.op.value))
        functions = {"INTERSECTS": sa.func.ST_Intersects, "DISJOINT": sa.func.ST_Disjoint,
                     "CONTAINS": sa.func.ST_Contains, "WITHIN": sa.func.ST_Within,
                     "TOUCHES": sa.func.ST_Touches, "CROSSES": sa.func.ST_Crosses,
                     "OVERLAPS": sa.func.ST_Overlaps, "EQUALS": sa.func.ST_Equals}
        return functions[node.op.value](lhs, rhs)

    @handle(ast.BBox)
    def bbox(self, node, lhs):
        return sa.func.ST_Intersects(lhs, self._box(node.minx, node.miny, node.maxx,
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
        return geometry_literal(dict(node.geometry), self.crs, FilterError)

    @handle(values.Envelope)
    def envelope(self, node):
        return self._box(node.x1, node.y1, node.x2, node.y2)

    @handle(values.Interval)
    def interval(self, node, *bounds):
        return node  # only inside temporal predicates, which are refused by name

    @handle(*_LITERALS)
    def literal(self, node):
        return node  # bound in the predicate, where the column's type is known

    def _box(self, x1: float, y1: float, x2: float, y2: float) -> sa.ColumnElement:
        return envelope((x1, y1, x2, y2), self.crs, FilterError, "filter")

    def _property(self, value: Any) -> sa.ColumnElement:
        if not _is_sql(value):
            raise FilterError(msg("ogc.filter_literal_needed"))
        return value

    @staticmethod
    def _literal(value: Any) -> Any:
        if not isinstance(value, _LITERALS):
            raise FilterError(msg("ogc.filter_literal_needed"))
        return sa.literal(value)

    def _bind(self, column: Any, value: Any) -> Any:
        """A bound parameter of the column's type; a value that cannot be one is an error
        (rather than a database type error later)."""
        if not isinstance(value, _LITERALS):
            raise FilterError(msg("ogc.filter_literal_needed"))
        python_type = getattr(getattr(column, "type", None), "python_type", str)
        try:
            if python_type is str:
                value = value if isinstance(value, str) else str(value)
            elif python_type is bool:
                if not isinstance(value, bool):
                    raise ValueError
            elif python_type in (int, float):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError
                if python_type is int and isinstance(value, float) and not value.is_integer():
                    return sa.bindparam(None, value, type_=sa.Float)  # 3.5 vs an integer
                value = python_type(value)
            elif python_type is dt.date:
                value = _as_date(value)
        except (ValueError, TypeError):
            name = getattr(column, "name", "property")
            raise FilterError(msg("ogc.filter_value_type", value=value, name=name,
                                  kind=kind_of(python_type))) from None
        return sa.bindparam(None, value, type_=column.type)


def _as_date(value: Any) -> dt.date:
    """A date for a date property: a date as it is, a timestamp as its day in China Standard
    Time (the layers' dates are local calendar days), a string as a date or date-time."""
    if isinstance(value, dt.datetime):
        return value.astimezone(CHINA_TIME).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return day_of(value)  # 2022-01-01, 2022-01-01T (GDAL), 2022-01-01T08:00:00Z
    raise ValueError(value)


def parse_filter(text: str, lang: str | None) -> Any:
    """The syntax tree of a CQL2 filter in ``cql2-text`` (default; ``cql-text`` is taken as
    its draft name) or ``cql2-json``."""
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(msg("ogc.filter_too_long", limit=MAX_FILTER_CHARS))
    given = (lang or "cql2-text").lower()
    language = FILTER_LANGS.get(given)
    if language is None:
        raise FilterError(msg("ogc.filter_lang", language=given), parameter="filter-lang")
    try:
        if language == "cql2-text":
            return parse_text(text)
        return to_ast(json.loads(text))
    except FilterError:
        raise
    except Exception as exc:  # parser errors come in many types (lark, json, ValueError)
        raise FilterError(msg("ogc.filter_unparsable", language=given,
                              reason=_parse_error(exc)), parameter="filter") from None


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
        result = _condition(_SQLEvaluator(columns, geom, filter_crs).evaluate(tree))
    except FilterError:
        raise
    except NotImplementedError as exc:  # pygeofilter's own refusal of an unknown node
        raise _unsupported(None, str(exc)) from None
    if not isinstance(result, sa.ColumnElement) or (
            isinstance(result, sa.Column) and not isinstance(result.type, sa.Boolean)):
        raise FilterError(msg("ogc.filter_not_condition"))
    return result
