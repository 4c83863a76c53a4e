"""Hostile Hub servers (issue 13): one echoes the request headers (the token) in errors, one never answers.
The token never reaches the terminal, whatever its source; a silent server is a clear error, not a hang."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scitune.curate import hub
from tests.curate.sample_figures import make_out

TOKEN = "hf_EchoedBackByTheServer0123456789"


class _Echo(BaseHTTPRequestHandler):
    """Answers every request 400 with the request's headers in the error (as some proxies do)."""

    def _echo(self) -> None:
        body = json.dumps({"error": f"bad request, headers were {dict(self.headers)}"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_HEAD = _echo

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def echo_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("source", ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "--token"])
def test_token_echoed_by_the_server_is_never_printed(tmp_path, echo_server, source):
    out = make_out(tmp_path / "out")
    env = {**os.environ, "HF_ENDPOINT": echo_server, "HF_HUB_OFFLINE": "0", "HF_HUB_DISABLE_XET": "1"}
    env["HF_HOME"] = str(tmp_path / "hf")  # no saved login of the machine
    args = [sys.executable, "-m", "scitune.curate.cli", "push-to-hub", str(out), "me/data"]
    if source == "--token":
        args += ["--token", TOKEN]
    else:
        env[source] = TOKEN
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "push to me/data failed" in done.stderr and "bad request, headers were" in done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert "Bearer ***" in done.stderr  # the header is still named, its value gone


def test_a_server_that_never_answers_is_an_error_not_a_hang(tmp_path, monkeypatch):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections (the kernel does), never reads or answers
    monkeypatch.setattr(hub, "REQUEST_TIMEOUT_S", 0.5)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    out = make_out(tmp_path / "out")
    start = time.monotonic()
    try:
        with pytest.raises(Exception) as caught:
            hub.push_to_hub(
                out,
                "me/data",
                token=TOKEN,
                endpoint=f"http://127.0.0.1:{silent.getsockname()[1]}",
                retry_delay=0,
                log=lambda line: None,
            )
    finally:
        silent.close()
        from huggingface_hub import set_client_factory
        from huggingface_hub.utils._http import default_client_factory

        set_client_factory(default_client_factory)
    assert "Timeout" in type(caught.value).__name__ or "timed out" in str(caught.value).lower()
    assert time.monotonic() - start < 30  # five attempts of half a second, not for ever
