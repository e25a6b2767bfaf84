"""Land-cover tiles of a monitoring run's two dates (issue 23, the swipe between dates), over
HTTP against a live uvicorn server: tile pixels equal the raster's class at the same place,
computed independently (pyproj from the tile pixel's centre to the raster's CRS, then
``dataset.index``), at the planted changes LC-01..LC-04 where 2020 and 2023 differ; the
monitoring rule for access; 4xx problem details for tiles off the grid; 409, not 500, for a
run whose raster has gone; and a CLI run given relative paths stores absolute ones.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

import httpx
import numpy as np
import pyproj
import pytest
import rasterio
import uvicorn
import yaml
from PIL import Image
from sqlalchemy import text

from api.app import create_app
from gis.analysis import monitoring as mon
from gis.layers.load import LoadOptions, load_file
from gis.layers.styles import LAND_COVER_COLOURS
from gis.messages import text as message_text
from gis.rules import load_profile
from gis.tiles.grid import HALF_WIDTH
from gis.tiles.landcover import DATASETS, EMPTY_PNG, DatasetCache, palette, render_png
from tests.conftest import free_port
from tests.test_cli_usage import run_gis
from tests.test_portal_strings import CJK

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
GPKG = SAMPLES / "onemap_samples.gpkg"
LC_2020, LC_2023 = SAMPLES / "landcover_2020.tif", SAMPLES / "landcover_2023.tif"
PLANTED = {s["id"]: s for s in yaml.safe_load(
    (SAMPLES / "planted.yaml").read_text(encoding="utf-8"))["situations"]}
CHANGES = ("LC-01", "LC-02", "LC-03", "LC-04")
MONITOR_TABLES = "monitor_events, monitor_patches, monitor_runs"
ZOOM = 16
TO_3857 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)


def colour_of(value: int) -> tuple[int, int, int, int]:
    """The RGBA a class value should have: its class colour (styles), transparent else."""
    codes = {c.value: c.code for c in load_profile("ningxia").monitoring.classes}
    if value not in codes:
        return (0, 0, 0, 0)
    colour = LAND_COVER_COLOURS[codes[value]]
    return (*(int(colour[i:i + 2], 16) for i in (1, 3, 5)), 255)


def patch_lonlat(sid: str) -> tuple[float, float]:
    """The centre of a planted patch's window in lon/lat (EPSG:4544 -> EPSG:4326)."""
    window = PLANTED[sid]["expected"]["window"]
    with rasterio.open(LC_2023) as ds:
        x, y = ds.xy(window["row_off"] + window["height"] // 2,
                     window["col_off"] + window["width"] // 2)
        crs = ds.crs.to_wkt()
    lon, lat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    return lon, lat


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int, int]:
    """Tile (x, y) and the pixel (col, row) in it of a lon/lat, from Web Mercator metres."""
    mx, my = TO_3857.transform(lon, lat)
    size = 2 * HALF_WIDTH / 2 ** z
    fx, fy = (mx + HALF_WIDTH) / size, (HALF_WIDTH - my) / size
    return int(fx), int(fy), int((fx % 1) * 256), int((fy % 1) * 256)


def expected_classes(path: Path, z: int, x: int, y: int, pixels: list[tuple[int, int]]
                     ) -> list[int | None]:
    """The raster's class under each tile pixel's centre (None: within 1e-6 of a raster
    pixel edge, where nearest neighbour may fall either way by rounding)."""
    size = 2 * HALF_WIDTH / 2 ** z
    out: list[int | None] = []
    with rasterio.open(path) as ds:
        to_raster = pyproj.Transformer.from_crs("EPSG:3857", ds.crs.to_wkt(), always_xy=True)
        band = ds.read(1)
        inverse = ~ds.transform
        for col, row in pixels:
            mx = -HALF_WIDTH + (x + (col + 0.5) / 256) * size
            my = HALF_WIDTH - (y + (row + 0.5) / 256) * size
            rx, ry = to_raster.transform(mx, my)
            fc, fr = inverse @ (rx, ry)
            if min(abs(fc - round(fc)), abs(fr - round(fr))) < 1e-6:
                out.append(None)
                continue
            r, c = ds.index(rx, ry)
            inside = 0 <= r < ds.height and 0 <= c < ds.width
            out.append(int(band[r, c]) if inside else int(ds.nodata))
    return out


@pytest.fixture(scope="module")
def zones(engine):
    """The layers a monitoring run reads, and no run yet."""
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {MONITOR_TABLES}, eco_redline, basic_farmland, "
                          "village_plans, admin_divisions RESTART IDENTITY CASCADE"))
    for layer in ("admin_divisions", "eco_redline", "basic_farmland", "village_plans"):
        load_file(engine, GPKG, layer, LoadOptions(source_layer=layer, strict=True))
    return engine


@pytest.fixture(scope="module")
def cli_run(zones) -> int:
    """A run from the ``gis`` command given relative paths (as an operator types them)."""
    rel = [os.path.relpath(p) for p in (LC_2020, LC_2023)]
    assert not any(Path(r).is_absolute() for r in rel)
    proc = run_gis("monitor", "run", *rel, "--json")
    assert proc.returncode == 0, proc.stderr
    run_id = json.loads(proc.stdout)["run_id"]
    with zones.connect() as conn:
        stored = conn.execute(text("SELECT raster_a, raster_b FROM monitor_runs WHERE id = :i"),
                              {"i": run_id}).one()
    assert tuple(stored) == (str(LC_2020), str(LC_2023))  # absolute, usable by a server
    return run_id


@pytest.fixture(scope="module")
def live(settings, zones) -> Iterator[str]:
    """A uvicorn server of the app; rasters named by relative paths resolve under samples."""
    app = create_app(settings.with_changes(data={"raster_dir": SAMPLES}))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                       lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a loaded 2-core machine
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def tile_url(base: str, run_id: int, which: str, z: int, x: int, y: int) -> str:
    return f"{base}/api/v1/monitoring/runs/{run_id}/landcover/{which}/{z}/{x}/{y}.png"


def rgba(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = Image.open(BytesIO(response.content))
    assert image.size == (256, 256)
    return image.convert("RGBA")


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


@pytest.mark.parametrize("sid", CHANGES)
def test_tile_pixels_are_the_raster_classes(live, cli_run, role_keys, sid: str) -> None:
    lon, lat = patch_lonlat(sid)
    x, y, col, row = tile_of(lon, lat, ZOOM)
    expected = PLANTED[sid]["expected"]
    before, after = (int(expected[k].split()[0]) for k in ("class_2020", "class_2023"))
    assert before != after
    # a grid over the whole tile, and the patch's centre
    pixels = [(c, r) for c in range(3, 256, 12) for r in range(5, 256, 12)] + [(col, row)]
    headers = role_keys["planner"]
    for which, path, centre in (("a", LC_2020, before), ("b", LC_2023, after)):
        image = rgba(httpx.get(tile_url(live, cli_run, which, ZOOM, x, y), headers=headers))
        classes = expected_classes(path, ZOOM, x, y, pixels)
        assert classes[-1] == centre, (sid, which)  # the independent read agrees with planted
        checked = 0
        for (c, r), value in zip(pixels, classes, strict=True):
            if value is None:
                continue
            assert image.getpixel((c, r)) == colour_of(value), (sid, which, c, r, value)
            checked += 1
        assert checked > len(pixels) * 0.95
    # the change shows: the same place has another colour on each date
    a = rgba(httpx.get(tile_url(live, cli_run, "a", ZOOM, x, y), headers=headers))
    b = rgba(httpx.get(tile_url(live, cli_run, "b", ZOOM, x, y), headers=headers))
    assert a.getpixel((col, row)) == colour_of(before) != b.getpixel((col, row))


def test_low_zoom_tile_shows_the_whole_raster(live, cli_run, role_keys) -> None:
    """At zoom 9 the raster is a few dozen pixels: still classes only (no blended colour),
    transparent around it."""
    lon, lat = patch_lonlat("LC-01")
    x, y, _, _ = tile_of(lon, lat, 9)
    image = rgba(httpx.get(tile_url(live, cli_run, "b", 9, x, y),
                           headers=role_keys["forestry"]))
    colours = {colour_of(c.value) for c in load_profile("ningxia").monitoring.classes}
    found = set(map(tuple, np.asarray(image).reshape(-1, 4).tolist()))
    assert (0, 0, 0, 0) in found and len(found - {(0, 0, 0, 0)}) >= 3
    assert found - {(0, 0, 0, 0)} <= colours, found - colours


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_run_document(live, cli_run, role_keys, lang: str) -> None:
    headers = {**role_keys["planner"], "Accept-Language": lang}
    latest = httpx.get(f"{live}/api/v1/monitoring/landcover", headers=headers)
    one = httpx.get(f"{live}/api/v1/monitoring/runs/{cli_run}/landcover", headers=headers)
    assert latest.status_code == one.status_code == 200, latest.text
    doc = one.json()
    assert latest.json()["run_id"] >= cli_run
    assert (doc["date_a"], doc["date_b"]) == ("2020", "2023")
    assert (doc["raster_a"], doc["raster_b"]) == ("landcover_2020.tif", "landcover_2023.tif")
    assert str(SAMPLES) not in one.text  # no server path in an answer
    classes = load_profile("ningxia").monitoring.classes
    assert [e["value"] for e in doc["legend"]] == sorted(c.value for c in classes)
    for entry, cls in zip(doc["legend"], sorted(classes, key=lambda c: c.value), strict=True):
        assert entry["color"] == LAND_COVER_COLOURS[cls.code]
        if lang == "zh":
            assert entry["label"] == cls.zh  # the catalogue's name is the profile's
        else:
            assert entry["label"] == message_text(f"landcover.class.{cls.code}", "en")
            assert not CJK.search(entry["label"])
    west, south, east, north = doc["bounds"]
    for sid in CHANGES:
        lon, lat = patch_lonlat(sid)
        assert west < lon < east and south < lat < north
    lon, lat = patch_lonlat("LC-01")
    x, y, _, _ = tile_of(lon, lat, ZOOM)
    url = doc["tiles"]["b"].format(z=ZOOM, x=x, y=y)
    assert url == tile_url(live, cli_run, "b", ZOOM, x, y)
    assert httpx.get(url, headers=headers).status_code == 200


def test_access_follows_the_monitoring_rule(live, cli_run, role_keys) -> None:
    """Planner, forestry and admin keys read; no key and a refused key get 401 problem
    details in the request's language, for the document and the tiles alike."""
    lon, lat = patch_lonlat("LC-02")
    x, y, _, _ = tile_of(lon, lat, ZOOM)
    urls = (f"{live}/api/v1/monitoring/landcover", tile_url(live, cli_run, "a", ZOOM, x, y))
    for url in urls:
        for role in ("planner", "forestry", "admin"):
            assert httpx.get(url, headers=role_keys[role]).status_code == 200, (url, role)
        anonymous = assert_problem(httpx.get(url), 401)
        assert httpx.head(url).status_code == 401  # the HEAD twin checks the key too
        assert httpx.head(url, headers=role_keys["forestry"]).status_code == 200
        assert CJK.search(anonymous["detail"]), anonymous
        english = assert_problem(httpx.get(url, headers={"Accept-Language": "en"}), 401)
        assert not CJK.search(english["detail"]), english
        refused = assert_problem(httpx.get(url, headers={"X-API-Key": "om_revoked_or_typo"}),
                                 401)
        assert CJK.search(refused["detail"]), refused
        # a monitoring route refuses the same callers the same way
        same = httpx.get(f"{live}/api/v1/monitoring/runs")
        assert same.status_code == 401


def test_tiles_off_the_grid_are_problems(live, cli_run, role_keys) -> None:
    headers = {**role_keys["planner"], "Accept-Language": "en"}
    base = f"{live}/api/v1/monitoring/runs/{cli_run}/landcover"
    for path in ("a/21/0/0.png", "a/3/8/0.png", "a/3/0/8.png", "b/2/-1/0.png"):
        body = assert_problem(httpx.get(f"{base}/{path}", headers=headers), 404)
        assert "does not exist" in body["detail"] or "not served" in body["detail"], body
    for path in ("a/x/0/0.png", "c/3/0/0.png", "a/3/0/0.5.png"):
        response = httpx.get(f"{base}/{path}", headers=headers)
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")
    body = assert_problem(httpx.get(tile_url(live, 999_999, "a", 3, 0, 0), headers=headers),
                          404)
    assert "999999" in body["detail"]
    # outside the raster: the empty (transparent) tile, not an error
    empty = httpx.get(tile_url(live, cli_run, "a", 3, 0, 0), headers=headers)
    assert empty.status_code == 200 and empty.content == EMPTY_PNG
    assert not np.asarray(rgba(empty))[..., 3].any()
    # caching: an ETag, 304 for it, private, and HEAD answers
    lon, lat = patch_lonlat("LC-03")
    x, y, _, _ = tile_of(lon, lat, ZOOM)
    url = tile_url(live, cli_run, "b", ZOOM, x, y)
    first = httpx.get(url, headers=headers)
    assert first.headers["cache-control"].startswith("private")
    again = httpx.get(url, headers={**headers, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    head = httpx.head(url, headers=headers)
    assert head.status_code == 200 and head.headers["etag"] == first.headers["etag"]


def test_a_raster_gone_is_a_conflict_not_a_crash(live, zones, cli_run, role_keys,
                                                  tmp_path: Path) -> None:
    """A run whose file was moved answers 409 naming the file (not the directory); a run
    stored with a relative name (before issue 23) resolves under GIS_RASTER_DIR only."""
    copies = [shutil.copy(p, tmp_path / p.name) for p in (LC_2020, LC_2023)]
    run_id = mon.run(zones, copies[0], copies[1], "ningxia").run_id
    headers = {**role_keys["forestry"], "Accept-Language": "en"}
    lon, lat = patch_lonlat("LC-04")
    x, y, _, _ = tile_of(lon, lat, ZOOM)
    assert httpx.get(tile_url(live, run_id, "b", ZOOM, x, y), headers=headers
                     ).status_code == 200
    Path(copies[1]).unlink()
    for url in (tile_url(live, run_id, "b", ZOOM, x, y),
                f"{live}/api/v1/monitoring/runs/{run_id}/landcover",
                f"{live}/api/v1/monitoring/landcover"):
        body = assert_problem(httpx.get(url, headers=headers), 409)
        assert "landcover_2023.tif" in body["detail"] and str(tmp_path) not in str(body)
    zh = assert_problem(httpx.get(tile_url(live, run_id, "b", ZOOM, x, y),
                                  headers=role_keys["forestry"]), 409)
    assert CJK.search(zh["detail"]), zh
    assert httpx.get(tile_url(live, run_id, "a", ZOOM, x, y), headers=headers
                     ).status_code == 200  # the other date is still there
    # legacy relative names: under the raster directory, and nothing outside it
    with zones.begin() as conn:
        conn.execute(text("UPDATE monitor_runs SET raster_a = 'landcover_2020.tif', "
                          "raster_b = '../../../../etc/passwd' WHERE id = :i"), {"i": run_id})
    assert httpx.get(tile_url(live, run_id, "a", ZOOM, x, y), headers=headers
                     ).status_code == 200
    body = assert_problem(httpx.get(tile_url(live, run_id, "b", ZOOM, x, y), headers=headers),
                          409)
    assert "passwd" in body["detail"] and "/etc" not in body["detail"]


def test_concurrent_tiles_share_one_dataset(live, cli_run, role_keys) -> None:
    """Tiles of a raster rendered at once (the server's thread pool) are the same as one by
    one, and the raster is not opened again for them."""
    lon, lat = patch_lonlat("LC-02")
    x, y, _, _ = tile_of(lon, lat, 15)
    urls = [tile_url(live, cli_run, which, 15, x + dx, y + dy)
            for which in ("a", "b") for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    headers = role_keys["planner"]
    one_by_one = [httpx.get(u, headers=headers).content for u in urls]
    opened = DATASETS.opens  # the server runs in this process: its cache is this one
    with ThreadPoolExecutor(8) as pool:
        at_once = list(pool.map(lambda u: httpx.get(u, headers=headers).content, urls * 2))
    assert at_once == one_by_one * 2
    assert DATASETS.opens == opened


def test_cache_reopens_a_replaced_file_and_survives_eviction(tmp_path: Path) -> None:
    lut = palette({v: c for v, c in zip(range(1, 7), LAND_COVER_COLOURS.values(),
                                        strict=True)})
    lon, lat = patch_lonlat("LC-01")
    x, y, _, _ = tile_of(lon, lat, ZOOM)
    cache = DatasetCache(size=1)  # every other raster evicts the one open
    paths = [Path(shutil.copy(p, tmp_path / p.name)) for p in (LC_2020, LC_2023)]
    expected = [render_png(p, ZOOM, x, y, lut, DatasetCache()).data for p in paths]
    with ThreadPoolExecutor(6) as pool:
        found = list(pool.map(lambda i: render_png(paths[i % 2], ZOOM, x, y, lut, cache).data,
                              range(24)))
    assert found == [expected[i % 2] for i in range(24)]
    # the 2020 file replaced by the 2023 one: the cache sees a new file and opens it
    shutil.copy(LC_2023, paths[0])
    os.utime(paths[0], ns=(time.time_ns(), time.time_ns() + 10**9))
    assert render_png(paths[0], ZOOM, x, y, lut, cache).data == expected[1]
    cache.clear()
