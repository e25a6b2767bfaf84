"""Spreadsheets of analysis results, with Chinese headers, for bureau staff."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

#: Chinese headers for the fields analyses report (others keep their names).
HEADERS_ZH = {
    "village_code": "村代码", "village_name": "村名称", "township_name": "乡镇(街道)",
    "profile": "规则配置", "planned_construction_m2": "规划建设用地(平方米)",
    "quota_m2": "机动指标(平方米)", "quota_mu": "机动指标(亩)", "share": "机动指标占比",
    "threshold": "要求比例", "comparator": "比较方式", "tolerance": "容差",
    "compliant": "是否符合", "drawn_m2": "已使用(平方米)", "remaining_m2": "剩余(平方米)",
    "overdrawn": "是否超用", "project_code": "项目代码", "project_name": "项目名称",
    "area_m2": "面积(平方米)", "area_mu": "面积(亩)", "area_ha": "面积(公顷)",
    "draw_date": "使用日期", "purpose": "用途", "recorded_by": "登记人",
    "recorded_at": "登记时间", "kind": "冲突类型", "layer_a": "图层A", "key_a": "要素A",
    "layer_b": "图层B", "key_b": "要素B", "label_zh": "指标", "value": "数值", "unit": "单位",
    "area_km2": "面积(平方千米)", "area_wanmu": "面积(万亩)", "target": "目标值",
    "target_year": "目标年份", "meets_target": "是否达标", "note": "说明",
    "township_code": "乡镇代码", "reserved_m2": "预留指标(平方米)", "reserved_mu": "预留指标(亩)",
    "assessment_zh": "评价", "rule_text_zh": "规则原文", "citation": "依据",
}
#: Where a field means something else in one kind of row (the share of a township plan is its
#: reserved indicator, not a village's flexible quota).
HEADERS_BY_ROW = {"TownshipReserve": {"share": "预留指标占比"}}


def rows_frame(rows: Sequence[BaseModel], drop: Sequence[str] = ("geometry",)) -> pd.DataFrame:
    records = []
    for row in rows:
        record = row.model_dump(mode="json", exclude=set(drop))
        citation = record.pop("citation", None)
        if citation:
            record["citation"] = f"{citation['section']} {citation['seed'][:3]}:{citation['lines']}"
        records.append(record)
    return pd.DataFrame.from_records(records)


def to_xlsx(rows: Sequence[BaseModel], sheet: str, path: Path | None = None) -> bytes:
    """The rows as an xlsx workbook with Chinese headers; written to ``path`` if given."""
    special = HEADERS_BY_ROW.get(type(rows[0]).__name__, {}) if rows else {}
    frame = rows_frame(rows).rename(columns={**HEADERS_ZH, **special})
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet[:31], index=False)
        writer.sheets[sheet[:31]].freeze_panes = "A2"
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data
