"""``gis serve``: the API and the portal under uvicorn.

The command line is an application over the library, like the API, so it may start the API;
the library itself never imports ``api``."""

from __future__ import annotations

from typing import Annotated

import typer

from gis.cli.resources import settings


def serve_cmd(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
) -> None:
    """Serve the API and the portal (uvicorn)."""
    import uvicorn

    from api.app import create_app

    config = settings()
    # The app writes its own access line per request (JSON, with the request id and the key's
    # holder); uvicorn's would repeat it without them.
    uvicorn.run(create_app(config), host=host or config.api.host, port=port or config.api.port,
                access_log=False)
