"""`review --serve`: the written site over HTTP on 127.0.0.1 only (never on other interfaces)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = "127.0.0.1"  # the site shows unpublished data: reachable from this machine only


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass  # one line per thumbnail would drown the URL the user needs


def make_server(site: Path, port: int = 8000) -> ThreadingHTTPServer:
    """A server for the site folder (port 0: any free port; read it from `server.server_address`)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    return ThreadingHTTPServer((HOST, port), handler)


def serve(site: Path, port: int = 8000, log: Callable[[str], None] = print) -> None:
    """Serve the site until Ctrl-C."""
    with make_server(site, port) as server:
        host, real_port = server.server_address[:2]
        log(f"serving {site} at http://{host}:{real_port}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            log("stopped")
