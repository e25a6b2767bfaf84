"""Spreadsheets of analysis results, with Chinese headers (the catalogue's
``report.column.*``), for bureau staff."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from gis.messages import DEFAULT_LANG, Lang, label, text

#: The fields analyses report that get a header (``report.column.<field>`` in the catalogue,
#: ``gis/messages/report.yaml``); other fields keep their names.
COLUMNS: tuple[str, ...] = (
    "village_code", "village_name", "township_name", "profile", "planned_construction_m2",
    "quota_m2", "quota_mu", "share", "threshold", "comparator", "tolerance", "compliant",
    "drawn_m2", "remaining_m2", "overdrawn", "project_code", "project_name", "area_m2",
    "area_mu", "area_ha", "draw_date", "purpose", "recorded_by", "recorded_at", "kind",
    "layer_a", "key_a", "layer_b", "key_b", "label_zh", "value", "unit", "area_km2",
    "area_wanmu", "target", "target_year", "meets_target", "note", "township_code",
    "reserved_m2", "reserved_mu", "assessment_zh", "rule_text_zh", "citation", "division",
    "information_only", "covers", "note_zh", "note_en", "entry", "purpose_note", "reverses",
    "reversed_by", "reason", "invalid_value", "on_behalf_of", "actor_verified", "imported",
)
#: Where a field means something else in one kind of row (the share of a township plan is its
#: reserved indicator, not a village's flexible quota): ``report.column.<Row>.<field>``.
COLUMNS_BY_ROW: dict[str, tuple[str, ...]] = {"TownshipReserve": ("share",)}


#: Fields whose values are enum codes or flags, with the label group naming them: a
#: spreadsheet shows 重点产业 and 是, not ``key_industry`` and ``True``.
LABELLED: dict[str, str] = {
    "purpose": "purpose", "comparator": "comparator", "unit": "unit", "entry": "ledger_entry",
    "compliant": "boolean", "overdrawn": "boolean", "meets_target": "boolean",
    "imported": "boolean", "actor_verified": "boolean", "information_only": "boolean",
}
#: Fields given in both languages: a sheet keeps the one in its own language.
BY_LANGUAGE: dict[Lang, tuple[str, ...]] = {"zh": ("note_en",), "en": ("note_zh",)}


def _labelled(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    for field, group in LABELLED.items():
        if field in frame:
            frame[field] = frame[field].map(
                lambda v, g=group: v if v is None or v != v else label(
                    g, str(v).lower() if isinstance(v, bool) else str(v), lang))
    return frame


def headers(lang: Lang = DEFAULT_LANG, row_type: str | None = None) -> dict[str, str]:
    """Field -> column header in ``lang`` for rows of ``row_type`` (a model's class name)."""
    out = {field: text(f"report.column.{field}", lang) for field in COLUMNS}
    for field in COLUMNS_BY_ROW.get(row_type or "", ()):
        out[field] = text(f"report.column.{row_type}.{field}", lang)
    return out


def rows_frame(rows: Sequence[BaseModel], drop: Sequence[str] = ("geometry",)) -> pd.DataFrame:
    records = []
    for row in rows:
        record = row.model_dump(mode="json", exclude=set(drop))
        citation = record.pop("citation", None)
        if citation:
            record["citation"] = f"{citation['section']} {citation['seed'][:3]}:{citation['lines']}"
        for field, value in record.items():
            if isinstance(value, list):  # e.g. the districts a regional figure covers
                record[field] = ", ".join(map(str, value))
        records.append(record)
    return pd.DataFrame.from_records(records)


def to_xlsx(rows: Sequence[BaseModel], sheet: str, path: Path | None = None,
            lang: Lang = DEFAULT_LANG) -> bytes:
    """The rows as an xlsx workbook with headers in ``lang`` (Chinese unless asked); written
    to ``path`` if given."""
    row_type = type(rows[0]).__name__ if rows else None
    frame = rows_frame(rows, drop=("geometry", *BY_LANGUAGE[lang]))
    frame = _labelled(frame, lang).rename(columns=headers(lang, row_type))
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet[:31], index=False)
        writer.sheets[sheet[:31]].freeze_panes = "A2"
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


#: Excel number formats of a ledger's column kinds (``gis.analysis.worklist.ColumnKind``).
LEDGER_FORMATS = {"int": "0", "m2": "#,##0.00", "mu": "#,##0.00", "ha": "#,##0.0000",
                  "datetime": "yyyy-mm-dd hh:mm:ss", "date": "yyyy-mm-dd"}
#: Column kinds summed in a ledger's totals row, and the decimals kept.
LEDGER_TOTALS = {"m2": 2, "mu": 2, "ha": 4}


def _width(value: object) -> int:
    """Columns a value takes in a spreadsheet cell (a CJK character takes two)."""
    import unicodedata

    shown = value.strftime("%Y-%m-%d %H:%M:%S") if hasattr(value, "strftime") else str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in shown)


def ledger_xlsx(headers: Sequence[str], kinds: Sequence[str], rows: Sequence[Sequence[object]],
                sheet: str, totals_label: str, path: Path | None = None) -> bytes:
    """An official ledger as xlsx: a bold, frozen header row with an autofilter over the
    rows, columns as wide as their text, numbers and times in their formats, and a bold
    totals row under the rows summing the area columns (``kinds`` m2, mu, ha)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    totals: list[object] = [None] * len(headers)
    for i, kind in enumerate(kinds):
        if kind in LEDGER_TOTALS:
            totals[i] = round(sum(float(r[i] or 0) for r in rows), LEDGER_TOTALS[kind])
    totals[0] = totals_label
    ws.append(totals)
    bold = Font(bold=True)
    last = len(rows) + 2
    for cell in (*ws[1], *ws[last]):
        cell.font = bold
    for i, kind in enumerate(kinds, start=1):
        letter = get_column_letter(i)
        if kind in LEDGER_FORMATS:
            for r in range(2, last + 1):
                ws[f"{letter}{r}"].number_format = LEDGER_FORMATS[kind]
        values = [headers[i - 1], *(row[i - 1] for row in rows), totals[i - 1]]
        widest = max(_width(v) for v in values if v is not None)
        ws.column_dimensions[letter].width = min(max(widest + 2, 8), 60)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data
