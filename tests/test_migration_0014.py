"""Migration 0014 on a database that already holds control lines and survey patches: the rows
become version 1 of their layer (basis not recorded, in force from the start), a file loaded
afterwards is version 2 and both stay; the downgrade keeps the latest loaded version only.

A separate database in the session's cluster, brought to revision 0013, filled, upgraded.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import geopandas as gpd
import pytest
from shapely.geometry import box
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from gis.db.migrate import current_revision, head_revision, upgrade
from gis.layers.load import LoadOptions, load_file
from gis.layers.versions import list_versions, versions_in_force

SQUARE = "ST_Multi(ST_GeomFromText('POLYGON((106.3 39.0, 106.31 39.0, 106.31 39.01, " \
         "106.3 39.01, 106.3 39.0))', 4490))"


@pytest.fixture(scope="module")
def old_db(engine: Engine) -> Iterator[Engine]:
    name = f"onemap_mig14_{uuid.uuid4().hex[:8]}"
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    db = create_engine(make_url(engine.url).set(database=name))
    with db.begin() as conn:
        conn.execute(text("CREATE EXTENSION postgis"))
    upgrade(db, "0013")
    with db.begin() as conn:
        conn.execute(text(
            "INSERT INTO eco_redline (redline_code, zone, geom, area_m2) VALUES "
            f"('HX-1', 'general', {SQUARE}, 1000), ('HX-2', 'core', {SQUARE}, 1000)"))
        conn.execute(text(
            "INSERT INTO survey_patches (county_code, patch_no, land_use_code, geom, area_m2) "
            f"VALUES ('640202', '0001', '0103', {SQUARE}, 1000)"))
    upgrade(db)
    yield db
    db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))


def test_rows_loaded_before_become_version_one(old_db: Engine, tmp_path) -> None:
    assert current_revision(old_db) == head_revision()
    first = list_versions(old_db, "eco_redline")
    assert [(v.version, v.basis, v.effective_date, v.features) for v in first] == [
        (1, "unrecorded", None, 2)]
    assert list_versions(old_db, "basic_farmland") == []  # nothing was loaded there
    assert versions_in_force(old_db, dt.date(1990, 1, 1))["eco_redline"].version == 1
    with old_db.connect() as conn:
        assert conn.execute(text(
            "SELECT official_area_m2 FROM survey_patches")).scalar() is None
    path = tmp_path / "redline.gpkg"
    gpd.GeoDataFrame({"HXBM": ["HX-1"], "GKFQ": ["一般控制区"]},
                     geometry=[box(106.3, 39.0, 106.305, 39.005)], crs="EPSG:4490").to_file(path)
    summary = load_file(old_db, path, "eco_redline", LoadOptions())
    assert (summary.version, summary.inserted, summary.updated, summary.deleted) == (2, 0, 1, 1)
    with old_db.connect() as conn:
        rows = conn.execute(text(
            "SELECT version, count(*) FROM eco_redline GROUP BY 1 ORDER BY 1")).all()
    assert [tuple(r) for r in rows] == [(1, 2), (2, 1)]  # both versions kept
    assert versions_in_force(old_db)["eco_redline"].version == 2  # unrecorded: from today


def test_downgrade_keeps_the_latest_version(old_db: Engine) -> None:
    from alembic import command

    from gis.db.migrate import _config

    cfg = _config()
    with old_db.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0013")
    with old_db.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT redline_code FROM eco_redline"))] == [
            "HX-1"]
        assert conn.execute(text(
            "SELECT to_regclass('control_line_versions') IS NULL")).scalar()
    upgrade(old_db)  # and up again: the remaining rows are version 1
    assert [v.version for v in list_versions(old_db, "eco_redline")] == [1]
