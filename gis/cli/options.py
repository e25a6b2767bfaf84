"""Options shared by several commands, defined once so that the same flag means the same
thing (and is spelt and explained the same way) in every command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]

#: Who acts is the operating-system user (``cli:<user>``, see gis.identity); a name given here
#: is recorded next to it as "on behalf of", never in its place.
OnBehalfOfOpt = Annotated[str | None, typer.Option(
    "--on-behalf-of", help="Recorded in the history as 'on behalf of' (the actor is "
    "cli:<your OS user>).")]


def division_option(help_text: str = "Division code, e.g. 640202 (Dawukou).") -> Any:
    """``--division``; the help says whether the code is matched exactly or as a prefix."""
    return typer.Option("--division", help=help_text)


def output_option(help_text: str | None = None) -> Any:
    """``-o/--output``: the file a command writes; the help says which formats."""
    return typer.Option("--output", "-o", help=help_text)


#: A jurisdiction for the planning checks (every division whose code starts with it).
DivisionOpt = Annotated[str, division_option()]
#: The planning checks' spreadsheet.
XlsxOutputOpt = Annotated[Path | None, output_option("Write an .xlsx file.")]
