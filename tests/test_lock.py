"""Installs come from the lock: the venv is exactly ``requirements/test.lock.txt``, the lock
satisfies pyproject.toml, and fast-moving dependencies have upper bounds. An upgrade is a
deliberate commit (``make lock``), never what the index served on the day."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
TEST_LOCK = ROOT / "requirements" / "test.lock.txt"
RUN_LOCK = ROOT / "requirements" / "run.lock.txt"
CHECKER = ROOT / "scripts" / "venv_lock.py"
#: Dependencies whose minor releases have broken this project (typer 0.29 vendoring click,
#: Starlette 1.10 changing app.routes) or are known to move fast: they need an upper bound.
FAST_MOVING = {"fastapi", "starlette", "typer", "pydantic", "sqlalchemy", "pandas",
               "geopandas", "shapely", "numpy", "pygeofilter", "uvicorn", "folium",
               "geoalchemy2", "pyogrio", "rasterio", "playwright"}

sys.path.insert(0, str(CHECKER.parent))
import venv_lock  # noqa: E402


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return [Requirement(r) for r in [*project["dependencies"], *extras]]


def test_installed_packages_are_exactly_the_lock() -> None:
    proc = subprocess.run([sys.executable, str(CHECKER), "check", str(TEST_LOCK)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_checker_notices_a_drifted_package(tmp_path: Path) -> None:
    import typer

    drifted = tmp_path / "lock.txt"
    drifted.write_text(TEST_LOCK.read_text().replace(f"typer=={typer.__version__}",
                                                     "typer==0.12.0"))
    proc = subprocess.run([sys.executable, str(CHECKER), "check", str(drifted)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert f"typer: installed {typer.__version__}, locked 0.12.0" in proc.stderr


def test_lock_satisfies_pyproject() -> None:
    locked = venv_lock.locked(TEST_LOCK)
    for req in _requirements():
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is not in the lock: run `make lock`"
        assert req.specifier.contains(locked[name], prereleases=True), (
            f"{req.name}=={locked[name]} in the lock does not satisfy {req}: run `make lock`")


def test_every_locked_package_has_hashes() -> None:
    blocks = TEST_LOCK.read_text().split("\n")
    pins = [i for i, line in enumerate(blocks) if "==" in line and not line.startswith("#")]
    for i in pins:
        assert "--hash=sha256:" in blocks[i + 1], blocks[i]


def test_run_lock_is_the_test_lock_subset_at_the_same_versions() -> None:
    run, test = venv_lock.locked(RUN_LOCK), venv_lock.locked(TEST_LOCK)
    assert run and set(run) <= set(test)
    assert {n: v for n, v in run.items() if test[n] != v} == {}


@pytest.mark.parametrize("name", sorted(FAST_MOVING))
def test_fast_moving_dependencies_have_an_upper_bound(name: str) -> None:
    req = next(r for r in _requirements() if canonicalize_name(r.name) == name)
    assert any(spec.operator in ("<", "<=", "==", "~=") for spec in req.specifier), str(req)


def test_the_standard_lock_file_has_the_same_pins() -> None:
    """``pylock.toml`` (PEP 751, written by ``make lock``) pins exactly what setup installs
    from ``requirements/test.lock.txt``, markers included, each with its hashes."""
    pins = set(re.findall(r"^([A-Za-z0-9_.-]+)==([^ ;\\\n]+)", TEST_LOCK.read_text(), re.M))
    expected = {(canonicalize_name(n), v) for n, v in pins}
    lock = tomllib.loads((ROOT / "pylock.toml").read_text())
    got = {(canonicalize_name(p["name"]), p["version"]) for p in lock["packages"]}
    assert got == expected
    for package in lock["packages"]:
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        assert files and all(f["hashes"].get("sha256") for f in files), package["name"]
