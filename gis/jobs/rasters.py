"""Land-cover rasters named by a client: only file names under the configured directory.

A server must never open whatever path a request names (``/etc/passwd``, ``../..``), so the
API's monitoring endpoint and the ``monitoring.run`` job both resolve names here, against
``GIS_RASTER_DIR``, and refuse anything that lands outside it.
"""

from __future__ import annotations

from pathlib import Path

from gis.errors import ConfigurationError, InputError
from gis.messages import msg

#: The longest file name a file system takes (ext4, NTFS: 255).
MAX_NAME = 255


def raster_path(folder: Path | None, name: str) -> Path:
    """``name`` resolved under ``folder`` (the ``raster_dir`` setting); a ConfigurationError
    when no directory is configured, an InputError for a name that escapes it."""
    if folder is None:
        raise ConfigurationError(msg("job.no_raster_dir"))
    if len(name) > MAX_NAME:  # the file system's limit: resolve() failed with OSError, a 500
        raise InputError(msg("security.raster_name_too_long", limit=MAX_NAME))
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        raise InputError(msg("job.raster_outside_dir", name=name))
    return path
