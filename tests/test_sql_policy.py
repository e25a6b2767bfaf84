"""One SQL policy (docs/architecture.md): no SQL is built by pasting strings together.

A long static statement lives in a ``.sql`` file (``gis/analysis/sql``); a statement composed
at run time is SQLAlchemy Core or ``psycopg.sql``, which quote identifiers and bind values.
Every module of ``gis/``, ``api/`` and ``portal/`` is parsed with ``ast``, and the test fails,
naming file:line, on:

- an f-string whose literal text contains an SQL keyword;
- ``"..." % x`` or ``"...".format(...)`` on a string with an SQL keyword (also when the string
  is a constant of the same module);
- ``+`` (or ``+=``) joining a string literal with an SQL keyword to something not a literal.

Keywords are matched in upper case at word boundaries (SELECT, FROM, WHERE, SET, ...): SQL is
written in upper case here and prose is not, so messages do not trip it ("select the
profile"). Docstrings and other bare string expressions are not code and are skipped; user
messages come from the message catalogue, not from SQL-looking literals.

Excluded: the frozen Alembic revisions ``gis/migrations/versions/0001``-``0008`` and
``0010``. They are history (a database is migrated by exactly what they say) and are never
edited; 0009 was rewritten to the policy with the same schema and data effects.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("gis", "api", "portal")
FROZEN = re.compile(r"gis/migrations/versions/(000[1-8]|0010)[^/]*\.py$")
KEYWORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|WHERE|JOIN|CREATE|ALTER|DROP|SET|"
                      r"VALUES|RETURNING|ORDER\s+BY|GROUP\s+BY)\b")


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    form: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.form}: {self.text[:90]!r}"


def _is_sql(text: str | None) -> bool:
    return text is not None and KEYWORDS.search(text) is not None


class _Checker(ast.NodeVisitor):
    """Collects the violations of one module."""

    def __init__(self, path: str, tree: ast.Module) -> None:
        self.path = path
        self.found: list[Violation] = []
        # Names bound to a string literal anywhere in the module: ``_SQL.format(...)`` is the
        # same as formatting the literal.
        self.constants: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.constants[target.id] = node.value.value

    def _string(self, node: ast.AST) -> str | None:
        """The text of a string literal, or of a name bound to one."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        return None

    def _report(self, node: ast.AST, form: str, text: str) -> None:
        self.found.append(Violation(self.path, getattr(node, "lineno", 0), form, text))

    def visit_Expr(self, node: ast.Expr) -> None:
        # A docstring or a bare string expression is documentation, not SQL.
        if isinstance(node.value, (ast.Constant, ast.JoinedStr)):
            return
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        literal = " ".join(v.value for v in node.values
                           if isinstance(v, ast.Constant) and isinstance(v.value, str))
        if _is_sql(literal):
            self._report(node, "f-string", literal)
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Mod):
            text = self._string(node.left)
            if _is_sql(text):
                self._report(node, "% formatting", text or "")
        elif isinstance(node.op, ast.Add):
            operands = self._operands(node)
            literals = [o.value for o in operands
                        if isinstance(o, ast.Constant) and isinstance(o.value, str)]
            sql = next((t for t in literals if _is_sql(t)), None)
            if sql is not None and len(literals) < len(operands):
                self._report(node, "+ concatenation", sql)
            for operand in operands:  # the chain itself is checked once, here
                self.visit(operand)
            return
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        text = self._string(node.value) if isinstance(node.value, ast.Constant) else None
        if isinstance(node.op, ast.Add) and _is_sql(text):
            self._report(node, "+= concatenation", text or "")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "format":
            text = self._string(func.value)
            if _is_sql(text):
                self._report(node, ".format()", text or "")
        self.generic_visit(node)

    @staticmethod
    def _operands(node: ast.AST) -> list[ast.AST]:
        """The operands of a chain ``a + b + c`` (left-nested BinOps), in order."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return [*_Checker._operands(node.left), *_Checker._operands(node.right)]
        return [node]


def check_source(source: str, path: str = "<sample>") -> list[Violation]:
    tree = ast.parse(source, filename=path)
    checker = _Checker(path, tree)
    checker.visit(tree)
    return sorted(checker.found, key=lambda v: (v.line, v.form))


def _modules() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "node_modules" in path.parts or FROZEN.search(relative):
                continue
            files.append(path)
    return files


SAMPLE = '''\
"""Docstrings are prose: SELECT the rows FROM the table WHERE it SETs VALUES."""
TEMPLATE = "SELECT {c} FROM t"
def f(conn, table, where, sql, text):
    """UPDATE nothing here: a docstring."""
    conn.execute(f"SELECT * FROM {table}")
    conn.execute("DELETE FROM %s" % table)
    conn.execute("UPDATE {} SET a = 1".format(table))
    conn.execute("SELECT a FROM t WHERE " + where)
    conn.execute(where + " ORDER BY id")
    conn.execute(TEMPLATE.format(c=table))
    query = text("SELECT a FROM t")
    query += " GROUP BY a"
    conn.execute(sql.SQL("SELECT {} FROM t").format(sql.Identifier(table)))
    conn.execute(text("SELECT a FROM t WHERE id = :id"), {"id": 1})
    conn.execute("SELECT a " "FROM t" + " WHERE b")
    raise ValueError(f"select a profile from {where}; the {table} was SETTLED")
'''


def test_the_checker_catches_each_form_and_nothing_else() -> None:
    found = [(v.line, v.form) for v in check_source(SAMPLE)]
    assert found == [
        (5, "f-string"),
        (6, "% formatting"),
        (7, ".format()"),
        (8, "+ concatenation"),
        (9, "+ concatenation"),
        (10, ".format()"),
        (12, "+= concatenation"),
    ]


def test_frozen_revisions_are_the_only_exclusions() -> None:
    names = {p.name for p in (ROOT / "gis/migrations/versions").glob("*.py")
             if FROZEN.search(p.relative_to(ROOT).as_posix())}
    assert names and all(re.match(r"(000[1-8]|0010)_", n) for n in names)
    assert not any(n.startswith("0009") for n in names)


def test_no_sql_is_built_from_strings() -> None:
    modules = _modules()
    assert len(modules) > 100  # the walk found the code
    violations = [v for path in modules
                  for v in check_source(path.read_text(encoding="utf-8"),
                                        path.relative_to(ROOT).as_posix())]
    assert not violations, (
        "SQL built from strings; use a .sql file, SQLAlchemy Core or psycopg.sql "
        "(docs/architecture.md, One SQL policy):\n" + "\n".join(map(str, violations)))
