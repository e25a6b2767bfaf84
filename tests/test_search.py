"""The viewer's search (``GET /portal/api/search``) over the sample one-map: labels are built
from the catalogue's label parts (an empty field is left out with its separator), layers come
in the catalogue's search rank, LIKE wildcards in the query are literal, and a blank query is
refused. Which roles see which layers: ``tests/test_portal.py::test_search_respects_roles``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gis.layers.catalogue import get_layer

SEARCH = "/portal/api/search"


@pytest.fixture(scope="module")
def clients(settings, sample_db, role_keys):
    with TestClient(create_app(settings)) as public, \
            TestClient(create_app(settings), headers=role_keys["admin"]) as admin:
        yield public, admin


def _expected_label(client: TestClient, layer_id: str, fid: int) -> str:
    """The label composed in Python from the feature the features API returns."""
    props = client.get(f"/ogc/collections/{layer_id}/items/{fid}").json()["properties"]
    parts = get_layer(layer_id).search.parts
    return "".join(f"{p.prefix}{props[p.field]}{p.suffix}" for p in parts
                   if props.get(p.field) is not None)


def test_labels_follow_the_catalogue_parts(clients) -> None:
    _, admin = clients
    forest = admin.get(SEARCH, params={"q": "640202/040/00"}).json()
    assert forest and {h["layer"] for h in forest} == {"forest_parcels"}
    for hit in forest:
        assert hit["label"] == _expected_label(admin, "forest_parcels", hit["id"])
    # 640202/040/001 has no certificate: its label ends with the village, no trailing space.
    first = next(h for h in forest if h["label"].startswith("640202/040/001"))
    assert first["label"] == "640202/040/001 星光村"
    # Grassland parcels have no village: the number and the certificate, one space apart.
    grass = admin.get(SEARCH, params={"q": "640104-CD-0001"}).json()
    assert [h["label"] for h in grass] == ["640104-CD-0001 兴草证字(2015)第039号"]
    assert grass[0]["layer_title"] == "草地图斑" and len(grass[0]["bbox"]) == 4


def test_layers_in_rank_order_and_limit_per_layer(clients) -> None:
    _, admin = clients
    hits = admin.get(SEARCH, params={"q": "6402", "limit": 2, "lang": "en"}).json()
    ranks = [get_layer(h["layer"]).search.rank for h in hits]
    assert len(set(ranks)) > 2 and ranks == sorted(ranks)
    assert hits[0]["layer"] == "village_plans" and hits[0]["layer_title"] == "Village plans"
    assert all(ranks.count(r) <= 2 for r in ranks)
    # Within a layer, the shortest labels first.
    for layer in {h["layer"] for h in hits}:
        lengths = [len(h["label"]) for h in hits if h["layer"] == layer]
        assert lengths == sorted(lengths)


@pytest.mark.parametrize("q", ["%", "_", "6402_2"])
def test_like_wildcards_are_literal(clients, q: str) -> None:
    _, admin = clients
    response = admin.get(SEARCH, params={"q": q})
    assert response.status_code == 200
    assert all(q in h["label"] for h in response.json())


def test_blank_and_oversized_queries_are_refused(clients) -> None:
    public, _ = clients
    blank = public.get(SEARCH, params={"q": "   "}, headers={"Accept-Language": "en"})
    assert blank.status_code == 400 and "empty" in blank.json()["detail"]
    assert public.get(SEARCH, params={"q": "x" * 101}).status_code in (400, 422)
    assert public.get(SEARCH, params={"q": "村", "limit": 51}).status_code in (400, 422)
