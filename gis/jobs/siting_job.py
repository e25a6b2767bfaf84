"""``siting.batch``: the siting check for every footprint of a GeoJSON FeatureCollection, one
row each (what ``gis check siting FILE -o result.xlsx`` does), plus the rows as a spreadsheet.

The batch logic is :func:`gis.analysis.siting_batch.check_file`'s, unchanged: the collection
is written to a temporary GeoJSON file and read back by it, so a footprint checks the same in
a job as from the command line, and a footprint that fails gets its error in its row.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Engine

from gis.analysis.siting_batch import check_file, write_table
from gis.crs import parse_crs
from gis.errors import GISError
from gis.identity import Actor
from gis.jobs.kind import JobKind, ParamsError
from gis.messages import Joined, msg
from gis.progress import Progress
from gis.rules import UnknownProfile, load_profile

#: Most footprints one job checks (about 10-20 ms each: minutes, not hours).
MAX_FOOTPRINTS = 10_000

Coordinate = Annotated[float, Field(allow_inf_nan=False)]
Position = Annotated[list[Coordinate], Field(min_length=2, max_length=3)]
Ring = Annotated[list[Position], Field(min_length=4)]
PropertyValue = str | int | Annotated[float, Field(allow_inf_nan=False)] | bool | None


class Polygon(BaseModel):
    type: Literal["Polygon"]
    coordinates: Annotated[list[Ring], Field(min_length=1)]


class MultiPolygon(BaseModel):
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[Annotated[list[Ring], Field(min_length=1)]],
                           Field(min_length=1)]


class Feature(BaseModel):
    type: Literal["Feature"]
    geometry: Annotated[Polygon | MultiPolygon, Field(discriminator="type")]
    properties: dict[str, PropertyValue] | None = None


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: Annotated[list[Feature], Field(min_length=1, max_length=MAX_FOOTPRINTS)]


class SitingBatchParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    footprints: FeatureCollection = Field(
        description="GeoJSON FeatureCollection of (Multi)Polygon footprints")
    activity: str = Field(description="Activity code from GET /api/v1/rules/{profile}")
    new_construction_land: bool
    temporary: bool = False
    construction: bool = Field(True, description="Specific construction activity (具体建设活动, "
                               "003:243); false for patrols, monitoring or research without "
                               "facilities")
    linear: bool | None = Field(None, description="Linear infrastructure; null: judged from "
                                "each footprint's shape")
    profile: str = "ningxia"
    crs: str = Field("CRS84", description="CRS of the coordinates (CRS84, EPSG:4544, GCJ02 ...)")
    id_field: str | None = Field(None, description="Property naming each footprint; "
                                 "default: its position, from 1")
    activity_field: str | None = Field(None, description="Property holding each footprint's "
                                       "activity code, overriding `activity`")

    @model_validator(mode="after")
    def _check(self) -> SitingBatchParams:
        try:
            rules = load_profile(self.profile)
        except UnknownProfile as exc:
            raise ParamsError.of(exc) from None
        codes = [a.code for a in rules.activities]
        if self.activity not in codes:
            raise ParamsError(msg("siting.unknown_activity", activity=self.activity,
                                  codes=Joined.of(codes)))
        try:
            parse_crs(self.crs)
        except GISError as exc:
            raise ParamsError.of(exc) from None
        for field in (self.id_field, self.activity_field):
            if field is None:
                continue
            missing = [n for n, f in enumerate(self.footprints.features, start=1)
                       if field not in (f.properties or {})]
            if missing:
                raise ParamsError(msg("job.property_missing", field=field,
                                      numbers=Joined.of(map(str, missing[:10]))))
        return self


def _plain(value: Any) -> Any:
    """A cell as JSON: numpy scalars as Python numbers, NaN (a column an error row lacks) as
    null."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _source(params: SitingBatchParams) -> dict[str, Any]:
    """The collection as a file for check_file: only the properties it reads."""
    keep = {f for f in (params.id_field, params.activity_field) if f}
    features = [{"type": "Feature", "geometry": f.geometry.model_dump(),
                 "properties": {k: v for k, v in (f.properties or {}).items() if k in keep}}
                for f in params.footprints.features]
    return {"type": "FeatureCollection", "features": features}


def run_batch(engine: Engine, params: SitingBatchParams, actor: Actor,
              progress: Progress) -> dict[str, Any]:
    """``check_file`` over the footprints; the result holds the table's columns in order
    (JSON objects keep none) and one object per footprint."""
    with tempfile.TemporaryDirectory(prefix="onemap-siting-") as folder:
        path = Path(folder) / "footprints.geojson"
        path.write_text(json.dumps(_source(params), ensure_ascii=False), encoding="utf-8")
        table = check_file(engine, path, params.activity, params.new_construction_land,
                           params.temporary, params.profile, params.id_field,
                           params.activity_field, params.crs, progress,
                           construction=params.construction, linear=params.linear)
    rows = [{k: _plain(v) for k, v in row.items()} for row in table.to_dict("records")]
    return {"count": len(rows), "verdicts": dict(Counter(r["verdict"] for r in rows)),
            "columns": [str(c) for c in table.columns], "rows": rows}


def spreadsheet(result: dict[str, Any]) -> bytes:
    """The result rows as the same xlsx ``gis check siting ... -o result.xlsx`` writes."""
    table = pd.DataFrame(result["rows"], columns=result["columns"])
    with tempfile.TemporaryDirectory(prefix="onemap-siting-") as folder:
        return write_table(table, Path(folder) / "siting.xlsx").read_bytes()


KIND = JobKind(
    name="siting.batch",
    title="Batch siting check",
    params=SitingBatchParams,
    roles=frozenset({"planner"}),
    run=run_batch,
    spreadsheet=spreadsheet,
)
