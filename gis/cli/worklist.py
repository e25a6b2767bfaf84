"""What ``gis reconcile`` and ``gis monitor`` share: the work list's table, one item's
history, the answer to a change, the exports with the list's filters, and the field-check
package and its import. Words are the catalogue's (``GIS_LANG``), codes shown as labels.

Light at import (typer and rich only): the analyses are imported inside the functions, so
``gis --help`` does not pay for them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from gis.cli.options import division_option, output_option
from gis.cli.output import console, language, print_json
from gis.cli.resources import open_engine
from gis.errors import InputError
from gis.messages import label, msg, text

if TYPE_CHECKING:
    from gis.analysis.worklist import Event, WorkList

KindOpt = Annotated[str | None, typer.Option(help="Kind (its code).")]
StatusOpt = Annotated[str | None, typer.Option(help="Status: open | field_check | decided | "
                                                    "applied | closed.")]
TownshipOpt = Annotated[str | None, typer.Option(help="Township name.")]
VillageOpt = Annotated[str | None, typer.Option(help="Village name.")]
ExportPathArg = Annotated[Path, typer.Argument(help="The file: .xlsx or .gpkg.")]
PackagePathArg = Annotated[Path, typer.Argument(help="The field-check package (.gpkg).")]
ResultsPathArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                help="A filled-in field-check package.")]
OutputOpt = Annotated[Path | None, output_option("Also write the list as .xlsx or .gpkg.")]
DivisionCodeOpt = Annotated[str | None, division_option("Division code.")]


def items_table(wl: WorkList, title: str, items: list[Any],
                columns: tuple[str, ...]) -> Table:
    """The items as a table: the list's export columns named in ``columns`` (header keys),
    in the terminal's language."""
    lang = language()
    chosen = [c for c in wl.columns if c.header in columns]
    table = Table(title=title)
    for column in chosen:
        table.add_column(text(column.header, lang), overflow="fold",
                         justify="right" if column.kind != "text" else "left")
    for item in items:
        cells = []
        for column in chosen:
            value = column.value(item, lang)
            if column.kind in ("m2", "mu") and value is not None:
                value = f"{value:,.2f}"
            elif column.kind == "ha" and value is not None:
                value = f"{value:,.4f}"
            cells.append("-" if value is None or value == "" else str(value))
        table.add_row(*cells)
    return table


def page_title(key: str, offset: int, count: int, total: int) -> str:
    return text(key, language(), first=offset + 1 if count else 0, last=offset + count,
                total=total)


def print_page(wl: WorkList, key: str, total: int, items: list[Any], offset: int,
               columns: tuple[str, ...], json_out: bool) -> None:
    if json_out:
        print_json({"total": total, "items": [i.model_dump(mode="json") for i in items]})
        return
    console.print(items_table(wl, page_title(key, offset, len(items), total), items, columns))


def history_line(wl: WorkList, event: Event) -> str:
    """One event as a reader sees it: when (Beijing time), who, what (labels), why."""
    from gis.analysis.worklist import beijing

    lang = language()
    details = event.details or {}
    what = label("event_action", event.action, lang)
    if details.get("decision"):
        what += " " + label(wl.decision_group, details["decision"], lang)
    elif details.get("status"):
        what += " " + label(wl.status_group, details["status"], lang)
    elif details.get("result"):
        what += " " + label(wl.decision_group, details["result"], lang)
    version = text("worklist.cli.version", lang, version=event.version) \
        if event.version is not None else ""
    reason = f" — {event.reason}" if event.reason else ""
    return f"{beijing(event.at, seconds=False)} {event.who(lang)} {what}{version}{reason}"


def print_change(wl: WorkList, changed: Any, json_out: bool) -> None:
    """The item after a change (``--json``: with its history, as the API answers)."""
    item, history = changed
    if json_out:
        print_json({**item.model_dump(mode="json"),
                    "history": [e.model_dump(mode="json") for e in history]})
        return
    lang = language()
    decision = label(wl.decision_group, item.decision, lang) if item.decision else "-"
    console.print(text("worklist.cli.changed", lang, noun=text(wl.noun, lang), id=item.id,
                       status=label(wl.status_group, item.status, lang), decision=decision,
                       version=item.version))


def export(wl: WorkList, output: Path, filters: dict[str, Any]) -> None:
    """Write the list (with ``filters``) to .xlsx or .gpkg in the terminal's language."""
    from gis.analysis.worklist_export import export as write

    with open_engine() as engine:
        path = write(engine, wl, output, filters, language())
    console.print(text("worklist.cli.wrote", language(), path=path))


def field_package(wl: WorkList, output: Path, filters: dict[str, Any],
                  json_out: bool) -> None:
    from gis.analysis.worklist_field import package

    with open_engine() as engine:
        summary = package(engine, wl, output, filters, language())
    if json_out:
        print_json(summary.model_dump())
        return
    towns = "、".join(f"{name} {count}" for name, count in summary.townships.items())
    console.print(text("worklist.cli.package", language(), path=str(output),
                       count=summary.items, townships=towns))


def field_import(wl: WorkList, path: Path, on_behalf_of: str | None, json_out: bool) -> None:
    from gis.analysis.worklist_field import import_results
    from gis.identity import Actor

    with open_engine() as engine:
        summary = import_results(engine, wl, path, Actor.cli(on_behalf_of))
    if json_out:
        print_json(summary.model_dump())
        return
    console.print(text("worklist.cli.imported", language(), count=summary.imported,
                       skipped=summary.skipped, boundaries=summary.boundaries,
                       batch=summary.batch))


def layer_title(layer: str) -> str:
    """A catalogue layer by its name in the terminal's language."""
    from gis.analysis.worklist_columns import layer_name

    return layer_name(layer, language())


def parse_date(value: str) -> date:
    """A date given on the command line, YYYY-MM-DD."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(msg("worklist.cli.bad_date", value=value)) from None


def today() -> date:
    """Today in Beijing."""
    from gis.analysis.worklist import beijing_today

    return beijing_today()
