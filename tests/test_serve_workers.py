"""``gis serve --workers N``: several worker processes whose connections send at once.

uvicorn's own multi-worker socket left Nagle's algorithm on, so every answer's body waited for
the client's delayed ACK (+40 ms per request; api/server.py). Checked on the socket itself and
over HTTP against the real ``gis`` executable with two workers."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from api.server import _TcpConfig
from tests.conftest import free_port
from tests.server_fixtures import uvicorn_process

#: Delayed ACK holds a held-back body for 40 ms on Linux; a direct answer takes a few ms.
NAGLE_FLOOR_S = 0.040


def test_worker_socket_is_tcp_with_nodelay() -> None:
    sock = _TcpConfig("api.asgi:app", host="127.0.0.1", port=free_port(), workers=2).bind_socket()
    try:
        assert sock.proto == socket.IPPROTO_TCP  # asyncio sets TCP_NODELAY on its connections
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert sock.get_inheritable()
    finally:
        sock.close()


def test_two_workers_answer_without_the_delayed_ack(settings, engine) -> None:
    gis = str(Path(sys.executable).with_name("gis"))
    times = []
    with (uvicorn_process(command=[gis, "serve", "--workers", "2"],
                          stderr=subprocess.DEVNULL) as (_, url),
          httpx.Client(base_url=url, timeout=30) as client):  # one kept-alive connection
        for _ in range(30):
            started = time.perf_counter()
            answer = client.get("/ogc/conformance")
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200 and answer.json()["conformsTo"]
    assert statistics.median(times) < NAGLE_FLOOR_S * 0.75, times
