"""The sample one-map in ``data/samples``: loading it (generation comes with the samples).

The samples are one GeoPackage whose layer names are catalogue layer ids; every layer found is
loaded through the same :func:`gis.layers.load.load_file` a user would use, so the demo also
exercises the import path. Loading is an upsert, so a second ``make run`` changes nothing.
"""

from __future__ import annotations

import datetime as dt

import pyogrio
from sqlalchemy import Engine

from gis.identity import Actor
from gis.layers.catalogue import load_catalogue
from gis.layers.load import LoadOptions, LoadSummary, load_file
from gis.layers.versions import VersionSpec
from gis.progress import NullProgress, Progress
from gis.settings import Settings

SAMPLES_GPKG = "onemap_samples.gpkg"
#: What the samples' control lines are loaded as (version 1 of each): approvals as synthetic
#: as the data, with document numbers marked 示例 (sample), in force since 2022-10-01.
SAMPLE_DAY = dt.date(2022, 10, 1)
SAMPLE_VERSIONS = {
    "eco_redline": VersionSpec("approval", "示例-HX-2022-01", None, SAMPLE_DAY),
    "basic_farmland": VersionSpec("approval", "示例-JBNT-2022-01", "自然资源部", SAMPLE_DAY),
    "urban_boundary": VersionSpec("approval", "示例-CZKFBJ-2022-01", "自然资源部", SAMPLE_DAY),
}


def load_samples(engine: Engine, settings: Settings,
                 progress: Progress | None = None) -> list[LoadSummary]:
    path = settings.data.samples_dir / SAMPLES_GPKG
    if not path.exists():
        return []
    available = {str(name) for name, _ in pyogrio.list_layers(path)}
    summaries = []
    for layer in load_catalogue():
        if layer.id in available:
            summaries.append(load_file(
                engine, path, layer.id, LoadOptions(source_layer=layer.id, strict=True,
                                                    version=SAMPLE_VERSIONS.get(layer.id)),
                progress or NullProgress(), settings.data.extent,
            ))
    return summaries


def load_sample_ledger(engine: Engine, settings: Settings, actor: Actor | None = None) -> int:
    """Import the sample quota ledger (the over-drawn village's draws); idempotent."""
    from gis.analysis.reserve import import_ledger

    path = settings.data.samples_dir / SAMPLES_GPKG
    if not path.exists() or "quota_ledger" not in {str(n) for n, _ in pyogrio.list_layers(path)}:
        return 0
    return import_ledger(engine, str(path), actor=actor)


#: The sample land cover of the two monitoring dates, compared once by ``gis samples load``.
SAMPLE_LANDCOVER = ("landcover_2020.tif", "landcover_2023.tif")


def load_sample_monitoring(engine: Engine, settings: Settings, actor: Actor | None = None,
                           progress: Progress | None = None) -> int | None:
    """Compare the sample land cover of 2020 and 2023 once, so that after ``make run`` the
    red-line monitoring layer, its work list and the portal's two-date swipe have a run to
    show. Idempotent: nothing is done when any monitoring run exists (a second run would only
    add history) or the rasters are missing. Returns the new run's id, or None."""
    from sqlalchemy import text

    from gis.analysis.monitoring_run import run

    paths = [settings.data.samples_dir / name for name in SAMPLE_LANDCOVER]
    if not all(path.exists() for path in paths):
        return None
    with engine.connect() as conn:
        if conn.execute(text("SELECT EXISTS (SELECT 1 FROM monitor_runs)")).scalar_one():
            return None
    return run(engine, paths[0], paths[1], actor=actor, progress=progress).run_id
