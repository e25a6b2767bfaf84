"""The analyses of ``gis.OneMap``: siting, quotas, control lines, indicators,
reconciliation and monitoring as methods returning ``gis.results.Result`` objects.

Inputs are taken in the forms analysts hold them: a footprint as GeoJSON, WKT or a shapely
geometry (one check), a GeoSeries or GeoDataFrame (one check per row, in the frame's CRS) or
the path of a GeoPackage/Shapefile/GeoJSON file (read, then the same). Division codes are
digits (``64`` the region, ``640202`` Dawukou).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.errors import GISError, InputError
from gis.messages import msg, text

if TYPE_CHECKING:
    from gis.results import QuotaReport, Result, SitingCheck

#: File types a footprint may come in (the loader's readers).
FOOTPRINT_FILES = (".gpkg", ".shp", ".geojson", ".json", ".kml", ".gdb", ".zip")


def check_division(division: str) -> str:
    """A division code (1 to 12 digits: ``64`` the region, ``640202`` Dawukou), else a
    clear error rather than an empty answer."""
    import re

    if not re.fullmatch(r"\d{1,12}", str(division)):
        raise InputError(msg("onemap.division_format", division=str(division)))
    return str(division)


def _footprints(footprint: Any, crs: str | None, id_field: str | None,
                activity_field: str | None, activity: str | None
                ) -> tuple[list[Any], list[str], list[str | dict], str]:
    """(ids, activities, geometries as WKT or GeoJSON, CRS) of whatever was handed in."""
    import geopandas as gpd
    import shapely

    if isinstance(footprint, Path) or (
            isinstance(footprint, str) and footprint.lower().endswith(FOOTPRINT_FILES)):
        try:
            footprint = gpd.read_file(footprint)
        except Exception as exc:  # pyogrio raises several classes for unreadable files
            from gis.messages import Foreign

            reason = Foreign(str(exc), msg("siting.batch.unreadable_account"))
            raise InputError(msg("siting.batch.unreadable", name=Path(footprint).name,
                                 reason=reason)) from exc
    if isinstance(footprint, gpd.GeoDataFrame | gpd.GeoSeries):
        frame = footprint if isinstance(footprint, gpd.GeoDataFrame) else footprint.to_frame()
        if frame.empty:
            raise InputError(msg("onemap.no_footprints"))
        source = crs or (frame.crs.to_string() if frame.crs is not None else None)
        if source is None:
            raise InputError(msg("onemap.no_crs"))
        ids = list(frame[id_field]) if id_field else list(frame.index)
        acts = ([str(a) for a in frame[activity_field]] if activity_field
                else [activity] * len(frame))
        return ids, acts, [g.wkt if g is not None else "" for g in frame.geometry], source
    if isinstance(footprint, shapely.Geometry):
        footprint = footprint.wkt
    if not isinstance(footprint, str | dict):
        raise InputError(msg("onemap.footprint_type", kind=type(footprint).__name__))
    return [0], [activity], [footprint], crs or "CRS84"  # type: ignore[list-item]


class Analyses:
    """The analyses as methods (mixed into ``gis.OneMap``)."""

    _backend: Any
    lang: Any
    #: The map maker of results' ``explore()`` (``OneMap._explorer``).
    _explorer: Callable[[], Any]

    def _result(self, kind: str, rows: list[dict[str, Any]], geometries: list[Any] | None,
                note: str | None = None, recorded: Any = None) -> Result:
        from gis.results import Result

        return Result(kind, rows, geometries, lang=self.lang, note=note, recorded=recorded,
                      explorer=self._explorer())

    def check_siting(self, footprint: Any, activity: str | None = None, *,
                     new_construction_land: bool, temporary: bool = False,
                     profile: str = "ningxia", crs: str | None = None,
                     construction: bool = True, linear: bool | None = None,
                     line_width_m: float | None = None, id_field: str | None = None,
                     activity_field: str | None = None, record: bool = False) -> SitingCheck:
        """May a project go here, and by which approval path? One check per footprint
        against the three control lines under ``profile`` (see
        ``gis.analysis.siting.check`` for the declarations).

        A GeoJSON, WKT or shapely footprint is in ``crs`` (default CRS84, lon/lat); a frame
        or a file carries its own. ``activity`` is the profile's activity code for every
        footprint, or ``activity_field`` names a column holding each row's; ``id_field``
        names the rows. In a batch, a footprint that fails is a row with its error, not a
        failed batch (a single footprint's error is raised). ``record`` stores each check
        as a siting run under the caller (over the API every check is stored: the server's
        audit trail).

        Examples:
            >>> import gis
            >>> om = gis.connect()
            >>> projects = om.read("projects")
            >>> checks = om.check_siting(projects, new_construction_land=True,
            ...     activity_field="activity_code", id_field="name", profile="dawukou")
            >>> checks.to_frame().set_index("id").loc["长兴街道社区综合服务中心", "verdict"]
            'no_conflict'
        """
        from gis.results import SitingCheck

        ids, activities, shapes, source = _footprints(footprint, crs, id_field,
                                                      activity_field, activity)
        options = {"new_construction_land": new_construction_land, "temporary": temporary,
                   "profile": profile, "construction": construction, "linear": linear,
                   "line_width_m": line_width_m}
        results, errors = [], []
        for code, shape in zip(activities, shapes, strict=True):
            try:
                if code is None:
                    raise InputError(msg("onemap.no_activity"))
                results.append(self._backend.siting(shape, source, code, options, record))
                errors.append(None)
            except GISError as exc:
                if len(shapes) == 1:
                    raise
                results.append(None)
                errors.append(exc.render(self.lang))
        return SitingCheck(ids, [a or "" for a in activities], results, errors,
                           lang=self.lang, explorer=self._explorer())

    def quota(self, division: str = "64") -> QuotaReport:
        """Village plans' flexible construction-land quota (机动指标) against their
        jurisdiction's rule, with the ledger's balance; one row per village plan, with its
        outline. ``result.townships()`` and ``result.ledger(code)`` go further.

        Examples:
            >>> import gis
            >>> quota = gis.connect().quota("640104")
            >>> sorted(set(quota.to_frame()["comparator"]))
            ['>=']
        """
        from gis.results import QuotaReport

        division = check_division(division)
        rows = self._backend.villages(division)
        outlines = self._outlines("village_plans", "village_code", division)
        return QuotaReport(rows, [outlines.get(r["village_code"]) for r in rows],
                           townships=lambda: self._townships(division), ledger=self._ledger,
                           lang=self.lang, explorer=self._explorer())

    def _outlines(self, layer: str, key: str, division: str) -> dict[str, Any]:
        frame = self._backend.read(layer, None, None, None, None)
        frame = frame[frame[key].astype(str).str.startswith(division[:6])]
        return dict(zip(frame[key], frame.geometry, strict=True))

    def _townships(self, division: str) -> Result:
        rows = self._backend.townships(division)
        outlines = self._outlines("township_plans", "township_code", division)
        return self._result("townships", rows, [outlines.get(r["township_code"]) for r in rows])

    def _ledger(self, village_code: str) -> Result:
        return self._result("ledger", self._backend.ledger(village_code), None)

    def control_line_conflicts(self, division: str = "64") -> Result:
        """Overlaps between the red line, permanent basic farmland and the urban development
        boundary (they must not overlap, 000:834-838), each with its two features and areas.

        Examples:
            >>> import gis
            >>> conflicts = gis.connect().control_line_conflicts("64")
            >>> sorted(set(conflicts.to_frame()["kind"]))
            ['basic_farmland/urban_boundary', 'eco_redline/basic_farmland']
        """
        rows = self._backend.conflicts(check_division(division))
        return self._result("conflicts", [{k: v for k, v in r.items() if k != "geometry"}
                                          for r in rows], [r["geometry"] for r in rows])

    def indicators(self, division: str) -> Result:
        """A division's indicators against the targets set for its level (cultivated land,
        permanent basic farmland, red line, the UDB expansion ratio, forest coverage).

        Examples:
            >>> import gis
            >>> frame = gis.connect().indicators("640202").to_frame()
            >>> "udb_expansion_ratio" in set(frame["id"])
            True
        """
        return self._result("indicators", self._backend.indicators(check_division(division)),
                            None)

    def reconcile(self, division: str, *, profile: str | None = None,
                  record: bool = False) -> Result:
        """Forest-grass reconciliation over a district: overlaps of forest and grassland,
        class mismatches with the land survey, ownership and certificate problems. A dry run
        lists what detection would find; ``record=True`` brings the work list up to date
        under the caller and lists the findings of that run.

        Examples:
            >>> import gis
            >>> found = gis.connect().reconcile("640202")
            >>> found.recorded is None and len(found) > 0
            True
        """
        rows, summary = self._backend.reconcile(check_division(division), profile, record)
        return self._worklist("reconcile", rows, summary)

    def monitor(self, raster_a: str | Path, raster_b: str | Path, *,
                profile: str = "ningxia", date_a: str | None = None,
                date_b: str | None = None, record: bool = False) -> Result:
        """Red-line monitoring: two classified land-cover rasters compared, suspected new
        construction or bare land inside the red line and permanent basic farmland. A dry
        run lists the patches; ``record=True`` records the run and its work list under the
        caller. Over the API the rasters are file names in the server's raster folder.

        Examples:
            >>> import gis
            >>> om = gis.connect()
            >>> a, b = (om.samples_dir / f"landcover_{y}.tif" for y in (2020, 2023))
            >>> sorted(set(om.monitor(a, b).to_frame()["layer"]))
            ['basic_farmland', 'eco_redline']
        """
        rows, summary = self._backend.monitor(raster_a, raster_b, profile, (date_a, date_b),
                                              record)
        return self._worklist("monitor", rows, summary)

    def _worklist(self, kind: str, rows: list[dict[str, Any]], summary: Any) -> Result:
        from gis.messages import label

        geometries = [r.get("geometry") for r in rows]
        group = "finding_kind" if kind == "reconcile" else "patch_kind"
        shown = []
        for r in rows:
            row = {k: v for k, v in r.items() if k != "geometry"}
            row["kind_label"] = label(group, row["kind"], self.lang)
            if isinstance(row.get("parcels"), list):
                row["parcels"] = "; ".join(f"{p['layer']}:{p['key']}" for p in row["parcels"])
            if isinstance(row.get("transitions"), dict):
                row["transitions"] = json.dumps(row["transitions"], ensure_ascii=False)
            shown.append(row)
        note = (text("onemap.dry_run", self.lang) if summary is None else
                text("onemap.recorded", self.lang, run=summary.run_id))
        return self._result(kind, shown, geometries, note, summary)
