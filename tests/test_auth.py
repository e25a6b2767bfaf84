"""Access control: keys (issued, hashed, revoked), roles against layer sensitivity, write
endpoints that need a role, rate limits. Every refusal carries no data."""

from __future__ import annotations

import hashlib
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from api.app import create_app
from gis.auth import authenticate, issue_key, revoke_key
from gis.cli import app as cli
from gis.errors import Conflict, InputError, NotFound

#: layer id -> sensitivity in the catalogue; which roles may read it.
READERS = {
    "public": {"public", "planner", "forestry", "admin"},
    "planner": {"planner", "admin"},
    "forestry": {"forestry", "admin"},
}
LAYERS = {"village_plans": "public", "eco_redline": "planner", "basic_farmland": "planner",
          "forest_parcels": "forestry", "grassland_parcels": "forestry",
          "survey_patches": "planner"}


@pytest.fixture(scope="module")
def client(settings, sample_db):
    with TestClient(create_app(settings)) as c:
        yield c


def test_keys_are_stored_hashed_and_can_be_revoked(engine) -> None:
    key = issue_key(engine, "审批科 张工", "planner")
    assert key.startswith("om_")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT key_hash, role FROM api_keys WHERE name = '审批科 张工'"
                                )).one()
    assert key not in row.key_hash and row.key_hash == hashlib.sha256(
        key.split("_", 2)[2].encode()).hexdigest()
    assert authenticate(engine, key).role == "planner"
    assert authenticate(engine, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert authenticate(engine, "not-a-key") is None
    with pytest.raises(Conflict):
        issue_key(engine, "审批科 张工", "planner")
    revoke_key(engine, "审批科 张工")
    assert authenticate(engine, key) is None
    with pytest.raises(NotFound):
        revoke_key(engine, "审批科 张工")
    for name, role in [("", "planner"), ("x", "public"), ("x", "root")]:
        with pytest.raises(InputError):
            issue_key(engine, name, role)


@pytest.mark.parametrize("layer", sorted(LAYERS))
@pytest.mark.parametrize("role", ["public", "planner", "forestry", "admin"])
def test_layer_reads_follow_sensitivity(client: TestClient, role_keys, layer: str,
                                        role: str) -> None:
    allowed = role in READERS[LAYERS[layer]]
    headers = role_keys[role]
    listing = client.get("/ogc/collections", headers=headers).json()["collections"]
    assert (layer in {c["id"] for c in listing}) == allowed
    for path in (f"/ogc/collections/{layer}", f"/ogc/collections/{layer}/items",
                 f"/ogc/collections/{layer}/items/1", f"/ogc/collections/{layer}/queryables"):
        response = client.get(path, headers=headers)
        if allowed:
            assert response.status_code == 200, (path, response.text)
        else:
            assert response.status_code == (401 if role == "public" else 403), path
            body = response.json()
            assert set(body) <= {"type", "title", "status", "detail", "instance", "details",
                                 "request_id"}
            assert "features" not in response.text and "coordinates" not in response.text
    if role == "public" and not allowed:
        assert response.headers["www-authenticate"].startswith("ApiKey")


def test_sensitivity_is_configurable(settings, sample_db) -> None:
    opened = settings.with_changes(api={"layer_sensitivity": {"eco_redline": "public"}})
    with TestClient(create_app(opened)) as c:
        assert c.get("/ogc/collections/eco_redline/items").status_code == 200
        assert c.get("/ogc/collections/forest_parcels/items").status_code == 401


def test_bad_or_revoked_keys_are_refused(client: TestClient, engine) -> None:
    assert client.get("/ogc/collections", headers={"X-API-Key": "om_nope_nope"}
                      ).status_code == 401
    key = issue_key(engine, "temporary", "admin")
    assert client.get("/ogc/collections/forest_parcels/items",
                      headers={"X-API-Key": key}).status_code == 200
    revoke_key(engine, "temporary")
    client.app.state.key_cache = None  # as after auth_cache_seconds
    assert client.get("/ogc/collections/forest_parcels/items",
                      headers={"X-API-Key": key}).status_code == 401


WRITES = [
    ("post", "/api/v1/analysis/siting", {"planner"}),
    ("post", "/api/v1/reserve/villages/640202100201/draws", {"planner"}),
    ("post", "/api/v1/reconciliation/runs", {"forestry"}),
    ("post", "/api/v1/reconciliation/findings/1/decision", {"forestry"}),
    ("post", "/api/v1/reconciliation/findings/1/status", {"forestry"}),
    ("post", "/api/v1/reconciliation/apply", {"forestry"}),
    ("get", "/api/v1/reconciliation/findings", {"forestry"}),
    ("get", "/api/v1/control-lines/conflicts", {"planner"}),
    ("post", "/api/v1/monitoring/runs", {"planner", "forestry"}),
    ("post", "/api/v1/monitoring/patches/1/decision", {"planner", "forestry"}),
    ("get", "/api/v1/monitoring/patches", {"planner", "forestry"}),
]


@pytest.mark.parametrize(("method", "path", "roles"), WRITES)
def test_write_endpoints_need_a_role(client: TestClient, role_keys, method, path,
                                     roles) -> None:
    for role in ("public", "planner", "forestry", "admin"):
        response = client.request(method, path, headers=role_keys[role],
                                  json={} if method == "post" else None)
        if role in roles or role == "admin":
            # Past the gate: the (empty) body is then refused as invalid, or the GET works.
            assert response.status_code in (200, 422), (role, response.text)
        else:
            assert response.status_code == (401 if role == "public" else 403), role
            assert response.headers["content-type"] == "application/problem+json"


def test_expensive_endpoints_are_rate_limited(settings, sample_db, engine) -> None:
    key = issue_key(engine, "busy script", "planner", rate_limit_per_minute=3)
    with TestClient(create_app(settings), headers={"X-API-Key": key}) as c:
        codes = [c.get("/api/v1/control-lines/conflicts", params={"division": "640202"}
                       ).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        refused = c.get("/api/v1/control-lines/conflicts", params={"division": "640202"})
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["title"] == "请求过于频繁"
        assert "秒后重试" in refused.json()["detail"]
        # Cheap reads are not limited.
        assert all(c.get("/ogc/collections").status_code == 200 for _ in range(5))
    revoke_key(engine, "busy script")


def test_users_cli(engine, settings) -> None:
    runner = CliRunner()
    added = runner.invoke(cli, ["users", "add", "林草局 李工", "--role", "forestry", "--json"])
    assert added.exit_code == 0, added.output
    key = json.loads(added.output)["key"]
    assert authenticate(engine, key).role == "forestry"
    listed = runner.invoke(cli, ["users", "list", "--json"])
    names = {k["name"]: k for k in json.loads(listed.output)}
    assert names["林草局 李工"]["role"] == "forestry" and "key" not in names["林草局 李工"]
    assert key not in listed.output
    bad = runner.invoke(cli, ["users", "add", "x", "--role", "superuser"])
    # (``gis.cli.main`` turns this into a one-line message and exit code 2)
    assert bad.exit_code != 0 and "role must be one of" in str(bad.exception)
    assert runner.invoke(cli, ["users", "revoke", "林草局 李工"]).exit_code == 0
    assert authenticate(engine, key) is None


def _basic(key: str, user: str = "qgis") -> dict[str, str]:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()}


@pytest.mark.parametrize("role", ["planner", "forestry", "admin"])
def test_basic_authentication_carries_the_key(client: TestClient, role_keys, role) -> None:
    """QGIS 3.22 and GDAL send the key as a Basic password (any user name): the same access
    as the X-API-Key header, and /collections lists what the credentials may read."""
    key = role_keys[role]["X-API-Key"]
    by_header = {c["id"] for c in client.get("/ogc/collections",
                                             headers=role_keys[role]).json()["collections"]}
    for user in ("qgis", "规划科", ""):
        listing = client.get("/ogc/collections", headers=_basic(key, user))
        assert {c["id"] for c in listing.json()["collections"]} == by_header
    for layer, sensitivity in LAYERS.items():
        allowed = role in READERS[sensitivity]
        status = client.get(f"/ogc/collections/{layer}/items", headers=_basic(key)).status_code
        assert status == (200 if allowed else 403), (role, layer)


def test_bad_basic_credentials_are_refused(client: TestClient, role_keys) -> None:
    for headers in (_basic("om_nope0000_wrong"), _basic(""), {"Authorization": "Basic !!!"},
                    {"Authorization": "Basic " + "bm9jb2xvbg=="}):  # "nocolon"
        response = client.get("/ogc/collections", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"] == "application/problem+json"
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("ApiKey") and 'Basic realm="One-Map"' in challenge
        assert "Authorization" in response.json()["detail"]
    # Without Basic credentials no Basic challenge: a browser would pop a login dialog.
    anonymous = client.get("/ogc/collections/eco_redline/items")
    assert anonymous.status_code == 401 and "Basic" not in anonymous.headers["www-authenticate"]
    # Other schemes are not ours: anonymous, as before.
    assert client.get("/ogc/collections", headers={"Authorization": "Bearer x"}
                      ).status_code == 200
    # The header wins over Basic credentials.
    both = {**role_keys["planner"], **_basic("om_nope0000_wrong")}
    assert client.get("/ogc/collections/eco_redline/items", headers=both).status_code == 200
