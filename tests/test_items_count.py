"""numberMatched of an items page: the page's statement counts the matches up to
``COUNTED_WITH_PAGE`` itself; past it the planner's estimate decides between an exact count
and the estimate. Checked against ``count(*)`` over the same bbox, at, below and above the
bound (the bound is lowered so the sample data crosses it)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gis.layers.catalogue import get_layer
from gis.ogc import items as items_module
from gis.ogc.items import ItemsQuery, fetch_items

LAYER = "cultivated_land"


def _true_count(engine, bbox: tuple[float, float, float, float] | None) -> int:
    where = "" if bbox is None else (
        " WHERE ST_Intersects(geom, ST_MakeEnvelope(:w, :s, :e, :n, 4490))")
    params = {} if bbox is None else dict(zip("wsen", bbox, strict=True))
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {LAYER}{where}"), params).scalar_one()


@pytest.fixture(scope="module")
def bboxes(sample_db) -> list[tuple[float, float, float, float] | None]:
    """No bbox, and the extents of the first 20, 100 and all rows: boxes holding from a few
    dozen to all of the layer's rows."""
    out: list[tuple[float, float, float, float] | None] = [None]
    with sample_db.connect() as conn:
        for n in (20, 100, 1_000_000):
            out.append(tuple(conn.execute(text(
                f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
                f"ST_Extent(geom) e FROM (SELECT geom FROM {LAYER} ORDER BY id LIMIT :n) r) s"),
                {"n": n}).one()))
    return out


@pytest.mark.parametrize("bound", [1, 3, 10_000])
@pytest.mark.parametrize("exact_limit", [0, 5, 100_000])
def test_number_matched_against_count(sample_db, bboxes, monkeypatch, bound: int,
                                      exact_limit: int) -> None:
    monkeypatch.setattr(items_module, "COUNTED_WITH_PAGE", bound)
    layer = get_layer(LAYER)
    for bbox in bboxes:
        truth = _true_count(sample_db, bbox)
        assert truth > 2  # every box holds more than a page of 2
        page = fetch_items(sample_db, ItemsQuery(layer=layer, limit=2, bbox=bbox), exact_limit)
        assert len(page.features) == 2
        if page.matched_exact:
            assert page.number_matched == truth, (bbox, bound, exact_limit)
        else:  # only ever an estimate when the exact count was declined
            assert truth > min(bound, exact_limit) and page.number_matched > 0
        if truth <= min(bound, exact_limit):
            # Counted within the page statement: always exact.
            assert page.matched_exact and page.number_matched == truth


def test_last_page_and_empty_page_count(sample_db, bboxes) -> None:
    layer = get_layer(LAYER)
    truth = _true_count(sample_db, None)
    last = fetch_items(sample_db, ItemsQuery(layer=layer, limit=2, offset=truth - 1))
    assert len(last.features) == 1 and last.number_matched == truth and last.matched_exact
    beyond = fetch_items(sample_db, ItemsQuery(layer=layer, limit=2, offset=truth + 5))
    assert beyond.features == [] and beyond.number_matched == truth and beyond.matched_exact
