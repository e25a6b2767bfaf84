"""The layer extent that tile limits are checked against: cached for a minute, and when it
expires one request reads it again in the background while the others use the old one
(every tile reading ``ST_Extent`` of a million-row table at once cut the throughput to a
third for seconds; docs/benchmarks.md)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from gis.layers.catalogue import get_layer
from gis.tiles import (
    TILE_MAX_AGE,
    cached_layer_bounds,
    claim_bounds_refresh,
    documents,
    layer_bounds,
    lonlat_to_tile,
    refresh_layer_bounds,
)

LAYER = "admin_divisions"


def _age(engine, layer_id: str) -> None:
    """Make the cached extent older than TILE_MAX_AGE."""
    key = (id(engine), layer_id)
    with documents._bounds_lock:
        stamp, bounds = documents._bounds_cache[key]
        documents._bounds_cache[key] = (stamp - TILE_MAX_AGE - 1, bounds)


def _forget(engine, layer_id: str) -> None:
    with documents._bounds_lock:
        documents._bounds_cache.pop((id(engine), layer_id), None)


def test_stale_extent_is_served_while_one_caller_refreshes(sample_db) -> None:
    layer = get_layer(LAYER)
    _forget(sample_db, LAYER)
    assert cached_layer_bounds(sample_db, layer) is None
    with sample_db.connect() as conn:
        truth = tuple(conn.execute(text(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT ST_Extent(geom) e FROM {LAYER}) s")).one())
    assert layer_bounds(sample_db, layer) == truth
    assert cached_layer_bounds(sample_db, layer) == (truth, True)

    _age(sample_db, LAYER)
    assert cached_layer_bounds(sample_db, layer) == (truth, False)  # stale, still there
    assert layer_bounds(sample_db, layer) == truth  # the blocking reader reads it again
    assert cached_layer_bounds(sample_db, layer) == (truth, True)

    _age(sample_db, LAYER)
    assert claim_bounds_refresh(sample_db, layer)
    assert not claim_bounds_refresh(sample_db, layer)  # one refresher at a time
    refresh_layer_bounds(sample_db, layer)
    assert cached_layer_bounds(sample_db, layer) == (truth, True)
    assert claim_bounds_refresh(sample_db, layer)  # released after the refresh
    refresh_layer_bounds(sample_db, layer)


def test_tile_with_an_expired_extent_answers_and_refreshes_it(settings, sample_db) -> None:
    """The request that finds the extent expired is answered with the old one (here planted
    far from Ningxia, so the tile is outside its limits: 404) without waiting for the new
    read; the read then runs in the background, and the next request gets the tile."""
    layer = get_layer(LAYER)
    with TestClient(create_app(settings)) as client, sample_db.connect() as conn:
        lon, lat = conn.execute(text(
            f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM {LAYER} "
            f"ORDER BY code LIMIT 1) s")).one()
        tile = lonlat_to_tile(lon, lat, 8)
        url = f"/ogc/collections/{LAYER}/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"
        assert client.get(url).status_code == 200
        engine = client.app.state.engine
        bounds, fresh = cached_layer_bounds(engine, layer)
        assert fresh and bounds is not None

        elsewhere = (0.0, 0.0, 0.001, 0.001)  # an old extent nowhere near this tile
        with documents._bounds_lock:
            documents._bounds_cache[(id(engine), LAYER)] = (
                time.monotonic() - TILE_MAX_AGE - 1, elsewhere)
        assert client.get(url).status_code == 404  # judged by the stale extent, at once
        deadline = time.monotonic() + 30
        while not cached_layer_bounds(engine, layer)[1]:
            assert time.monotonic() < deadline, "the extent was not read again"
            time.sleep(0.05)
        assert cached_layer_bounds(engine, layer) == (bounds, True)
        assert client.get(url).status_code == 200
