"""User-configured URLs never reach loopback, private, link-local or metadata addresses,
however they are spelled, unless allow-listed: a recorder server on loopback must see no
request at all."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from operators import get_operator
from operators.base import LocalContext, OperatorError
from operators.connections import HttpConnection
from operators.net import check_url


@pytest.fixture
def recorder():
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            if self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{port}/secret")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port, hits
    server.shutdown()


SPELLINGS = ["http://127.0.0.1:{port}/", "http://[::1]:{port}/", "http://127.1:{port}/",
             "http://0x7f000001:{port}/", "http://2130706433:{port}/",
             "http://localhost:{port}/", "http://10.0.0.1/", "http://169.254.169.254/latest/",
             "http://[::ffff:127.0.0.1]:{port}/", "http://0.0.0.0:{port}/"]


@pytest.mark.parametrize("url", SPELLINGS)
def test_every_spelling_of_an_internal_address_is_refused(recorder, url: str) -> None:
    port, hits = recorder
    with pytest.raises(OperatorError) as err:
        check_url(url.format(port=port), allowlist=[], field="connection")
    assert err.value.field == "connection"
    assert hits == []


@pytest.mark.parametrize("url", SPELLINGS[:6])
def test_the_http_connector_sends_nothing_to_them(recorder, url: str) -> None:
    port, hits = recorder
    ctx = LocalContext(connections={"c": HttpConnection(base_url=url.format(port=port))})
    op = get_operator("connector.http_json")
    with pytest.raises(OperatorError):
        op.run(ctx, op.parse_params({"connection": "c", "path": "items"}))
    assert hits == []


def test_a_redirect_from_an_allowed_host_to_loopback_is_not_followed(recorder) -> None:
    port, hits = recorder
    ctx = LocalContext(connections={"c": HttpConnection(base_url=f"http://localhost:{port}")},
                       url_allowlist=["localhost"])
    op = get_operator("connector.http_json")
    with pytest.raises(OperatorError):
        op.run(ctx, op.parse_params({"connection": "c", "path": "redirect"}))
    assert hits == ["/redirect"]  # the redirect target was never requested


def test_an_allow_listed_server_is_reached(recorder) -> None:
    port, hits = recorder
    ctx = LocalContext(connections={"c": HttpConnection(base_url=f"http://127.0.0.1:{port}")},
                       url_allowlist=["127.0.0.1"])
    op = get_operator("connector.http_json")
    out = op.run(ctx, op.parse_params({"connection": "c", "path": "items"}))["table"]
    assert isinstance(out, pd.DataFrame) and hits == ["/items"]
