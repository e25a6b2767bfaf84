"""Issue 21, defect 4: while the database is away, items and tiles answer 503 with
Retry-After (not 500), /health's 503 does not show where the database is, and after it comes
back the tile pool hands out no dead connection (every tile is 200 at once)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from gis.db.cluster import cluster_from_settings
from gis.tiles import lonlat_to_tile


@pytest.fixture
def tile_url(sample_db) -> str:
    with sample_db.connect() as conn:
        lon, lat = conn.execute(text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) AS c "
            "FROM eco_redline LIMIT 1) s")).one()
    tile = lonlat_to_tile(lon, lat, 10)
    return (f"/ogc/collections/eco_redline/tiles/WebMercatorQuad/"
            f"{tile.z}/{tile.y}/{tile.x}")


def test_outage_is_503_and_recovery_has_no_error(settings, sample_db, role_keys,
                                                 tile_url) -> None:
    assert settings.database.uses_embedded_cluster  # the test restarts it
    cluster = cluster_from_settings(settings)
    items = "/ogc/collections/eco_redline/items?limit=5"
    quick = settings.with_changes(tiles={"pool_timeout_seconds": 2})
    with TestClient(create_app(quick), headers=role_keys["planner"]) as client:
        assert client.get(tile_url).status_code == 200  # the tile pool is open and warm
        assert client.get(items).status_code == 200
        cluster.down()
        try:
            for url in (items, tile_url, "/health"):
                response = client.get(url)
                assert response.status_code == 503, (url, response.status_code, response.text)
                assert int(response.headers["Retry-After"]) > 0
                assert response.headers["content-type"].startswith("application/problem+json")
                assert "127.0.0.1" not in response.text
                assert str(settings.database.port) not in response.text
        finally:
            cluster.up()
        # Every connection the pool held died with the server: none may be handed out.
        statuses = [client.get(tile_url).status_code for _ in range(15)]
        assert statuses == [200] * 15
        assert client.get(items).status_code == 200
        assert client.get("/health").status_code == 200
