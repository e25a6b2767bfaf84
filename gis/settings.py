"""Settings from the environment (prefix ``GIS_``) and an optional ``.env`` file.

One class per concern keeps each part of the system honest about what it reads; nothing is
read at import time: callers build a :class:`Settings` (or call :func:`get_settings`) when
they start, so tests can point everything at their own cluster.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
    samples_dir: Path = PROJECT_ROOT / "data" / "samples"
    max_request_bytes: int = Field(
        default=20_000_000, gt=0,
        description="Larger request bodies are refused with 413 before they are read.")
    host: str = "127.0.0.1"
    port: int = 8000
    extent: tuple[float, float, float, float] = Field(
        default=(73.0, 3.0, 136.0, 54.0),
        description="Plausible lon/lat extent of the data (China); coordinates outside are "
        "refused on import as a sign of a wrong CRS.",
    )

    @field_validator("data_dir", "samples_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def uses_embedded_cluster(self) -> bool:
        return self.database_url is None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, built once on first use (never at import time)."""
    return Settings()
