"""Planning checks over whole jurisdictions: village quotas and their ledger, the three
control lines, indicators. JSON by default, ``.xlsx`` variants for spreadsheets."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import Expensive, Planner, PrincipalDep
from api.deps import EngineDep
from api.models import AreaM2, OnBehalfOf
from gis.analysis import control_lines, reserve
from gis.analysis.quota_purposes import MAX_NOTE
from gis.reports.tables import to_xlsx

router = APIRouter(prefix="/api/v1", tags=["planning"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Division = Annotated[str, Query(description="Division code prefix, e.g. 640202 (Dawukou)",
                                pattern=r"^\d{1,12}$")]


def _xlsx(rows: list, sheet: str, filename: str) -> Response:
    return Response(to_xlsx(rows, sheet), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class DrawRequest(BaseModel):
    project_code: str = Field(min_length=1)
    project_name: str | None = None
    area_m2: AreaM2
    purpose: reserve.Purpose = Field(description=(
        "key_industry | major_project | ecological_restoration, the rule's examples, or "
        "other (its 等 opens the list, 000:856-858, 001:1146-1148): then purpose_note "
        "must say what the draw is for"))
    purpose_note: str | None = Field(None, max_length=MAX_NOTE, description=(
        "The purpose in words (具体用途): required with other, optional otherwise; at most "
        f"{MAX_NOTE} characters"))
    draw_date: dt.date | None = None
    on_behalf_of: OnBehalfOf = None


class ReversalRequest(BaseModel):
    reason: str = Field(min_length=1, description="Why the draw was wrong (kept in the ledger)")
    on_behalf_of: OnBehalfOf = None


@router.get("/reserve/villages", summary="Village flexible quotas and compliance")
async def villages(engine: EngineDep, division: Division = "64") -> list[reserve.VillageQuota]:
    return await run_in_threadpool(reserve.village_report, engine, division)


@router.get("/reserve/villages.xlsx", summary="Village quotas as a spreadsheet",
            dependencies=[Expensive])
async def villages_xlsx(engine: EngineDep, division: Division = "64") -> Response:
    rows = await run_in_threadpool(reserve.village_report, engine, division)
    return _xlsx(rows, "机动指标", f"village-quota-{division}.xlsx")


@router.get("/reserve/townships", summary="Township reserved construction-land indicators")
async def townships(engine: EngineDep, division: Division = "64"
                    ) -> list[reserve.TownshipReserve]:
    return await run_in_threadpool(reserve.township_report, engine, division)


@router.get("/reserve/townships.xlsx", summary="Township reserves as a spreadsheet",
            dependencies=[Expensive])
async def townships_xlsx(engine: EngineDep, division: Division = "64") -> Response:
    rows = await run_in_threadpool(reserve.township_report, engine, division)
    return _xlsx(rows, "乡级预留指标", f"township-reserve-{division}.xlsx")


@router.get("/reserve/villages/{village_code}/ledger", summary="A village's quota ledger")
async def village_ledger(
    village_code: str, engine: EngineDep,
    invalid: Annotated[bool, Query(description=(
        "Only rows whose stored area was not a finite number (quarantined by migration "
        "0009; they count for nothing until reversed)"))] = False,
) -> list[reserve.Draw]:
    return await run_in_threadpool(reserve.ledger, engine, village_code, invalid)


@router.get("/reserve/invalid-entries",
            summary="Ledger rows whose stored area was not a finite number, in a division")
async def invalid_ledger_entries(engine: EngineDep, division: Division = "64"
                                 ) -> list[reserve.Draw]:
    return await run_in_threadpool(reserve.invalid_entries, engine, division)


@router.post("/reserve/villages/{village_code}/draws", status_code=201,
             summary="Draw on a village's flexible quota (planner)", dependencies=[Planner])
async def village_draw(village_code: str, body: DrawRequest, engine: EngineDep,
                       who: PrincipalDep) -> reserve.Draw:
    return await run_in_threadpool(
        reserve.draw, engine, village_code, body.project_code, body.area_m2, body.purpose,
        body.draw_date, body.project_name, who.actor(body.on_behalf_of), body.purpose_note)


@router.post("/reserve/villages/{village_code}/draws/{draw_id}/reversal", status_code=201,
             summary="Reverse a wrong draw by a reversal entry (planner)",
             dependencies=[Planner])
async def reverse_draw(village_code: str, draw_id: int, body: ReversalRequest,
                       engine: EngineDep, who: PrincipalDep) -> reserve.Draw:
    return await run_in_threadpool(
        reserve.reverse, engine, draw_id, body.reason, who.actor(body.on_behalf_of),
        village_code)


@router.get("/control-lines/conflicts",
            summary="Overlaps between the three control lines (planner: red-line data)",
            dependencies=[Planner, Expensive])
async def conflicts(engine: EngineDep, division: Division = "64"
                    ) -> list[control_lines.LineConflict]:
    return await run_in_threadpool(control_lines.line_conflicts, engine, division)


@router.get("/control-lines/conflicts.xlsx", summary="Control-line overlaps as a spreadsheet",
            dependencies=[Planner, Expensive])
async def conflicts_xlsx(engine: EngineDep, division: Division = "64") -> Response:
    rows = await run_in_threadpool(control_lines.line_conflicts, engine, division)
    return _xlsx(rows, "三线冲突", f"control-line-conflicts-{division}.xlsx")


@router.get("/indicators/{division}.xlsx", summary="Indicators as a spreadsheet",
            dependencies=[Expensive])
async def division_indicators_xlsx(division: str, engine: EngineDep) -> Response:
    rows = await run_in_threadpool(control_lines.indicators, engine, division)
    return _xlsx(rows, "指标", f"indicators-{division}.xlsx")


@router.get("/indicators/{division}", summary="Indicators of a division against its targets")
async def division_indicators(division: str, engine: EngineDep
                              ) -> list[control_lines.Indicator]:
    """Each indicator against the target set for its level. The UDB expansion limit
    (003:131-133) is region-wide: ``udb_expansion_ratio`` is the regional figure over the
    loaded districts (``covers``) and is judged; ``udb_expansion_ratio:<county>`` is a
    district's own ratio, ``information_only``. ``note_zh``/``note_en`` say what each
    figure covers."""
    return await run_in_threadpool(control_lines.indicators, engine, division)
