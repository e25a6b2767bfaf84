"""The executable's entry point: library errors and an unreachable database as one line.

Kept apart from the commands so that what a user sees when something fails is decided in
one place (``tests/test_cli_usage.py`` runs the real executable, since typer's ``CliRunner``
bypasses this function).
"""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.markup import escape

from gis.cli.output import err_console, language
from gis.cli.root import app
from gis.errors import DatabaseUnavailable, GISError
from gis.messages import text


def _fail(title: str, message: str) -> NoReturn:
    prefix = text("cli.error", language())
    err_console.print(f"[bold red]{prefix}[/] ({escape(title)}): {escape(message)}",
                      soft_wrap=True)
    sys.exit(2)


def _database_error(exc: BaseException) -> str | None:
    """The one-line reason when ``exc`` is the database refusing or dropping the connection."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    lines = [line.strip() for line in str(exc.orig or exc).splitlines() if line.strip()]
    return lines[0] if lines else exc.__class__.__name__


def main() -> None:
    """Entry point. Usage errors (unknown command, missing argument, bad option value) are
    reported by click in standalone mode: the usage, one error line, exit 2. Library errors
    (GISError) and an unreachable database become one line and exit 2. Only a genuine bug
    keeps its traceback.

    Messages are in the terminal's language (:func:`gis.cli.output.language`: ``GIS_LANG``,
    else the locale; Chinese by default). Usage errors are left to click's own standalone
    handling rather than caught here by
    class: typer 0.29 raises its vendored click's exceptions, and catching ``click``'s turned
    every usage error into a traceback without any test noticing.
    """
    try:
        app()
    except GISError as exc:
        lang = language()
        _fail(exc.title_in(lang), exc.render(lang))
    except Exception as exc:
        reason = _database_error(exc)
        if reason is None:
            raise
        lang = language()
        _fail(DatabaseUnavailable.title_in(lang),
              text("cli.database_unavailable", lang, reason=reason))
