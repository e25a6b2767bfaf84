"""Serving an ASGI app with several uvicorn worker processes, without Nagle's 40 ms.

Why this exists: with ``--workers`` above 1, uvicorn binds the listening socket itself, as
``socket.socket(AF_INET, SOCK_STREAM)`` whose ``proto`` is 0, and asyncio only sets
``TCP_NODELAY`` on accepted connections of sockets that say ``IPPROTO_TCP``. Every answer is
written in two sends (headers, then body), so the body waited for the client's delayed ACK:
**+40 ms on every request** (``/health`` 5 ms with one worker, 48 ms with two; a siting check
36 ms in the server and 80 ms at the client; measured 2026-12-02, docs/benchmarks.md). Here the
socket is rebuilt with ``IPPROTO_TCP`` before the workers inherit it, so asyncio sets
``TCP_NODELAY`` on each connection, as it does for a single worker.

Imports only the standard library and uvicorn: the layer-service benchmark starts tipg through
it too (``python -m api.server tipg.main:app``), so both servers are measured on the same
footing.
"""

from __future__ import annotations

import argparse
import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess


class _TcpConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return sock  # a Unix socket: no Nagle
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tcp.set_inheritable(True)
        return tcp


def serve(app: str, host: str, port: int, workers: int = 1, **options: Any) -> None:
    """Run ``app`` (an import string such as ``api.asgi:app``) on ``workers`` processes."""
    if workers <= 1:
        uvicorn.run(app, host=host, port=port, **options)  # asyncio's socket: TCP_NODELAY
        return
    config = _TcpConfig(app, host=host, port=port, workers=workers, **options)
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", help="import string, e.g. api.asgi:app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    serve(args.app, args.host, args.port, args.workers, log_level=args.log_level)


if __name__ == "__main__":
    main()
