"""Settings from the environment (``GIS_*``) and an optional ``.env`` file, one class per
concern: the database and its pools, the API, vector tiles, the portal, and data paths.

Each part of the system receives the section it needs (``settings.database``,
``settings.api`` ...), so what a module may be configured by is visible in its signature.
Nothing is read at import time: callers build a :class:`Settings` (or call
:func:`get_settings`) when they start, so tests can point everything at their own cluster.
Every field names its environment variable explicitly (``GIS_DB_POOL_SIZE``), so a section's
attribute can be short (``settings.database.pool_size``) while the variables stay as
documented in the README.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class _Section(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GIS_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        populate_by_name=True,
    )


def _env(name: str, **kwargs: Any) -> Any:
    """A field read from ``GIS_<NAME>``."""
    return Field(validation_alias=f"GIS_{name}", **kwargs)


class DatabaseSettings(_Section):
    """The database: an external URL or the embedded cluster, and the engines' pools."""

    url: str | None = _env(
        "DATABASE_URL", default=None,
        description="Use this external PostgreSQL/PostGIS instead of the embedded cluster.")
    data_dir: Path = _env(
        "DATA_DIR", default=PROJECT_ROOT / ".gisdata",
        description="Where the embedded cluster keeps its files (ignored by git).")
    port: int = _env("DB_PORT", default=55432, ge=1024, le=65535)
    name: str = _env("DB_NAME", default="onemap")
    user: str = _env("DB_USER", default="onemap")
    os_user: str = _env(
        "DB_OS_USER", default="postgres",
        description="Unprivileged OS account that runs the embedded server when the caller is "
        "root (PostgreSQL refuses to run as root). Created if missing.")
    pg_bin: Path | None = _env(
        "PG_BIN", default=None,
        description="Directory with initdb/pg_ctl; found automatically if unset.")
    pool_size: int = _env(
        "DB_POOL_SIZE", default=10, ge=1, le=100,
        description="Connections each engine keeps open (the API has one engine per process). "
        "Overflow connections are closed when returned, so requests beyond the pool each "
        "paid a new backend: with 5, eight clients of OGC items pages on one worker got "
        "113-144 pages/s with slumps, with 10 a steady 136 (docs/benchmarks.md).")
    max_overflow: int = _env(
        "DB_MAX_OVERFLOW", default=10, ge=0, le=200,
        description="Extra connections an engine may open under load beyond the pool.")
    pool_timeout_seconds: float = _env(
        "DB_POOL_TIMEOUT_SECONDS", default=30.0, gt=0, le=600,
        description="How long a request waits for a free connection before failing.")

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def uses_embedded_cluster(self) -> bool:
        return self.url is None


class ApiSettings(_Section):
    """The HTTP service: where it listens, limits, access, logging, compression, jobs."""

    host: str = _env("HOST", default="127.0.0.1")
    port: int = _env("PORT", default=8000, ge=1, le=65535)
    max_request_bytes: int = _env(
        "MAX_REQUEST_BYTES", default=20_000_000, gt=0,
        description="Larger request bodies are refused with 413, declared or streamed.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = _env(
        "LOG_LEVEL", default="INFO", description="Level of the JSON log lines on stderr.")
    cors_origins: list[str] = _env(
        "CORS_ORIGINS", default_factory=list,
        description="Origins whose browser pages may call the API (CORS), e.g. "
        'GIS_CORS_ORIGINS=\'["https://gis.example.cn"]\'; empty (the default) allows none.')
    gzip_min_bytes: int = _env(
        "GZIP_MIN_BYTES", default=1000, ge=0,
        description="Responses at least this large are gzip-compressed for clients that accept "
        "it (JSON, GeoJSON, HTML, JS, CSS, tiles).")
    gzip_level: int = _env(
        "GZIP_LEVEL", default=1, ge=1, le=9,
        description="zlib level of that compression. 1 (nginx's default) compresses a "
        "1M-parcel vector tile in 0.64 ms to 23.2 kB, level 5 in 1.22 ms to 21.4 kB: under "
        "load the CPU is the limit, not the bytes.")
    layer_sensitivity: dict[str, str] = _env(
        "LAYER_SENSITIVITY", default_factory=dict,
        description="Per-layer override of the catalogue's sensitivity (public, planner, "
        'forestry), e.g. GIS_LAYER_SENSITIVITY=\'{"eco_redline": "public"}\'.')
    rate_limit_per_minute: int = _env(
        "RATE_LIMIT_PER_MINUTE", default=60, gt=0,
        description="Requests per minute per key (or per client address without a key) on the "
        "expensive endpoints (analyses, exports); a key can carry its own limit.")
    auth_cache_seconds: float = _env(
        "AUTH_CACHE_SECONDS", default=10.0, ge=0,
        description="How long a checked API key is trusted without asking the database again "
        "(also how long a revoked key may still work).")
    ogc_exact_count_limit: int = _env(
        "OGC_EXACT_COUNT_LIMIT", default=100_000, ge=0,
        description="OGC API numberMatched is counted exactly when the planner expects at most "
        "this many rows, else the planner's estimate is returned (numberMatchedExact=false).")
    job_workers: int = _env(
        "JOB_WORKERS", default=2, ge=1, le=32,
        description="Worker threads per server process running background jobs.")
    trusted_hosts: list[str] = _env(
        "TRUSTED_HOSTS", default_factory=lambda: ["localhost", "127.0.0.1", "::1", "testserver"],
        description="Host names requests may address (the Host header); others are refused "
        "with 400, so no link is ever built from an attacker's Host. `*.example.cn` admits "
        "subdomains, `*` any host. `testserver` is the name of Starlette's test client.")
    public_base_url: str | None = _env(
        "PUBLIC_BASE_URL", default=None,
        description="The origin users reach the service at behind a proxy (e.g. "
        "https://gis.example.cn): every link the API builds starts with it, whatever the "
        "request's Host; its host is trusted. A scheme and host (and port) only, no path.")

    @field_validator("public_base_url")
    @classmethod
    def _origin_only(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") \
                or parts.query or parts.fragment:
            raise ValueError("GIS_PUBLIC_BASE_URL must be an origin such as "
                             "https://gis.example.cn (no path)")
        return f"{parts.scheme}://{parts.netloc}"
    dask_scheduler: str | None = _env(
        "DASK_SCHEDULER", default=None,
        description="dask.distributed scheduler address (e.g. tcp://10.0.0.5:8786) that tiled "
        "detection runs on (detection jobs run tiled when it is set); unset, a tiled run "
        "(gis reconcile detect --tiled) starts a LocalCluster on all cores.")


class TileSettings(_Section):
    """Vector tiles: their own asynchronous connection pool, apart from the API's engine."""

    pool_min_size: int = _env("TILE_POOL_MIN_SIZE", default=2, ge=0, le=100)
    pool_max_size: int = _env(
        "TILE_POOL_MAX_SIZE", default=12, ge=1, le=200,
        description="Most connections the tile pool opens (tiles are many small queries).")
    statement_timeout_ms: int = _env(
        "TILE_STATEMENT_TIMEOUT_MS", default=30_000, ge=100, le=600_000,
        description="A tile query running longer is cancelled (the client gets an error "
        "rather than a server busy for minutes on one huge tile).")
    pool_timeout_seconds: float = _env(
        "TILE_POOL_TIMEOUT_SECONDS", default=10.0, gt=0, le=600,
        description="How long a tile request waits for a connection (while the database "
        "restarts, say) before it is answered 503 with Retry-After.")


class PortalSettings(_Section):
    """The map portal's base maps."""

    basemap: Literal["osm", "tianditu", "offline"] = _env(
        "BASEMAP", default="osm",
        description="Base map the portal opens with: OpenStreetMap, Tianditu (needs "
        "GIS_TIANDITU_KEY) or offline (district and township outlines only, no request leaves "
        "the machine; the other base maps are then not offered at all).")
    tianditu_key: str | None = _env(
        "TIANDITU_KEY", default=None,
        description="Tianditu (天地图) browser key; offers the Tianditu base map.")


class DataSettings(_Section):
    """Where data comes from: samples, the DEM, land-cover rasters, the plausible extent."""

    samples_dir: Path = _env("SAMPLES_DIR", default=PROJECT_ROOT / "data" / "samples")
    extent: tuple[float, float, float, float] = _env(
        "EXTENT", default=(73.0, 3.0, 136.0, 54.0),
        description="Plausible lon/lat extent of the data (China); coordinates outside are "
        "refused on import as a sign of a wrong CRS.")
    dem_path: Path | None = _env(
        "DEM_PATH", default=None,
        description="Digital elevation model (GeoTIFF, any CRS) for terrain statistics; when "
        "set, the siting check adds slope figures.")
    raster_dir: Path | None = _env(
        "RASTER_DIR", default=None,
        description="Directory the API may read land-cover rasters from for monitoring runs "
        "(names relative to it only); unset, the API cannot start runs (the CLI can).")

    @field_validator("samples_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("dem_path", "raster_dir")
    @classmethod
    def _absolute_optional(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None


class Settings(BaseModel):
    """All sections; each read from the environment when the object is built."""

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    tiles: TileSettings = Field(default_factory=TileSettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)
    data: DataSettings = Field(default_factory=DataSettings)

    def with_changes(self, **sections: dict[str, Any]) -> Settings:
        """A copy with fields of some sections changed, e.g.
        ``settings.with_changes(data={"raster_dir": path}, portal={"basemap": "offline"})``.
        Unknown sections or fields are refused rather than silently ignored."""
        updates: dict[str, BaseModel] = {}
        for name, changes in sections.items():
            section = getattr(self, name, None)
            if not isinstance(section, BaseModel) or name not in type(self).model_fields:
                raise KeyError(f"no settings section {name!r}")
            unknown = set(changes) - set(type(section).model_fields)
            if unknown:
                raise KeyError(f"section {name!r} has no fields {sorted(unknown)}")
            updates[name] = section.model_copy(update=changes)
        return self.model_copy(update=updates)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, built once on first use (never at import time)."""
    return Settings()
