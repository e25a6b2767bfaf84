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
    workers: Annotated[int, typer.Option(
        min=1, help="Worker processes (each reads its settings from the environment).")] = 1,
) -> None:
    """Serve the API and the portal (uvicorn)."""
    config = settings()
    host, port = host or config.api.host, port or config.api.port
    # The app writes its own access line per request (JSON, with the request id and the key's
    # holder); uvicorn's would repeat it without them.
    if workers > 1:
        from api.server import serve  # several processes, each importing api.asgi

        serve("api.asgi:app", host, port, workers, access_log=False)
        return
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(config), host=host, port=port, access_log=False)
