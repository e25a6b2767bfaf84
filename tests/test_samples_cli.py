"""``gis samples load`` as ``make run`` calls it, through the real executable: the sample
one-map, the quota ledger and one monitoring run of the sample land cover (2020 -> 2023), so the
red-line monitoring layer and the portal's two-date swipe have something to show; a second
call adds nothing (``make run`` is idempotent)."""

from __future__ import annotations

from sqlalchemy import Engine, text

from tests.server_fixtures import SAMPLES
from tests.test_cli_usage import run_gis


def _counts(engine: Engine) -> tuple[int, int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT (SELECT count(*) FROM monitor_runs), (SELECT count(*) FROM quota_draws), "
            "(SELECT count(*) FROM forest_parcels), "
            "(SELECT count(*) FROM monitor_events)")).one())


def test_samples_load_runs_the_sample_monitoring_once(clean_db: Engine) -> None:
    env = {"GIS_SAMPLES_DIR": str(SAMPLES)}
    first = run_gis("samples", "load", env=env)
    assert first.returncode == 0, first.stderr
    assert "monitoring: land cover 2020 -> 2023 compared" in first.stdout, first.stdout
    runs, draws, parcels, events = _counts(clean_db)
    assert runs == 1 and draws > 0 and parcels > 0 and events > 0
    with clean_db.connect() as conn:
        a, b, date_a, date_b = conn.execute(text(
            "SELECT raster_a, raster_b, date_a::text, date_b::text FROM monitor_runs")).one()
    assert (a, b) == (str(SAMPLES / "landcover_2020.tif"), str(SAMPLES / "landcover_2023.tif"))
    assert date_a.startswith("2020") and date_b.startswith("2023")

    again = run_gis("samples", "load", env=env)
    assert again.returncode == 0, again.stderr
    assert "monitoring:" not in again.stdout and "0 new" in again.stdout, again.stdout
    assert _counts(clean_db) == (runs, draws, parcels, events)
