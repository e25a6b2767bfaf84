"""The ``gis`` command line: readable tables by default, ``--json`` for machines.

One module per command group, registered on the root app in ``root.py``; shared options in
``options.py``, terminal output and progress in ``output.py``, settings and database engines
in ``resources.py``; ``entry.py`` holds :func:`main`, the executable's entry point
(``gis = "gis.cli:main"``), which turns library errors into one line.

Every import of pandas, geopandas, pyogrio, shapely, SQLAlchemy, rasterio, numpy, the
analyses, uvicorn or FastAPI happens inside the command that needs it: typer builds every
command's options to print ``gis --help``, and importing the whole library for that took
1.5 s (``docs/benchmarks.md``). ``tests/test_cli_startup.py`` keeps it that way.
"""

from gis.cli.entry import main
from gis.cli.root import app

__all__ = ["app", "main"]
