"""Beijing time: how the bureaus read a time. Stored times are UTC (``timestamptz``); what a
planner reads (reports, the history, the CLI) is China Standard Time, UTC+8, no daylight
saving, and a day in a search is a Beijing day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

#: China Standard Time. A fixed offset rather than ``ZoneInfo("Asia/Shanghai")``: China has
#: kept UTC+8 without daylight saving since 1991, and a fixed offset needs no tz database.
BEIJING = timezone(timedelta(hours=8), "CST")


def beijing(moment: datetime) -> datetime:
    """``moment`` in Beijing time (a naive time is taken as UTC, as the database stores)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING)


def day_start(day: date) -> datetime:
    """The first instant of ``day`` in Beijing."""
    return datetime.combine(day, time.min, BEIJING)


def beijing_text(moment: datetime) -> str:
    """``2026-05-01 16:30`` in Beijing time."""
    return beijing(moment).strftime("%Y-%m-%d %H:%M")
