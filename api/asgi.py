"""ASGI entry point for servers started by import string (``uvicorn api.asgi:app``), e.g.
with several worker processes; settings come from the environment."""

from api.app import create_app

app = create_app()
