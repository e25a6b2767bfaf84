"""The analysts' notebooks (``notebooks/*.ipynb``) run top to bottom against the test database,
and the reference site (``make docs``) builds from them without a warning.

Each notebook is executed by nbclient in a temporary working directory (the files it writes
land there), by a ``python3`` kernel of this very interpreter (the venv's, checked below),
after ``sample_db`` loaded the sample one-map and the quota ledger (as ``gis samples load``
does). The notebooks open the One-Map with ``gis.connect()``; the kernel inherits
``os.environ``, where the session's ``settings`` fixture put ``GIS_DATA_DIR``/``GIS_DB_PORT``
(or ``GIS_DATABASE_URL``), so they reach the test database without knowing it.

The stored files must carry no outputs, and notebooks may use only the public module:
``import gis`` and the names in ``gis.__all__`` (a notebook that needs anything else means
the entry point lacks it). Each is shorter than it was before the entry point (issue 25).
"""

from __future__ import annotations

import ast
import copy
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import Engine

import gis
from gis.samples import load_sample_ledger
from gis.settings import Settings
from tests.server_fixtures import SAMPLES

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "python3"
#: Seconds one notebook may take (each takes 7-15 s here; the cap catches a runaway cell).
TIMEOUT = 120
#: Packages of this project; notebooks may import only the library's public module (``gis``).
PROJECT_PACKAGES = {"gis", "api", "portal", "tests", "benchmarks"}
#: Code lines (not blank, not comments) of each notebook before the entry point (issue 25).
CODE_LINES_BEFORE = {"01_siting": 97, "02_forest_grass": 89, "03_quota_control_lines": 117,
                     "04_monitoring": 113}


def _code(nb: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def _python(source: str) -> str:
    """Cell source without IPython magics and shell escapes (not Python syntax)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


@pytest.fixture(scope="module")
def notebook_db(settings: Settings, sample_db: Engine) -> Engine:
    assert load_sample_ledger(sample_db, settings.with_changes(data={"samples_dir": SAMPLES}))
    return sample_db


def code_lines(nb: nbformat.NotebookNode) -> int:
    """Lines of code: not blank, not comments, not IPython magics."""
    return sum(1 for source in _code(nb) for line in source.splitlines()
               if line.strip() and not line.lstrip().startswith(("#", "%", "!")))


def test_the_five_notebooks_are_there() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_siting.ipynb", "02_forest_grass.ipynb", "03_quota_control_lines.ipynb",
        "04_monitoring.ipynb", "05_village_farmland.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS[:4], ids=lambda p: p.stem)
def test_notebooks_are_shorter_on_the_entry_point(path: Path) -> None:
    assert code_lines(nbformat.read(path, as_version=4)) < CODE_LINES_BEFORE[path.stem]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == KERNEL
    for number, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {number} is stored with outputs"
            assert cell.execution_count is None, f"{path.name} cell {number} has a count"
        assert "attachments" not in cell, f"{path.name} cell {number} has attachments"


def _project_import(name: str, problems: list[str]) -> bool:
    """Whether the dotted ``name`` is a package of the project, noting a problem if it is
    not the public module itself."""
    root = name.split(".")[0]
    if root not in PROJECT_PACKAGES:
        return False
    if root != "gis":
        problems.append(f"{name}: notebooks use the library (gis), not {root}")
    elif name != "gis":
        problems.append(f"{name}: not the public module (import gis)")
    return True


def non_public_uses(nb: nbformat.NotebookNode) -> list[str]:
    """What the notebook's code cells use of the project besides the public module: imports
    of anything but ``gis`` itself (its submodules, the API, the portal, the tests), names
    outside ``gis.__all__`` (imported from ``gis`` or read as ``gis.X``), ``gis`` under
    another name (which would hide its uses) and private attributes."""
    problems: list[str] = []
    for source in _code(nb):
        for node in ast.walk(ast.parse(_python(source))):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if _project_import(module, problems) and module == "gis":
                    problems += [f"gis.{a.name}: not in gis.__all__" for a in node.names
                                 if a.name not in gis.__all__]
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if (_project_import(alias.name, problems) and alias.name == "gis"
                            and alias.asname not in (None, "gis")):
                        problems.append(f"gis as {alias.asname}: import gis by its name")
            elif isinstance(node, ast.Attribute):
                if isinstance(node.value, ast.Name) and node.value.id == "gis":
                    if node.attr not in gis.__all__:
                        problems.append(f"gis.{node.attr}: not in gis.__all__")
                elif node.attr.startswith("_") and not node.attr.startswith("__"):
                    problems.append(f"private attribute .{node.attr}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_use_only_the_public_module(path: Path) -> None:
    problems = non_public_uses(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name}: {problems}"


def test_the_public_module_check_catches_each_kind_of_other_use() -> None:
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "%matplotlib inline\nfrom gis.samples._geo import x\nfrom gis.rules import load_profile\n"
        "import api.app\nfrom gis import nonexistent\nengine._pool\nimport gis.onemap\n"
        "import pandas as pd\nimport gis as g\nengine.__class__\ngis.settings\n"
        "from gis import connect\nimport gis\ngis.connect().read('projects')")])
    assert sorted(non_public_uses(bad)) == sorted([
        "gis.samples._geo: not the public module (import gis)",
        "gis.rules: not the public module (import gis)",
        "api.app: notebooks use the library (gis), not api",
        "gis.nonexistent: not in gis.__all__", "gis.onemap: not the public module (import gis)",
        "gis as g: import gis by its name", "private attribute ._pool",
        "gis.settings: not in gis.__all__"])


#: Appended to each executed copy: which interpreter and library the kernel ran.
PROBE = "import sys as _sys, gis as _gis\nprint(_sys.executable, _gis.__file__)"


async def _run_all(paths: list[Path], workdir: Path, lanes: int) -> dict[str, object]:
    """Execute every notebook, ``lanes`` at a time (each is one kernel process, mostly CPU:
    two lanes on the two cores halve the wall time); a notebook's result is its executed
    copy and the seconds it took, or the exception it raised."""
    import asyncio

    gate = asyncio.Semaphore(lanes)

    async def one(path: Path) -> object:
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(PROBE))
        folder = workdir / path.stem
        folder.mkdir()
        async with gate:
            started = time.monotonic()
            # No IPython history: two kernels at once would share (and lock) its database.
            client = NotebookClient(nb, timeout=TIMEOUT, kernel_name=KERNEL,
                                    extra_arguments=["--HistoryManager.enabled=False"],
                                    resources={"metadata": {"path": str(folder)}})
            try:
                await client.async_execute()
            except Exception as exc:  # reported by the notebook's own test
                return exc
            return nb, time.monotonic() - started

    results = await asyncio.gather(*(one(p) for p in paths))
    return {p.name: r for p, r in zip(paths, results, strict=True)}


@pytest.fixture(scope="module")
def executed(notebook_db: Engine, tmp_path_factory: pytest.TempPathFactory
             ) -> dict[str, object]:
    import asyncio

    # The kernel must be this venv's python: its kernelspec (installed with ipykernel) is put
    # first on the search path, before a user's own ``python3`` kernel in ~/.local/share.
    share = Path(sys.prefix) / "share" / "jupyter"
    if not (share / "kernels" / KERNEL / "kernel.json").exists():
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix"],
                       check=True, capture_output=True)
    saved = {name: os.environ.get(name) for name in ("MPLBACKEND", "JUPYTER_PATH")}
    os.environ.pop("MPLBACKEND", None)  # see test_notebook_runs_top_to_bottom
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(share),
                                                               saved["JUPYTER_PATH"]]))
    try:
        return asyncio.run(_run_all(NOTEBOOKS, tmp_path_factory.mktemp("notebooks"), lanes=2))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, executed: dict[str, object]) -> None:
    result = executed[path.name]
    if isinstance(result, Exception):
        raise result  # CellExecutionError: the failing cell, its source and traceback
    nb, elapsed = result
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    # The kernel was this venv's interpreter, with this checkout's library.
    executable, library = outputs[-1].text.split()
    assert Path(executable).resolve() == Path(sys.executable).resolve()
    assert Path(library).resolve().is_relative_to(ROOT)
    streams = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    glyphs = [s for s in streams if re.search(r"Glyph \d+ .*missing from", s)]
    assert not glyphs, f"{path.name}: Chinese labels drawn without a CJK font: {glyphs}"
    # An MPLBACKEND=Agg inherited from the caller would replace the kernel's inline backend
    # and the figures would silently not be shown; the fixture removes it, this checks.
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    uses_pyplot = any("plt." in source for source in _code(nb))
    assert images > 0 or not uses_pyplot, f"{path.name}: figures were drawn but not shown"
    assert elapsed < 60, f"{path.name} took {elapsed:.0f} s; notebooks must stay quick"


def test_reference_site_builds_without_warnings(executed: dict[str, object],
                                                tmp_path: Path) -> None:
    """``make docs``'s build (``scripts/build_docs.py``, ``mkdocs build --strict``) on the
    notebooks just executed: the README, the guides, the API reference from the docstrings
    and the notebooks with their outputs in one site."""
    folder = tmp_path / "executed"
    folder.mkdir()
    for path in NOTEBOOKS:
        result = executed[path.name]
        assert not isinstance(result, Exception), f"{path.name} did not run: {result}"
        nb = copy.deepcopy(result[0])
        nb.cells = nb.cells[:-1]  # the probe cell
        nbformat.write(nb, folder / path.name)
    site = tmp_path / "site"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_docs.py"),
                           "--executed", str(folder), "--site", str(site)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "WARNING" not in proc.stderr, proc.stderr
    reference = (site / "reference" / "onemap" / "index.html").read_text(encoding="utf-8")
    for name in ("connect", "check_siting", "control_line_conflicts", "reconcile", "monitor"):
        assert f"gis.onemap.OneMap.{name}" in reference or f"gis.onemap.{name}" in reference
    assert "&gt;&gt;&gt;" in reference  # the examples are on the page
    page = (site / "notebooks" / "05_village_farmland" / "index.html").read_text(
        encoding="utf-8")
    assert "data:image/png;base64" in page  # the executed chart, rendered
    guide = (site / "user-guide.en" / "index.html").read_text(encoding="utf-8")
    assert "One-Map user guide" in guide
    assert time.monotonic() - started < 300
