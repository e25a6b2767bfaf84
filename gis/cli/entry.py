"""The executable's entry point: library errors and an unreachable database as one line.

Kept apart from the commands so that what a user sees when something fails is decided in
one place (``tests/test_cli_usage.py`` runs the real executable, since typer's ``CliRunner``
bypasses this function).
"""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.markup import escape

from gis.cli.output import err_console
from gis.cli.root import app
from gis.errors import GISError


def _fail(title: str, message: str) -> NoReturn:
    err_console.print(f"[bold red]error[/] ({escape(title)}): {escape(message)}",
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

    Usage errors are left to click's own standalone handling rather than caught here by
    class: typer 0.29 raises its vendored click's exceptions, and catching ``click``'s turned
    every usage error into a traceback without any test noticing.
    """
    try:
        app()
    except GISError as exc:
        _fail(exc.title, exc.message)
    except Exception as exc:
        reason = _database_error(exc)
        if reason is None:
            raise
        _fail("Database unavailable",
              f"cannot reach the database ({reason}); start the embedded cluster with "
              "`gis db up` or check GIS_DATABASE_URL")
