"""User-configured URLs never reach loopback, private, link-local or metadata addresses,
however they are spelled, unless allow-listed: a recorder server on loopback must see no
request at all."""
from __future__ import annotations

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pandas as pd
import pytest

from operators import get_operator
from operators.base import LocalContext, OperatorError
from operators.connections import HttpConnection, MySQLConnection, PostgresConnection
from operators.errors import RetryableError
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


# --- addresses that embed another address (S9) ------------------------------------------------
EMBEDDED = {
    "NAT64 of loopback": "64:ff9b::7f00:1", "NAT64 of 10/8": "64:ff9b::a00:1",
    "NAT64 of metadata": "64:ff9b::a9fe:a9fe", "local-use NAT64": "64:ff9b:1::808:808",
    "IPv4-mapped loopback": "::ffff:127.0.0.1", "IPv4-compatible loopback": "::127.0.0.1",
    "6to4 of loopback": "2002:7f00:1::1", "6to4 of 192.168/16": "2002:c0a8:101::1",
    "unspecified v4": "0.0.0.0", "unspecified v6": "::", "multicast v4": "224.0.0.1",
    "multicast v6": "ff02::1", "global multicast v6": "ff0e::1", "link-local v6": "fe80::1",
    "link-local v4": "169.254.169.254", "shared address space": "100.64.0.1",
    "unique local v6": "fd00::1",
}


@pytest.mark.parametrize("address", EMBEDDED.values(), ids=EMBEDDED.keys())
def test_addresses_that_lead_inside_are_refused(recorder, address: str) -> None:
    port, hits = recorder
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(OperatorError) as err:
        check_url(f"http://{host}:{port}/", allowlist=[], field="connection")
    assert "DATAGRAN_URL_ALLOWLIST" in err.value.message and hits == []


@pytest.mark.parametrize("address", ["8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
                                     "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_public_addresses_however_embedded_pass(address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    assert check_url(f"http://{host}/", allowlist=[], field="connection") == address


# --- DNS rebinding (item 20) ----------------------------------------------------------------
class Rebinding:
    """A resolver for rebind.test that answers ``first`` once, then ``later``."""

    def __init__(self, first: str, later: str) -> None:
        self.answers, self.later, self.calls = [first], later, 0
        self.real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return self.real(host, port, *args, **kwargs)
        self.calls += 1
        address = self.answers.pop() if self.answers else self.later
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


def http_json(port: int, allowlist: list[str]) -> Any:
    ctx = LocalContext(connections={"c": HttpConnection(base_url=f"http://rebind.test:{port}")},
                       url_allowlist=allowlist)
    op = get_operator("connector.http_json")
    return op.run(ctx, op.parse_params({"connection": "c", "path": "items", "retries": 0,
                                        "timeout_seconds": 2}))


def test_a_host_that_answers_public_then_loopback_never_reaches_loopback(
        recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check sees the public answer; a second lookup to connect would see loopback. The
    public address is not really dialled: connections to anything but loopback are refused
    here, as a firewall would."""
    port, hits = recorder
    resolver = Rebinding("93.184.216.34", "127.0.0.1")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    dialled: list[str] = []
    real_connect = socket.create_connection

    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        try:
            outside = not ipaddress.ip_address(address[0]).is_loopback
        except ValueError:  # a name: resolved inside, as without pinning
            return real_connect(address, *args, **kwargs)
        if outside:
            dialled.append(address[0])
            raise ConnectionRefusedError("no route outside in this test")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", connect)
    # The public address refuses: unreachable, a passing fault the engine retries.
    with pytest.raises(RetryableError):
        http_json(port, allowlist=[])
    assert hits == [] and dialled == ["93.184.216.34"] and resolver.calls == 1


def test_the_connection_goes_to_the_address_that_was_checked(
        recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    """Allowed: 127.0.0.1 only. Later answers say 127.0.0.2, where nothing listens: the
    request still reaches the server, so it went to the checked address."""
    port, hits = recorder
    resolver = Rebinding("127.0.0.1", "127.0.0.2")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    table = http_json(port, allowlist=["127.0.0.1/32"])["table"]
    assert isinstance(table, pd.DataFrame) and hits == ["/items"] and resolver.calls == 1


@pytest.mark.services
@pytest.mark.parametrize("conn", [PostgresConnection(host="rebind.test", database="postgres",
                                                     user="postgres"),
                                  MySQLConnection(host="rebind.test", database="test",
                                                  user="root")], ids=["postgresql", "mariadb"])
def test_a_database_connection_goes_to_the_address_that_was_checked(
        conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    resolver = Rebinding("127.0.0.1", "127.0.0.2")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    ctx = LocalContext(connections={"db": conn}, url_allowlist=["127.0.0.1/32"])
    op = get_operator("connector.sql_query")
    table = op.run(ctx, op.parse_params({"connection": "db", "query": "SELECT 1 AS one"}))
    assert table["table"]["one"].tolist() == [1] and resolver.calls == 1
