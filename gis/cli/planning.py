"""``gis reserve``, ``gis control-lines`` and ``gis indicators``: planning checks over whole
jurisdictions, as tables, JSON or xlsx."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from gis.cli.options import DivisionOpt, JsonOpt, OnBehalfOfOpt, XlsxOutputOpt
from gis.cli.output import console, language, print_json
from gis.cli.resources import open_engine
from gis.errors import InputError
from gis.messages import msg, text

if TYPE_CHECKING:
    from pydantic import BaseModel

reserve_app = typer.Typer(help="Village flexible construction-land quota (机动指标).",
                          no_args_is_help=True)
control_lines_app = typer.Typer(help="The three control lines together.", no_args_is_help=True)


def _emit(rows: Sequence[BaseModel], columns: list[str], title: str, sheet: str,
          json_out: bool, output: Path | None) -> None:
    """One result set as JSON or a table, and as an .xlsx sheet when asked."""
    from gis.reports.tables import to_xlsx

    if output is not None:
        to_xlsx(rows, sheet, output)
    if json_out:
        print_json([r.model_dump(mode="json", exclude={"geometry"}) for r in rows])
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        data = row.model_dump()
        table.add_row(*(_fmt(data.get(c)) for c in columns))
    console.print(table)
    if output is not None:
        console.print(f"wrote {output}")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    return "-" if value is None else str(value)


@reserve_app.command("report")
def reserve_report(division: DivisionOpt = "64", json_out: JsonOpt = False,
                   output: XlsxOutputOpt = None) -> None:
    """Every village plan's flexible quota, its share and compliance, and what is left."""
    from gis.analysis.reserve import village_report

    with open_engine() as engine:
        rows = village_report(engine, division)
    _emit(rows, ["village_code", "village_name", "profile", "share", "comparator", "compliant",
                 "quota_mu", "remaining_m2", "overdrawn"], "Village flexible quota 机动指标",
          "机动指标", json_out, output)


@reserve_app.command("townships")
def reserve_townships(division: DivisionOpt = "64", json_out: JsonOpt = False,
                      output: XlsxOutputOpt = None) -> None:
    """Every township plan's reserved construction-land indicator against its profile."""
    from gis.analysis.reserve import township_report

    with open_engine() as engine:
        rows = township_report(engine, division)
    _emit(rows, ["township_code", "township_name", "profile", "share", "comparator",
                 "compliant", "reserved_mu", "assessment_zh"],
          "Township reserved indicator 乡级预留建设用地指标", "乡级预留指标", json_out, output)


_LEDGER_COLUMNS = ["id", "entry", "draw_date", "project_code", "project_name", "area_m2",
                   "area_mu", "purpose", "reverses", "reversed_by", "reason", "invalid_value",
                   "recorded_by", "on_behalf_of", "actor_verified"]


@reserve_app.command("ledger")
def reserve_ledger(
    village: Annotated[str | None, typer.Argument(
        help="Village code; optional with --invalid (then every village of --division).")
    ] = None,
    invalid: Annotated[bool, typer.Option(
        "--invalid", help="Only rows whose stored area was not a finite number (NaN, "
        "Infinity): kept, excluded from the balance, to be reviewed and reversed.")] = False,
    division: DivisionOpt = "64",
    json_out: JsonOpt = False, output: XlsxOutputOpt = None,
) -> None:
    """The entries on one village's quota: draws, reversals, invalid rows (flagged)."""
    from gis.analysis.reserve import invalid_entries, ledger

    if village is None and not invalid:
        raise InputError(msg("command.ledger_needs_village"))
    with open_engine() as engine:
        rows = (invalid_entries(engine, division) if village is None
                else ledger(engine, village, invalid_only=invalid))
    title = ("Invalid ledger rows 无效台账记录 " if invalid else "Ledger 台账 ") + (
        village or division)
    if not json_out:  # the table says what an "other" draw was for: 其他：<note>
        from gis.analysis.quota_purposes import purpose_text

        rows = [r.model_copy(update={"purpose": purpose_text(r.purpose, r.purpose_note,
                                                             language())}) for r in rows]
    _emit(rows, ["village_code", *_LEDGER_COLUMNS] if village is None else _LEDGER_COLUMNS,
          title, "台账", json_out, output)


@reserve_app.command("reverse")
def reserve_reverse(
    entry: Annotated[int, typer.Argument(help="The ledger entry (draw id) to reverse.")],
    reason: Annotated[str, typer.Option(help="Why the draw was wrong (kept in the ledger).")],
    on_behalf_of: OnBehalfOfOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Undo a wrong draw by a reversal entry; the draw itself is never edited or deleted."""
    from gis.analysis.reserve import reverse
    from gis.identity import Actor

    with open_engine() as engine:
        row = reverse(engine, entry, reason, Actor.cli(on_behalf_of))
    if json_out:
        print_json(row.model_dump(mode="json"))
    else:
        console.print(f"recorded reversal {row.id} of draw {entry}: {row.area_m2:,.2f} m² back "
                      f"to {row.village_code}")


@reserve_app.command("draw")
def reserve_draw(
    village: str,
    project: Annotated[str, typer.Option(help="Project code (项目代码).")],
    purpose: Annotated[str, typer.Option(
        help="key_industry | major_project | ecological_restoration, or other (the rule's "
             "等 opens the list) with --purpose-note saying what for.")],
    purpose_note: Annotated[str | None, typer.Option(
        help="The purpose in words (具体用途): required with --purpose other, at most 200 "
             "characters; optional otherwise.")] = None,
    area_m2: Annotated[float | None, typer.Option(help="Area in m².")] = None,
    area_mu: Annotated[float | None, typer.Option(help="Area in 亩.")] = None,
    name: Annotated[str | None, typer.Option(help="Project name.")] = None,
    date: Annotated[str | None, typer.Option(help="Draw date, YYYY-MM-DD.")] = None,
    on_behalf_of: OnBehalfOfOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Draw on a village's quota; refused if more than what remains."""
    from gis.analysis.reserve import draw
    from gis.identity import Actor
    from gis.numbers import require_finite
    from gis.units import Area

    if (area_m2 is None) == (area_mu is None):
        raise InputError(msg("command.area_once"))
    if area_m2 is not None:
        area = require_finite(area_m2, "--area-m2", exclusive_minimum=0)
    else:
        area = Area.from_mu(require_finite(area_mu, "--area-mu", exclusive_minimum=0)).m2
    try:
        when = dt.date.fromisoformat(date) if date else None
    except ValueError as exc:
        raise InputError(msg("command.bad_date", value=date)) from exc
    with open_engine() as engine:
        row = draw(engine, village, project, area, purpose, when, name,
                   Actor.cli(on_behalf_of), purpose_note)
    if json_out:
        print_json(row.model_dump(mode="json"))
    else:
        console.print(f"recorded draw {row.id}: {row.area_m2:,.2f} m² ({row.area_mu:,.2f} 亩) "
                      f"from {village} for {row.project_code}")


@control_lines_app.command("check")
def control_lines_check(division: DivisionOpt = "64", json_out: JsonOpt = False,
                        output: XlsxOutputOpt = None,
                        tiled: Annotated[bool, typer.Option(
                            "--tiled", help="Find the overlaps tile by tile on "
                            "dask.distributed, as `gis reconcile detect --tiled` (same "
                            "conflicts).")] = False,
                        workers: Annotated[int | None, typer.Option(
                            min=1, help="LocalCluster worker processes for --tiled.")] = None,
                        ) -> None:
    """Overlaps between the red line, permanent basic farmland and the UDB."""
    from gis.analysis.control_lines import line_conflicts
    from gis.analysis.tiled_detection import TileOptions

    if workers is not None and not tiled:
        raise typer.BadParameter(text("tiles.cli.workers_need_tiled", language()),
                                 param_hint="--workers")
    with open_engine() as engine:
        rows = line_conflicts(engine, division,
                              tiles=TileOptions(workers=workers) if tiled else None)
    _emit(rows, ["id", "kind", "key_a", "key_b", "area_m2", "area_mu"],
          "Control-line conflicts 三线冲突", "三线冲突", json_out, output)


def indicators_cmd(division: Annotated[str, typer.Argument(help="Division code.")],
                   json_out: JsonOpt = False, output: XlsxOutputOpt = None) -> None:
    """Indicators (red line, farmland, cultivated land, UDB ratio, forest coverage) against
    the profile's targets for this division. The UDB expansion limit is region-wide: the
    regional figure (over the loaded districts) is judged, each district's own ratio is
    information only; the notes below the table say which is which."""
    from gis.analysis.control_lines import indicators
    from gis.cli.output import language

    with open_engine() as engine:
        rows = indicators(engine, division)
    _emit(rows, ["id", "label_zh", "division", "value", "unit", "target", "comparator",
                 "meets_target", "information_only"],
          f"Indicators 指标 {division}", "指标", json_out, output)
    if not json_out:
        lang = language()
        for row in rows:
            note = row.note_en if lang == "en" else row.note_zh
            if note:
                console.print(f"{row.id}: {note}", soft_wrap=True)
