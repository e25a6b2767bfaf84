"""Field maps: from the field names and values of real source files to the catalogue's.

Real 三调 and forestry files name their fields in pinyin abbreviations (TBBH, DLBM, QSDWMC),
in Chinese (林班, 小班) or in English. Each catalogue field lists the usual names; a user's
``--field-map`` overrides them. Values are then coerced to the field's type, and coded
values (e.g. 核心保护区 -> ``core``) to their canonical spelling, with every failure reported
by row so nothing is dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from gis.errors import FieldMappingError
from gis.layers.catalogue import Layer, LayerField
from gis.messages import msg

_MAX_LISTED = 20
#: PostgreSQL ``integer`` range; binary COPY would otherwise wrap larger values silently.
_INT4 = (-(2**31), 2**31 - 1)
_TRUE = {"1", "true", "t", "y", "yes", "是", "有", "√"}
_FALSE = {"0", "false", "f", "n", "no", "否", "无", ""}


def parse_field_map(spec: str | None) -> dict[str, str]:
    """``--field-map``: a YAML/JSON file of ``source: target`` or inline ``A=b,C=d``."""
    if not spec:
        return {}
    path = Path(spec)
    if path.suffix.lower() in {".yaml", ".yml", ".json"}:
        if not path.exists():
            raise FieldMappingError(msg("field_map.file_missing", spec=spec))
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        if not isinstance(data, dict):
            raise FieldMappingError(msg("field_map.not_mapping", spec=spec))
        return {str(k): str(v) for k, v in data.items()}
    pairs = {}
    for item in spec.split(","):
        if "=" not in item:
            raise FieldMappingError(msg("field_map.bad_item", item=item))
        source, target = (part.strip() for part in item.split("=", 1))
        pairs[source] = target
    return pairs


def resolve_columns(
    layer: Layer, source_columns: list[str], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map catalogue field -> source column. Overrides win over the default aliases."""
    overrides = dict(overrides or {})
    known = set(layer.field_names)
    if unknown := {t for t in overrides.values() if t not in known}:
        raise FieldMappingError(msg("field_map.unknown_targets", unknown=sorted(unknown),
                                    layer=layer.id, fields=layer.field_names))
    by_fold = {c.casefold(): c for c in source_columns}
    if missing := [s for s in overrides if s.casefold() not in by_fold]:
        raise FieldMappingError(msg("field_map.missing_sources", missing=missing,
                                    columns=source_columns))
    mapping: dict[str, str] = {}
    for source, target in overrides.items():
        mapping[target] = by_fold[source.casefold()]
    taken = set(mapping.values())
    for f in layer.fields:
        if f.name in mapping:
            continue
        candidates = [
            by_fold[a.casefold()]
            for a in dict.fromkeys([f.name, *f.source, f.shp])
            if a.casefold() in by_fold and by_fold[a.casefold()] not in taken
        ]
        candidates = list(dict.fromkeys(candidates))
        if len(candidates) > 1:
            raise FieldMappingError(msg("field_map.ambiguous", field=f.name, zh=f.zh,
                                        candidates=candidates, first=candidates[0]))
        if candidates:
            mapping[f.name] = candidates[0]
            taken.add(candidates[0])
    return mapping


def _rows(mask: np.ndarray, row_ids: np.ndarray) -> list[int]:
    return row_ids[mask][:_MAX_LISTED].tolist()


def _as_text(series: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(series):
        values = series.to_numpy()
        finite = np.isfinite(values)
        if np.all(np.mod(values[finite], 1) == 0):  # DBF numeric codes read as floats
            series = series.astype("Int64")
    if pd.api.types.is_bool_dtype(series):
        return series.map({True: "true", False: "false"})
    out = series.astype("string").str.strip()
    return out.mask(out == "", pd.NA).astype(object).where(out.notna(), None)


def _int4_checked(field: LayerField, values: pd.Series, row_ids: np.ndarray) -> pd.Series:
    low, high = _INT4
    bad = (values.notna() & ((values < low) | (values > high))).fillna(False).to_numpy(bool)
    if bad.any():
        raise FieldMappingError(
            msg("field_map.int_out_of_range", field=field.name, zh=field.zh, low=low,
                high=high, rows=_rows(bad, row_ids), example=values[bad].iloc[0]),
            field=field.name, rows=_rows(bad, row_ids),
        )
    return values


def _float_checked(field: LayerField, values: pd.Series, row_ids: np.ndarray) -> pd.Series:
    """Finite and not below the field's minimum: an Infinity or a -1 "unknown" sentinel in a
    quota would otherwise switch a rule off (the database refuses them too)."""
    values = values.astype("Float64")
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    present = values.notna().to_numpy(bool) & ~np.isnan(arr)
    bad = present & ~np.isfinite(arr)
    if field.minimum is not None:
        bad |= present & np.isfinite(arr) & (arr < field.minimum)
    if bad.any():
        key, limit = (("field_map.not_finite", {}) if field.minimum is None
                      else ("field_map.not_finite_min", {"minimum": field.minimum}))
        raise FieldMappingError(
            msg(key, field=field.name, zh=field.zh, rows=_rows(bad, row_ids),
                values=sorted({str(v) for v in arr[bad]})[:5], **limit),
            field=field.name, rows=_rows(bad, row_ids),
        )
    return values.mask(values.notna() & pd.Series(np.isnan(arr), index=values.index), pd.NA)


def coerce(field: LayerField, series: pd.Series, row_ids: np.ndarray) -> pd.Series:
    """Coerce a source column to the field's type; raise with the bad rows on failure."""
    numeric_source = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(
        series)
    if field.type == "float" and numeric_source:
        return _float_checked(field, series, row_ids)
    if field.type == "int" and pd.api.types.is_integer_dtype(series):
        return _int4_checked(field, series.astype("Int64"), row_ids)
    text = _as_text(series)
    present = text.notna().to_numpy()
    if field.type == "text":
        if field.values is None:
            return text
        canon = text.map(lambda v: None if v is None else field.canonical_value(v))
        bad = present & canon.isna().to_numpy()
        if bad.any():
            values = sorted(set(text[bad].tolist()))[:_MAX_LISTED]
            allowed = {k: v for k, v in field.values.items()}
            raise FieldMappingError(
                msg("field_map.bad_code", field=field.name, zh=field.zh, values=values,
                    allowed=allowed, rows=_rows(bad, row_ids)),
                field=field.name, rows=_rows(bad, row_ids),
            )
        return canon
    if field.type in {"int", "float"}:
        numbers = pd.to_numeric(text, errors="coerce")
        bad = present & numbers.isna().to_numpy()
        if field.type == "int":
            arr = numbers.to_numpy(dtype=float)
            bad |= present & np.isfinite(arr) & (np.mod(np.nan_to_num(arr), 1) != 0)
        if bad.any():
            key = "field_map.not_integers" if field.type == "int" else "field_map.not_numbers"
            raise FieldMappingError(
                msg(key, field=field.name, zh=field.zh, rows=_rows(bad, row_ids),
                    values=sorted(set(text[bad].tolist()))[:5]),
                field=field.name, rows=_rows(bad, row_ids),
            )
        if field.type == "int":
            return _int4_checked(field, numbers.astype("Int64"), row_ids)
        return _float_checked(field, numbers, row_ids)
    if field.type == "bool":
        lowered = text.map(lambda v: None if v is None else v.casefold())
        bad = present & ~lowered.isin(_TRUE | _FALSE).to_numpy()
        if bad.any():
            raise FieldMappingError(
                msg("field_map.not_yes_no", field=field.name, zh=field.zh,
                    rows=_rows(bad, row_ids), values=sorted(set(text[bad].tolist()))[:5]),
                field=field.name, rows=_rows(bad, row_ids),
            )
        return lowered.map(lambda v: None if v is None else v in _TRUE).astype("boolean")
    if field.type == "date":
        dates = pd.to_datetime(text, errors="coerce", format="mixed")
        bad = present & dates.isna().to_numpy()
        if bad.any():
            raise FieldMappingError(
                msg("field_map.not_dates", field=field.name, zh=field.zh,
                    rows=_rows(bad, row_ids), values=sorted(set(text[bad].tolist()))[:5]),
                field=field.name, rows=_rows(bad, row_ids),
            )
        return dates.dt.date.astype(object).where(dates.notna(), None)
    raise AssertionError(field.type)


def map_attributes(
    layer: Layer,
    frame: pd.DataFrame,
    row_ids: np.ndarray,
    overrides: Mapping[str, str] | None = None,
    constants: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Build the layer's attribute frame from a source frame.

    Returns the frame (one column per catalogue field, typed) and the mapping used, so the
    summary can show the user which source field fed which column.
    """
    constants = dict(constants or {})
    if unknown := set(constants) - set(layer.field_names):
        raise FieldMappingError(msg("field_map.unknown_constants", unknown=sorted(unknown),
                                    layer=layer.id))
    source_columns = [c for c in frame.columns if c != "geometry"]
    mapping = resolve_columns(layer, source_columns, overrides)
    out = pd.DataFrame(index=frame.index)
    for f in layer.fields:
        if f.name in constants:
            raw = pd.Series([constants[f.name]] * len(frame), index=frame.index, dtype=object)
        elif f.name in mapping:
            raw = frame[mapping[f.name]]
        else:
            raw = None
        values = (coerce(f, raw, row_ids) if raw is not None
                  else pd.Series([None] * len(frame), index=frame.index, dtype=object))
        if f.required:
            missing = values.isna().to_numpy()
            if missing.all() and f.name not in mapping and f.name not in constants:
                raise FieldMappingError(
                    msg("field_map.required_missing", layer=layer.id, field=f.name, zh=f.zh,
                        names=[f.name, *f.source]),
                    field=f.name,
                )
            if missing.any():
                raise FieldMappingError(
                    msg("field_map.required_empty", field=f.name, zh=f.zh,
                        rows=_rows(missing, row_ids)),
                    field=f.name, rows=_rows(missing, row_ids),
                )
        out[f.name] = values
    for name, value in constants.items():
        mapping[name] = f"={value}"
    return out, mapping
