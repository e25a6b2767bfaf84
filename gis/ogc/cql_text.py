"""CQL2 Text read into pygeofilter's syntax tree, with our own grammar (``cql2.lark``).

pygeofilter 0.4's own CQL2 Text grammar refuses parts of the standard that clients send:
``NOT (a OR b)``, a bare ``TRUE``/``FALSE``, one-letter property names, ``''`` and ``\\'`` in
strings, ``BBOX`` as a geometry (``S_INTERSECTS(geometry, BBOX(...))``). This parser follows
the standard's BNF and builds the same tree pygeofilter's would (``pygeofilter.ast``), so the
evaluator in :mod:`gis.ogc.cql` is unchanged by where a filter came from. Geometry literals
stay GeoJSON-like dicts in the order written (the evaluator knows the filter CRS's axes).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Transformer, v_args
from pygeofilter import ast, values
from pygeofilter.cql2 import (
    ARRAY_PREDICATES_MAP,
    SPATIAL_PREDICATES_MAP,
    TEMPORAL_PREDICATES_MAP,
)

_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r"}
_ARITHMETIC = {"+": ast.Add, "-": ast.Sub, "*": ast.Mul, "/": ast.Div}


class CQLSyntaxError(ValueError):
    """A literal the grammar accepts but the standard does not (a bad date, a wrong number
    of arguments to a spatial function)."""


def decode_string(token: str) -> str:
    """The value of a character literal: quotes stripped, ``''`` and backslash escapes
    (``\\'``, ``\\a \\b \\t \\n \\v \\f \\r``; any other escaped character stands for itself)."""
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        elif char == "'" and body[i + 1:i + 2] == "'":
            out.append("'")
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _number(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eE") else int(text)


@v_args(inline=True)
class _ToAst(Transformer):
    # -- logic and predicates ---------------------------------------------------------
    def or_(self, lhs, rhs):
        return ast.Or(lhs, rhs)

    def and_(self, lhs, rhs):
        return ast.And(lhs, rhs)

    def not_(self, node):
        return ast.Not(node)

    def compare(self, lhs, op, rhs):
        classes = {"=": ast.Equal, "<>": ast.NotEqual, "<": ast.LessThan,
                   "<=": ast.LessEqual, ">": ast.GreaterThan, ">=": ast.GreaterEqual}
        return classes[str(op)](lhs, rhs)

    def like(self, lhs, pattern, not_=False):
        return ast.Like(lhs, pattern, False, "%", "_", "\\", not_)

    def not_like(self, lhs, pattern):
        return self.like(lhs, pattern, True)

    def between(self, lhs, low, high, not_=False):
        return ast.Between(lhs, low, high, not_)

    def not_between(self, lhs, low, high):
        return ast.Between(lhs, low, high, True)

    def in_(self, lhs, options, not_=False):
        return ast.In(lhs, options, not_)

    def not_in(self, lhs, options):
        return ast.In(lhs, options, True)

    def is_null(self, lhs):
        return ast.IsNull(lhs, False)

    def is_not_null(self, lhs):
        return ast.IsNull(lhs, True)

    def arithmetic(self, lhs, op, rhs):
        return _ARITHMETIC[str(op)](lhs, rhs)

    def negative(self, _minus, value):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value
        return ast.Sub(0, value)

    # -- operands ------------------------------------------------------------------------
    def string(self, token):
        return decode_string(str(token))

    def number(self, token):
        return _number(str(token))

    def negative_number(self, _minus, token):
        return -_number(str(token))

    def number_plus(self, _plus, token):
        return _number(str(token))

    def true(self):
        return True

    def false(self):
        return False

    def date(self, token):
        text = decode_string(str(token))
        try:
            if len(text) != 10:
                raise ValueError
            return dt.date.fromisoformat(text)
        except ValueError:
            raise CQLSyntaxError(f"DATE({text!r}) is not a date (YYYY-MM-DD)") from None

    def timestamp(self, token):
        text = decode_string(str(token))
        try:
            value = dt.datetime.fromisoformat(text)
            if "T" not in text.upper() or value.tzinfo is None:
                raise ValueError
            return value
        except ValueError:
            raise CQLSyntaxError(f"TIMESTAMP({text!r}) is not a UTC timestamp "
                                 "(YYYY-MM-DDThh:mm:ssZ)") from None

    def interval(self, start, end):
        return values.Interval(start, end)

    def property(self, token):
        return ast.Attribute(str(token))

    def quoted_property(self, token):
        return ast.Attribute(str(token)[1:-1])

    def args(self, *items):
        return list(items)

    def function(self, name, args=None):
        args = args or []
        lowered = str(name).lower()
        for table, arity in ((SPATIAL_PREDICATES_MAP, 2), (TEMPORAL_PREDICATES_MAP, 2),
                             (ARRAY_PREDICATES_MAP, 2)):
            if lowered in table:
                if len(args) != arity:
                    raise CQLSyntaxError(f"{name} takes {arity} arguments, not {len(args)}")
                return table[lowered](*args)
        return ast.Function(lowered, args)

    # -- geometry ------------------------------------------------------------------------
    def position(self, *numbers):
        return list(numbers)

    def positions(self, *items):
        return list(items)

    def rings(self, *items):
        return list(items)

    def point(self, position):
        return values.Geometry({"type": "Point", "coordinates": position})

    def linestring(self, positions):
        return values.Geometry({"type": "LineString", "coordinates": positions})

    def polygon(self, rings):
        return values.Geometry({"type": "Polygon", "coordinates": rings})

    def multipoint(self, *positions):
        return values.Geometry({"type": "MultiPoint", "coordinates": list(positions)})

    def multilinestring(self, rings):
        return values.Geometry({"type": "MultiLineString", "coordinates": rings})

    def multipolygon(self, *polygons):
        return values.Geometry({"type": "MultiPolygon", "coordinates": list(polygons)})

    def collection(self, *members):
        return values.Geometry({"type": "GeometryCollection",
                                "geometries": [m.geometry for m in members]})

    def bbox(self, *numbers):
        return bbox_envelope(list(numbers))


def bbox_envelope(numbers: list[Any]) -> values.Envelope:
    """A CQL2 bounding box (west, south, [min height,] east, north[, max height]) as an
    envelope; the numbers are in the filter CRS's axis order, as written."""
    if len(numbers) not in (4, 6) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
        raise CQLSyntaxError("a bounding box has 4 (or 6) numbers")
    w, s, e, n = (numbers[0], numbers[1], numbers[3], numbers[4]) if len(numbers) == 6 \
        else numbers
    return values.Envelope(float(w), float(e), float(s), float(n))


class _KeepSemicolon:
    """lark post-lexer that only keeps the ``SEMICOLON`` terminal in the lexer (lark drops
    terminals no rule uses), so "a = 'x'; DROP" is an unexpected token at the ";"."""

    always_accept = ("SEMICOLON",)

    def process(self, stream):
        return stream


@cache
def _parser() -> Lark:
    grammar = resources.files("gis.ogc").joinpath("cql2.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", transformer=_ToAst(), maybe_placeholders=False,
                postlex=_KeepSemicolon())


def parse_text(text: str) -> Any:
    """The pygeofilter syntax tree of a CQL2 Text filter (lark errors and
    :class:`CQLSyntaxError` for what does not parse)."""
    return _parser().parse(text)
