"""``gis --help`` starts without importing the data stack.

typer builds every command's options to print the help, so one module-level import of
pandas or the analyses in any command module makes every ``gis`` invocation, even a usage
error, pay for all of them (1.5 s before issue 16; the timings are in docs/benchmarks.md, not
here, since wall-clock assertions fail on a busy machine). Each check runs in a fresh
interpreter: this test process has long since imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

GIS = Path(sys.executable).with_name("gis")

#: Imported only inside the commands that use them.
HEAVY = ("pandas", "geopandas", "pyogrio", "shapely", "sqlalchemy", "rasterio", "numpy",
         "pyproj", "uvicorn", "fastapi", "api", "portal", "gis.analysis", "gis.layers",
         "gis.db", "gis.settings")

#: Imports gis.cli, prints the help of every command and group (as ``gis ... --help`` does),
#: and reports which modules that imported.
_PROBE = """
import contextlib, io, json, sys

import typer
from typer.testing import CliRunner

from gis.cli import app

def paths(command, path):
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from paths(sub, [*path, name])

runner = CliRunner()
helps = {}
for path in paths(typer.main.get_command(app), []):
    result = runner.invoke(app, [*path, "--help"], prog_name="gis")
    helps[" ".join(path)] = [result.exit_code, result.output]
print(json.dumps({"helps": helps, "modules": sorted(sys.modules)}))
"""


def _probe() -> dict:
    proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "120"})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_gis_help_runs_the_real_executable() -> None:
    proc = subprocess.run([str(GIS), "--help"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "120"})
    assert proc.returncode == 0, proc.stderr
    assert "Usage: gis" in proc.stdout
    listed = {line.strip(" │|").split()[0] for line in proc.stdout.splitlines()
              if line.strip(" │|")}
    commands = {"db", "layers", "load", "export", "serve", "samples", "check", "reserve",
                "control-lines", "indicators", "reconcile", "monitor", "terrain", "users"}
    assert commands <= listed, (commands - listed, proc.stdout)


def test_help_of_every_command_imports_no_heavy_module() -> None:
    probe = _probe()
    helps = probe["helps"]
    assert len(helps) > 40, sorted(helps)  # every group and command of the app
    failed = {path: output for path, (code, output) in helps.items() if code != 0}
    assert not failed, failed
    assert "--on-behalf-of" in helps["reserve draw"][1]
    assert "--division" in helps["monitor list"][1]
    loaded = [m for m in probe["modules"]
              if any(m == heavy or m.startswith(heavy + ".") for heavy in HEAVY)]
    assert not loaded, f"gis --help imported {loaded}"
