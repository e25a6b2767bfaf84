"""QGIS 3.22 (Debian's ``qgis``/``python3-qgis``) against the API in its own process: a
restricted layer loaded through a Basic authentication configuration (the key as the
password: QGIS 3.22 cannot send an ``X-API-Key`` header), and a date filter. Part of
``make test-clients`` (``ONEMAP_TEST_CLIENTS=1``; ``scripts/setup.sh clients`` installs
QGIS and xvfb), not of ``make test``: the install takes minutes. PyQGIS runs under Debian's
``/usr/bin/python3``, not the venv, so the client is a subprocess (``qgis_load.py``) under
``xvfb-run``; it prints one JSON line the test reads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import text

if os.environ.get("ONEMAP_TEST_CLIENTS") != "1":  # pragma: no cover - collection guard
    raise RuntimeError("tests/clients runs with `make test-clients` (ONEMAP_TEST_CLIENTS=1)")
assert shutil.which("xvfb-run") and Path("/usr/lib/python3/dist-packages/qgis").exists(), (
    "QGIS and xvfb are missing: `bash scripts/setup.sh clients` installs them")

SCRIPT = Path(__file__).with_name("qgis_load.py")


def _qgis(url: str, layer: str, key: str, subset: str = "") -> dict:
    done = subprocess.run(
        ["xvfb-run", "-a", "/usr/bin/python3", str(SCRIPT), f"{url}/ogc", layer, key,
         *([subset] if subset else [])],
        capture_output=True, text=True, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, (done.returncode, done.stdout, done.stderr)
    result = json.loads(lines[-1])
    print(f"QGIS {layer} {subset!r}: {json.dumps(result, ensure_ascii=False)}")
    return result


def test_qgis_loads_a_restricted_layer_with_basic_auth(live_server: str, sample_db,
                                                       role_keys) -> None:
    with sample_db.connect() as conn:
        codes = sorted(conn.execute(text("SELECT redline_code FROM eco_redline")).scalars())
    result = _qgis(live_server, "eco_redline", role_keys["planner"]["X-API-Key"])
    assert result["qgis"].startswith("3.22") and result["valid"], result
    assert result["field"] == "redline_code" and result["values"] == codes


def test_qgis_date_filter(live_server: str, sample_db, role_keys) -> None:
    with sample_db.connect() as conn:
        codes = sorted(conn.execute(text(
            "SELECT village_code FROM village_plans WHERE approved_date >= '2022-01-01'"
        )).scalars())
        total = conn.execute(text("SELECT count(*) FROM village_plans")).scalar_one()
    result = _qgis(live_server, "village_plans", role_keys["planner"]["X-API-Key"],
                   "\"approved_date\" >= '2022-01-01'")
    assert result["valid"] and result["subset_accepted"], result
    assert result["values"] == codes and 0 < len(codes) < total
