"""No Python module of ``gis``, ``api`` or ``portal`` is longer than 400 lines (issue 16).

A module past a few hundred lines has almost always grown a second job, and then neither job
can be read, reviewed or tested on its own; the limit makes that visible when it happens rather
than after a file has reached 1,300 lines. Split a long module by responsibility, keeping its
public names importable from where they were (see ``gis/analysis/siting.py``).

``gis/migrations`` is exempt: Alembic revisions are frozen history. A revision records what
the schema change was when it ran and must not be edited afterwards (a database migrated with
the old text would differ from one migrated with the new), so splitting a long one is not an
option; its length says nothing about the code being maintained.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gis", "api", "portal")
EXEMPT = (Path("gis/migrations"),)
MAX_LINES = 400


def module_lengths(root: Path = ROOT) -> dict[str, int]:
    """Lines of every ``.py`` file under the packages, by path relative to ``root``
    (exempt folders and installed npm packages left out)."""
    skip = [root / e for e in EXEMPT]
    lengths: dict[str, int] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if any(path.is_relative_to(s) for s in skip) or "node_modules" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            lengths[path.relative_to(root).as_posix()] = len(text.splitlines())
    return lengths


def test_no_module_is_over_the_limit() -> None:
    lengths = module_lengths()
    assert len(lengths) > 50, "the packages were not found"
    over = {path: n for path, n in sorted(lengths.items()) if n > MAX_LINES}
    assert not over, (f"modules over {MAX_LINES} lines (split them by responsibility): "
                      + ", ".join(f"{path} ({n})" for path, n in over.items()))


def test_the_exemption_is_only_the_migrations(tmp_path: Path) -> None:
    long = "\n".join(["x = 1"] * (MAX_LINES + 1)) + "\n"
    for relative in ("gis/migrations/versions/0001_big.py", "gis/big.py", "api/ok.py"):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(long if "ok" not in relative else "x = 1\n", encoding="utf-8")
    (tmp_path / "portal").mkdir()
    lengths = module_lengths(tmp_path)
    assert lengths == {"gis/big.py": MAX_LINES + 1, "api/ok.py": 1}
