"""The analyst's library over the One-Map API: the same calls as
``gis.onemap_local``, answered by a server with an API key, so a notebook runs against a
shared service without database credentials.

Layers come from OGC API - Features (``/ogc/collections/{id}/items``, paged by its ``next``
links, ``bbox`` and CQL2 ``filter`` passed through); the analyses from the API's own
endpoints (``/api/v1/analysis/siting``, ``/api/v1/reserve``, ``/api/v1/control-lines``,
``/api/v1/indicators``, ``/api/v1/reconciliation``, ``/api/v1/monitoring``). What the key may
see and do is the server's decision: a planner layer read with a public key is the API's 404,
raised here as the library's error in the caller's language (problem details are asked for
with ``Accept-Language``).

The server records what it runs: every siting check is stored as a run of the key's holder,
and detection and monitoring update their work lists. A dry run of those two is therefore
refused over the API (``record=True`` says the caller means it) rather than silently written.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import pandas as pd

from gis.errors import (
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    GISError,
    InputError,
    NotFound,
    RateLimited,
    Unauthorized,
)
from gis.layers.catalogue import get_layer
from gis.messages import Foreign, Lang, msg
from gis.onemap_local import Rows

#: HTTP status -> the library's error class (the API maps the other way in api/errors.py).
_ERRORS: dict[int, type[GISError]] = {400: InputError, 401: Unauthorized, 403: Forbidden,
                                      404: NotFound, 409: Conflict, 422: InputError,
                                      429: RateLimited}
#: Features asked for per page (the OGC API's maximum).
PAGE = 10_000


class ApiBackend:
    """One HTTP client on the service at ``url`` with ``key`` (``X-API-Key``)."""

    mode = "api"

    def __init__(self, url: str, key: str | None, lang: Lang, timeout: float = 300) -> None:
        self.url = url.rstrip("/")
        headers = {"Accept-Language": lang, "Accept": "application/json"}
        if key:
            headers["X-API-Key"] = key
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.client.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; a problem answer becomes the library's error with the server's
        words, an unreachable server a ``gis.errors.DatabaseUnavailable``."""
        try:
            answer = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            reason = Foreign(str(exc) or type(exc).__name__, msg("onemap.api_unreachable_account"))
            raise DatabaseUnavailable(msg("onemap.api_unreachable", url=self.url,
                                          reason=reason)) from None
        if answer.is_success:
            try:
                return answer.json()
            except ValueError:
                raise GISError(msg("onemap.api_not_json", url=str(answer.url))) from None
        try:
            problem = answer.json()
            detail = problem.get("detail") or problem.get("title") or answer.reason_phrase
        except ValueError:
            detail = answer.reason_phrase
        error = _ERRORS.get(answer.status_code, GISError)
        raise error(msg("onemap.api_problem", status=answer.status_code, detail=str(detail)))

    # -- layers -----------------------------------------------------------------------------
    def layers(self) -> Rows:
        return [{"id": r["id"], "title_zh": r["title_zh"], "title_en": r["title_en"],
                 "group": r["group"], "sensitivity": r["sensitivity"],
                 "features": r["features"], "fields": [f["name"] for f in r["fields"]]}
                for r in self.call("GET", "/api/v1/layers")]

    def _features(self, layer_id: str, params: dict[str, Any], limit: int | None
                  ) -> list[dict[str, Any]]:
        features: list[dict[str, Any]] = []
        path: str | None = f"/ogc/collections/{layer_id}/items"
        query: dict[str, Any] | None = {**params, "limit": min(limit or PAGE, PAGE), "f": "json"}
        while path is not None and (limit is None or len(features) < limit):
            page = self.call("GET", path, params=query)
            features += page["features"]
            link = next((k["href"] for k in page.get("links", []) if k.get("rel") == "next"),
                        None)
            path, query = (link, None) if link else (None, None)
        return features[:limit] if limit is not None else features

    def division_outline(self, division: str) -> Any:
        """The union of the divisions whose code starts with ``division`` (shapely)."""
        import shapely

        # CQL2 JSON: the code goes in as a value, never spliced into filter text
        like = {"op": "like", "args": [{"property": "code"}, f"{division}%"]}
        found = self._features("admin_divisions", {"filter": json.dumps(like),
                                                   "filter-lang": "cql2-json"}, None)
        if not found:
            raise NotFound(msg("onemap.division_unknown", division=division))
        return shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in found])

    def read(self, layer_id: str, bbox: tuple[float, float, float, float] | None,
             where: str | None, division: str | None, limit: int | None) -> gpd.GeoDataFrame:
        """Items as the local read returns them: ``id``, the catalogue fields, ``area_m2``,
        EPSG:4490. A division is read by its outline's box, then kept where it intersects
        the outline (the OGC API filters by box, not by a stored outline)."""
        layer = get_layer(layer_id)
        params: dict[str, Any] = {}
        outline = self.division_outline(division) if division else None
        if outline is not None:
            box = outline.bounds
            if bbox is not None:
                box = (max(box[0], bbox[0]), max(box[1], bbox[1]),
                       min(box[2], bbox[2]), min(box[3], bbox[3]))
            bbox = box
        if bbox is not None:
            params["bbox"] = ",".join(repr(float(v)) for v in bbox)
        if where:
            params["filter"], params["filter-lang"] = where, "cql2-text"
        features = self._features(layer_id, params, None if outline is not None else limit)
        columns = ["id", *layer.field_names, "area_m2"]
        frame = gpd.GeoDataFrame.from_features(features, crs="OGC:CRS84", columns=None)
        frame = frame.assign(id=[int(f["id"]) for f in features]) if features else frame
        for name in columns:
            if name not in frame.columns:
                frame[name] = pd.Series(dtype=object)
        for field in layer.fields:  # JSON has no dates, and writes 3.0 as 3
            if field.type == "date":
                frame[field.name] = [dt.date.fromisoformat(v) if isinstance(v, str) else None
                                     for v in frame[field.name]]
            elif field.type == "float":
                frame[field.name] = pd.to_numeric(frame[field.name]).astype(float)
        frame["area_m2"] = pd.to_numeric(frame["area_m2"]).astype(float)
        frame = gpd.GeoDataFrame(frame[[*columns, "geometry"]], geometry="geometry",
                                 crs="OGC:CRS84").to_crs("EPSG:4490")
        if outline is not None:
            frame = frame[frame.intersects(outline)]
            frame = frame.head(limit) if limit is not None else frame
        return frame.reset_index(drop=True)

    # -- analyses ---------------------------------------------------------------------------
    def siting(self, footprint: str | dict[str, Any], crs: str, activity: str,
               options: dict[str, Any], record: bool) -> Any:
        """``POST /api/v1/analysis/siting``: the server stores the check as the key
        holder's run whatever ``record`` says (its audit trail), and answers the result."""
        from gis.analysis.siting_models import SitingResult

        body = {"geometry": footprint, "crs": crs, "activity": activity, **options}
        answer = self.call("POST", "/api/v1/analysis/siting", json=body)
        footprint_feature = answer["overlap_geojson"]["features"][0]
        return SitingResult.model_validate({
            **answer, "category": self._category(answer["profile"], activity),
            "footprint_crs": crs, "footprint_geojson": footprint_feature["geometry"],
            "linear_declared": options.get("linear")})

    def _category(self, profile: str, activity: str) -> str:
        rules = self.call("GET", f"/api/v1/rules/{profile}")
        for entry in rules.get("activities", []):
            if entry.get("code") == activity:
                return str(entry.get("category", ""))
        return ""

    def villages(self, division: str) -> Rows:
        return self.call("GET", "/api/v1/reserve/villages", params={"division": division})

    def townships(self, division: str) -> Rows:
        return self.call("GET", "/api/v1/reserve/townships", params={"division": division})

    def ledger(self, village_code: str) -> Rows:
        return self.call("GET", f"/api/v1/reserve/villages/{village_code}/ledger")

    def conflicts(self, division: str) -> Rows:
        return self.call("GET", "/api/v1/control-lines/conflicts",
                         params={"division": division})

    def indicators(self, division: str) -> Rows:
        return self.call("GET", f"/api/v1/indicators/{division}")

    def reconcile(self, division: str, profile: str | None, record: bool
                  ) -> tuple[Rows, Any]:
        from gis.analysis.forest_grass import DetectionSummary

        if not record:
            raise InputError(msg("onemap.api_records_only", what=msg("onemap.title.reconcile")))
        summary = DetectionSummary.model_validate(
            self.call("POST", "/api/v1/reconciliation/runs", json={"division": division}))
        found: Rows = []
        while True:
            page = self.call("GET", "/api/v1/reconciliation/findings", params={
                "division": division, "limit": 1000, "offset": len(found), "geometry": True})
            found += page["items"]
            if not page["items"] or len(found) >= page["total"]:
                break
        # The run's findings: the work list after it, and those it closed (a finding the
        # run found unchanged keeps the last_run of the run that last wrote it).
        return [f for f in found if f["status"] not in ("closed", "applied")
                or f["last_run"] == summary.run_id], summary

    def monitor(self, raster_a: str | Path, raster_b: str | Path, profile: str,
                dates: tuple[str | None, str | None], record: bool) -> tuple[Rows, Any]:
        from gis.analysis.monitoring import RunSummary

        if not record:
            raise InputError(msg("onemap.api_records_only", what=msg("onemap.title.monitor")))
        if any(Path(r).name != str(r) for r in (raster_a, raster_b)):
            raise InputError(msg("onemap.local_path_over_api"))
        summary = RunSummary.model_validate(self.call("POST", "/api/v1/monitoring/runs", json={
            "raster_a": str(raster_a), "raster_b": str(raster_b), "profile": profile,
            "date_a": dates[0], "date_b": dates[1]}))
        page = self.call("GET", "/api/v1/monitoring/patches", params={
            "run": summary.run_id, "limit": 1000, "geometry": True})
        return page["items"], summary
