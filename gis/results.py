"""What the analyst's methods return: tables that convert without ceremony and render in
Jupyter.

A ``Result`` holds the rows an analysis produced (plain dicts, the analysis models
dumped) and, where the analysis has one, a geometry per row in EPSG:4490. ``to_frame()`` is a
pandas DataFrame, ``to_geodataframe()`` a GeoDataFrame, both with areas in m², 亩 and ha
wherever the rows carry an area; ``_repr_html_`` is what a notebook shows; ``explore()`` draws
the rows on a Leaflet map in the catalogue's styles (``gis.explore``).

``SitingCheck`` adds what a planner reads first: the verdict, the approval path and the
rules that decided it, each with its citation. The analyses' own models stay available
(``SitingCheck.results``), so nothing the library knows is lost in the conversion.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.errors import InputError
from gis.messages import DEFAULT_LANG, Lang, label, msg, text
from gis.units import M2_PER_HA, M2_PER_MU

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

    from gis.analysis.siting_models import SitingResult

#: Rows a notebook shows before "… rows, the first 20 shown".
SHOWN = 20


def with_areas(frame: pd.DataFrame) -> pd.DataFrame:
    """Every area column in m² (``area_m2``, ``quota_m2``, ``红线核心区_m2`` ...) followed by
    its 亩 and ha (``_mu``, ``_ha``; 1 亩 = 10000/15 m², 1 ha = 10000 m²), computed from it,
    so the three never disagree; columns already there are kept."""
    for column in [c for c in frame.columns if isinstance(c, str) and c.endswith("_m2")]:
        stem = column[:-3]
        at = list(frame.columns).index(column)
        for suffix, factor in (("_mu", M2_PER_MU), ("_ha", M2_PER_HA)):
            at += 1
            if stem + suffix not in frame.columns:
                values = pd.to_numeric(frame[column], errors="coerce") / factor
                frame.insert(min(at, len(frame.columns)), stem + suffix, values)
    return frame


def areas(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame:
    """A copy of ``frame`` with the ellipsoidal area of each geometry (CGCS2000/GRS80, as
    the survey measures) in ``area_m2``, ``area_mu`` and ``area_ha``: the same areas as the
    layers' stored ones, for pieces an analyst cut (an overlay, a buffer) in any CRS.

    Examples:
        >>> import gis
        >>> land = gis.connect().read("cultivated_land", limit=3)
        >>> measured = gis.areas(land.drop(columns=["area_m2", "area_mu", "area_ha"]))
        >>> bool(((measured["area_m2"] - land["area_m2"]).abs() < 0.01).all())
        True
    """
    import geopandas as gpd
    import numpy as np

    from gis.units import ellipsoidal_areas

    out = (frame.to_frame() if isinstance(frame, gpd.GeoSeries) else frame).copy()
    if out.crs is None:
        raise InputError(msg("onemap.no_crs"))
    lonlat = out.geometry.to_crs("EPSG:4490")
    out = out.drop(columns=["area_m2", "area_mu", "area_ha"], errors="ignore")
    out["area_m2"] = ellipsoidal_areas(np.asarray(lonlat.values, dtype=object))
    return with_areas(out)


class Result:
    """Rows of an analysis, with a geometry per row where the analysis has one.

    Examples:
        >>> import gis
        >>> om = gis.connect()
        >>> conflicts = om.control_line_conflicts("640202")
        >>> len(conflicts) == len(conflicts.to_frame())
        True
        >>> sorted({"area_m2", "area_mu", "area_ha"} & set(conflicts.to_frame().columns))
        ['area_ha', 'area_m2', 'area_mu']
    """

    def __init__(self, kind: str, rows: Sequence[Mapping[str, Any]],
                 geometries: Sequence[Any] | None = None, *, lang: Lang = DEFAULT_LANG,
                 note: str | None = None, recorded: Any = None,
                 explorer: Any = None) -> None:
        self.kind = kind
        self.rows = [dict(r) for r in rows]
        self.geometries = list(geometries) if geometries is not None else None
        self.lang = lang
        #: A line under the title (a dry run, the run recorded).
        self.note = note
        #: What the analysis recorded (its summary model) when asked to, else None.
        self.recorded = recorded
        self._explorer = explorer

    @property
    def title(self) -> str:
        """The analysis's name in the result's language.

        Examples:
            >>> import gis
            >>> gis.connect(lang="en").indicators("640104").title
            'Indicators and targets'
        """
        return text(f"onemap.title.{self.kind}", self.lang)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}: {len(self)} rows>"

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (no geometry), areas in m², 亩 and ha.

        Examples:
            >>> import gis
            >>> quota = gis.connect().quota("640104")
            >>> frame = quota.to_frame()
            >>> bool(((frame["quota_mu"] - frame["quota_m2"] * 15 / 10000).abs() < 1e-9).all())
            True
        """
        return with_areas(pd.DataFrame(self.rows))

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """The rows as a GeoDataFrame in EPSG:4490 (CGCS2000), areas in m², 亩 and ha.

        Examples:
            >>> import gis
            >>> frame = gis.connect().control_line_conflicts("64").to_geodataframe()
            >>> frame.crs.to_epsg()
            4490
        """
        import geopandas as gpd
        import shapely

        if self.geometries is None:
            raise InputError(msg("onemap.no_geometry", title=self.title))
        shapes = [g if g is None or isinstance(g, shapely.Geometry)
                  else shapely.geometry.shape(g) for g in self.geometries]
        return gpd.GeoDataFrame(self.to_frame(), geometry=shapes, crs="EPSG:4490")

    def explore(self, m: folium.Map | None = None) -> folium.Map:
        """The rows on a map in the catalogue's styles (rows naming a ``layer`` in its
        colours), offline like the portal; ``m`` adds them to a map already drawn.

        Examples:
            >>> import gis
            >>> m = gis.connect().control_line_conflicts("64").explore()
            >>> type(m).__name__
            'Map'
        """
        if self._explorer is None or self.geometries is None:
            raise InputError(msg("onemap.no_geometry", title=self.title))
        return self._explorer(self.to_geodataframe(), self.title, m)

    # -- Jupyter ------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        frame = self.to_frame()
        head = f"<h4>{html.escape(self.title)}</h4>"
        if self.note:
            head += f"<p><em>{html.escape(self.note)}</em></p>"
        count = (text("onemap.rows", self.lang, count=len(frame)) if len(frame) <= SHOWN else
                 text("onemap.rows_shown", self.lang, count=len(frame), shown=SHOWN))
        shown = frame.head(SHOWN).drop(columns=[c for c in frame.columns
                                               if c in ("geometry", "parcels")], errors="ignore")
        body = shown.to_html(index=False, escape=True, na_rep="", float_format=_number)
        return f"{head}{self._citations_html()}{body}<p>{html.escape(count)}</p>"

    def _citations_html(self) -> str:
        """The rules these rows cite, once each: the quote and where it stands."""
        cited: dict[str, str] = {}
        for row in self.rows:
            citation, quote = row.get("citation"), row.get("rule_text_zh")
            if isinstance(citation, Mapping):
                where = f"{str(citation.get('seed', ''))[:3]}:{citation.get('lines', '')}"
                cited.setdefault(where, quote or citation.get("quote") or "")
        if not cited:
            return ""
        items = "".join(f"<li>{html.escape(q)} <small>({html.escape(w)})</small></li>"
                        for w, q in cited.items())
        return f"<p>{html.escape(text('onemap.word.citation', self.lang))}:</p><ul>{items}</ul>"


def _number(value: float) -> str:
    return f"{value:,.4f}".rstrip("0").rstrip(".")


class SitingCheck(Result):
    """Siting checks, one row per footprint: the verdict, the areas overlapping each control
    layer, the approval path; ``results`` keeps each full
    ``gis.analysis.siting_models.SitingResult`` (rules, conditions, citations).

    Examples:
        >>> import gis
        >>> om = gis.connect()
        >>> site = {"type": "Polygon", "coordinates": [[[106.3762, 39.0342],
        ...     [106.3777, 39.0342], [106.3777, 39.0355], [106.3762, 39.0355],
        ...     [106.3762, 39.0342]]]}
        >>> check = om.check_siting(site, "DEV", new_construction_land=True,
        ...                         profile="dawukou")
        >>> check.verdict
        'no_conflict'
    """

    def __init__(self, ids: Sequence[Any], activities: Sequence[str],
                 results: Sequence[SitingResult | None], errors: Sequence[str | None], *,
                 lang: Lang = DEFAULT_LANG, note: str | None = None,
                 explorer: Any = None) -> None:
        from gis.analysis.siting_batch import OVERLAP_COLUMNS

        rows, shapes = [], []
        for ident, activity, result, error in zip(ids, activities, results, errors,
                                                  strict=True):
            row: dict[str, Any] = {"id": ident, "activity": activity}
            if result is None:
                rows.append({**row, "verdict": "error", "error": error or ""})
                shapes.append(None)
                continue
            row |= {"verdict": result.verdict, "area_m2": result.footprint_area.area_m2}
            for layer, zone, name in OVERLAP_COLUMNS:
                row[f"{name}_m2"] = sum(o.area_m2 for o in result.overlaps
                                        if o.layer == layer and zone in (None, o.zone))
            row["rules"] = "; ".join(f"{r.rule_id}={r.verdict}" for r in result.rules)
            row["approval_path"] = result.approval_path.id if result.approval_path else ""
            row["error"] = ""
            rows.append(row)
            shapes.append(result.footprint_geojson)
        super().__init__("siting", rows, shapes, lang=lang, note=note, explorer=explorer)
        #: The full result of each footprint (None where the footprint failed).
        self.results = list(results)

    @property
    def verdict(self) -> str:
        """The most severe verdict over the footprints checked (``error`` if one failed).

        Examples:
            >>> import gis
            >>> projects = gis.connect().read("projects")
            >>> gis.connect().check_siting(projects, "DEV", new_construction_land=True,
            ...     activity_field="activity_code", id_field="name").verdict
            'prohibited'
        """
        from gis.analysis.siting import overall

        if any(r is None for r in self.results):
            return "error"
        return overall([r for r in self.results if r is not None])  # type: ignore[arg-type]

    @property
    def approval_path(self) -> Any:
        """The approval path of a single footprint's check (None when prohibited or when no
        justification is needed).

        Examples:
            >>> import gis
            >>> om = gis.connect()
            >>> b = om.read("projects", where="name = '贺兰山保护区大武口管护站巡护用房'")
            >>> om.check_siting(b, "LA1", new_construction_land=True,
            ...                 profile="dawukou").approval_path.organizer_zh
            '县（市、区）人民政府'
        """
        first = self.results[0] if len(self.results) == 1 else None
        return first.approval_path if first is not None else None

    def _counts_html(self) -> str:
        """A batch's verdicts counted, most severe first, each named in the language."""
        from gis.rules.models import VERDICT_ORDER

        counts = pd.Series([r["verdict"] for r in self.rows]).value_counts()
        order = ["error", *reversed(VERDICT_ORDER)]
        names = [(text("onemap.word.error", self.lang) if v == "error"
                  else label("verdict", v, self.lang), int(counts[v]))
                 for v in order if v in counts.index]
        shown = ", ".join(f"{html.escape(name)} {count}" for name, count in names)
        return f"<p><b>{html.escape(text('onemap.word.verdict', self.lang))}</b>: {shown}</p>"

    def overlaps(self) -> gpd.GeoDataFrame:
        """The overlap pieces of every footprint (``id`` of the footprint, layer, zone, areas
        in m², 亩 and ha, the features touched) in EPSG:4490.

        Examples:
            >>> import gis
            >>> om = gis.connect()
            >>> a = om.read("projects", where="name = '贺兰山东麓观光索道项目'")
            >>> pieces = om.check_siting(a, "LA5", new_construction_land=True).overlaps()
            >>> sorted(set(pieces["layer"]))
            ['eco_redline']
        """
        import geopandas as gpd
        import shapely

        rows, shapes = [], []
        for ident, result in zip((r["id"] for r in self.rows), self.results, strict=True):
            for o in (result.overlaps if result is not None else []):
                rows.append({"id": ident, "layer": o.layer, "layer_zh": o.layer_zh,
                             "zone": o.zone, "area_m2": o.area_m2, "share": o.share,
                             "features": ", ".join(f.key or str(f.id) for f in o.features)})
                shapes.append(shapely.geometry.shape(o.geometry))
        frame = gpd.GeoDataFrame(rows, geometry=shapes, crs="EPSG:4490")
        return with_areas(frame) if rows else frame

    def _repr_html_(self) -> str:
        if len(self.results) != 1 or self.results[0] is None:
            return self._counts_html() + super()._repr_html_()
        r = self.results[0]

        def t(key: str) -> str:
            return html.escape(text(f"onemap.word.{key}", self.lang))

        verdict = html.escape(label("verdict", r.verdict, self.lang))
        area = r.footprint_area
        parts = [(f"<h4>{html.escape(self.title)}: {html.escape(r.activity)} "
                  f"{html.escape(r.activity_zh)}</h4>"),
                 (f"<p><b>{t('verdict')}</b>: {verdict} ({r.verdict}); {t('footprint')} "
                  f"{area.area_m2:,.2f} m² = {area.area_mu:,.2f} 亩 = {area.area_ha:,.4f} ha</p>")]
        path = r.approval_path
        if path is None:
            parts.append(f"<p><b>{t('approval_path')}</b>: {t('no_path')}</p>")
        else:
            steps = [(t(k), getattr(path, f"{k}_zh")) for k in ("organizer", "reviewer", "decider")]
            parts.append(f"<p><b>{t('approval_path')}</b>: {html.escape(path.id)} "
                         f"({html.escape(path.citation.label())})</p><ul>"
                         + "".join(f"<li>{k}: {html.escape(v)}</li>" for k, v in steps if v)
                         + f"<li>{t('document')}: {html.escape(path.document_zh)}</li></ul>")
        parts.append(f"<p><b>{t('rules')}</b>:</p><table><tr><th>rule</th>"
                     f"<th>{t('verdict')}</th><th>{t('citation')}</th></tr>")
        for f in r.rules:
            parts.append(f"<tr><td>{html.escape(f.rule_id)}</td><td>"
                         f"{html.escape(label('verdict', f.verdict, self.lang))}</td><td>"
                         f"{html.escape(f.text_zh)} <small>({html.escape(f.citation.label())}, "
                         f"{html.escape(f.citation.section)})</small></td></tr>")
        parts.append("</table>")
        if r.warnings:
            words = [w.message_en if self.lang == "en" else w.message_zh for w in r.warnings]
            items = "".join(f"<li>{html.escape(w)}</li>" for w in words)
            parts.append(f"<p><b>{t('warnings')}</b>:</p><ul>{items}</ul>")
        return "".join(parts)


class QuotaReport(Result):
    """Village plans' flexible quotas (one row per village plan, with its outline), and the
    way to the township reserves and a village's ledger.

    Examples:
        >>> import gis
        >>> quota = gis.connect().quota("64")
        >>> int(quota.to_frame()["compliant"].sum()) < len(quota)
        True
    """

    def __init__(self, rows: Sequence[Mapping[str, Any]], geometries: Sequence[Any], *,
                 townships: Any, ledger: Any, lang: Lang = DEFAULT_LANG,
                 explorer: Any = None) -> None:
        super().__init__("quota", rows, geometries, lang=lang, explorer=explorer)
        self._townships, self._ledger = townships, ledger

    def townships(self) -> Result:
        """Township plans' reserved construction-land indicator against their rule.

        Examples:
            >>> import gis
            >>> frame = gis.connect().quota("640202").townships().to_frame()
            >>> bool(frame["township_code"].str.startswith("640202").all())
            True
        """
        return self._townships()

    def ledger(self, village_code: str) -> Result:
        """A village's quota ledger: its draws and reversals, who recorded them.

        Examples:
            >>> import gis
            >>> quota = gis.connect().quota("64")
            >>> drawn = quota.to_frame().set_index("village_code")["drawn_m2"]
            >>> code = drawn.idxmax()
            >>> ledger = quota.ledger(code).to_frame()
            >>> bool(abs(ledger["area_m2"].sum() - drawn[code]) < 0.01)
            True
        """
        return self._ledger(village_code)
