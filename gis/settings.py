"""Settings from the environment (prefix ``GIS_``) and an optional ``.env`` file.

One class per concern keeps each part of the system honest about what it reads; nothing is
read at import time: callers build a :class:`Settings` (or call :func:`get_settings`) when
they start, so tests can point everything at their own cluster.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything configurable, read from ``GIS_*`` variables and ``.env``."""

    model_config = SettingsConfigDict(
        env_prefix="GIS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str | None = Field(
        default=None,
        description="Use this external PostgreSQL/PostGIS instead of the embedded cluster.",
    )
    data_dir: Path = Field(
        default=PROJECT_ROOT / ".gisdata",
        description="Where the embedded cluster keeps its files (ignored by git).",
    )
    db_port: int = Field(default=55432, ge=1024, le=65535)
    db_name: str = "onemap"
    db_user: str = "onemap"
    db_os_user: str = Field(
        default="postgres",
        description="Unprivileged OS account that runs the embedded server when the caller is "
        "root (PostgreSQL refuses to run as root). Created if missing.",
    )
    pg_bin: Path | None = Field(
        default=None, description="Directory with initdb/pg_ctl; found automatically if unset."
    )
    db_pool_size: int = Field(
        default=5, ge=1, le=100,
        description="Connections each engine keeps open (the API has one engine per process).")
    db_max_overflow: int = Field(
        default=10, ge=0, le=200,
        description="Extra connections an engine may open under load beyond the pool.")
    db_pool_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600,
        description="How long a request waits for a free connection before failing (503).")
    samples_dir: Path = PROJECT_ROOT / "data" / "samples"
    max_request_bytes: int = Field(
        default=20_000_000, gt=0,
        description="Larger request bodies are refused with 413 before they are read.")
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Level of the JSON log lines on stderr (GIS_LOG_LEVEL).")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins whose browser pages may call the API (CORS), e.g. "
        'GIS_CORS_ORIGINS=\'["https://gis.example.cn"]\'; empty (the default) allows none.')
    gzip_min_bytes: int = Field(
        default=1000, ge=0,
        description="Responses at least this large are gzip-compressed for clients that accept "
        "it (JSON, GeoJSON, HTML, JS, CSS, tiles).")
    basemap: Literal["osm", "tianditu", "offline"] = Field(
        default="osm",
        description="Base map the portal opens with: OpenStreetMap, Tianditu (needs "
        "tianditu_key) or offline (district and township outlines only, no request leaves the "
        "machine; the other base maps are then not offered at all).")
    tianditu_key: str | None = Field(
        default=None, description="Tianditu (天地图) browser key; offers the Tianditu base map.")
    extent: tuple[float, float, float, float] = Field(
        default=(73.0, 3.0, 136.0, 54.0),
        description="Plausible lon/lat extent of the data (China); coordinates outside are "
        "refused on import as a sign of a wrong CRS.",
    )

    layer_sensitivity: dict[str, str] = Field(
        default_factory=dict,
        description="Per-layer override of the catalogue's sensitivity (public, planner, "
        'forestry), e.g. GIS_LAYER_SENSITIVITY=\'{"eco_redline": "public"}\'.')
    rate_limit_per_minute: int = Field(
        default=60, gt=0,
        description="Requests per minute per key (or per client address without a key) on the "
        "expensive endpoints (analyses, exports); a key can carry its own limit.")
    auth_cache_seconds: float = Field(
        default=10.0, ge=0,
        description="How long a checked API key is trusted without asking the database again "
        "(also how long a revoked key may still work).")

    ogc_exact_count_limit: int = Field(
        default=100_000, ge=0,
        description="OGC API numberMatched is counted exactly when the planner expects at most "
        "this many rows, else the planner's estimate is returned (numberMatchedExact=false).")

    dem_path: Path | None = Field(
        default=None,
        description="Digital elevation model (GeoTIFF, any CRS) for terrain statistics; when "
        "set, the siting check adds slope figures. GIS_DEM_PATH.")
    raster_dir: Path | None = Field(
        default=None,
        description="Directory the API may read land-cover rasters from for monitoring runs "
        "(names relative to it only); unset, the API cannot start runs (the CLI can). "
        "GIS_RASTER_DIR.")
    job_workers: int = Field(
        default=2, ge=1, le=32,
        description="Threads per server process that run background jobs (/api/v1/jobs); "
        "more jobs wait queued. GIS_JOB_WORKERS.")

    @field_validator("data_dir", "samples_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("dem_path", "raster_dir")
    @classmethod
    def _absolute_optional(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None

    @property
    def uses_embedded_cluster(self) -> bool:
        return self.database_url is None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, built once on first use (never at import time)."""
    return Settings()
