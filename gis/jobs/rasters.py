"""Land-cover rasters named by a client: only file names under the configured directory.

A server must never open whatever path a request names (``/etc/passwd``, ``../..``), so the
API's monitoring endpoint and the ``monitoring.run`` job both resolve names here, against
``GIS_RASTER_DIR``, and refuse anything that lands outside it.
"""

from __future__ import annotations

from pathlib import Path

from gis.errors import ConfigurationError, InputError
from gis.messages import msg


def raster_path(folder: Path | None, name: str) -> Path:
    """``name`` resolved under ``folder`` (the ``raster_dir`` setting); a ConfigurationError
    when no directory is configured, an InputError for a name that escapes it."""
    if folder is None:
        raise ConfigurationError(msg("job.no_raster_dir"))
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        raise InputError(msg("job.raster_outside_dir", name=name))
    return path
