"""Settings and database engines for commands.

An engine holds a connection pool; a command that leaves it to the garbage collector keeps
connections open until the process ends (and in tests, where many commands run in one
process, until the server runs out of them). :func:`open_engine` disposes of it whatever
happens. Both import the library only when called, so ``gis --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from gis.settings import Settings


def settings() -> Settings:
    """The process's settings (environment, ``.env``), built on first use and cached."""
    from gis.settings import get_settings

    return get_settings()


@contextmanager
def open_engine() -> Iterator[Engine]:
    """An engine for the configured database, disposed of when the block ends."""
    from gis.db.engine import make_engine

    engine = make_engine(settings())
    try:
        yield engine
    finally:
        engine.dispose()
