"""Request bodies against a real daphne process: a body is judged by its headers before it
is read. Each hostile request sends up to 1 GiB from a generator over a raw socket (the test
never holds it) and stops sending when the answer arrives; the server's resident memory is
sampled from /proc meanwhile."""
from __future__ import annotations

import json
import select
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live.server import LiveServer

GIB = 1 << 30
CHUNK = b"x" * (1 << 20)
MEMORY_BOUND = 50_000_000  # bytes a refused body may add to the server (the bound)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(mode="embedded") as live:
        yield live


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class PeakRss:
    """The largest resident size of a process while the block runs, sampled every 10 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.running = pid, 0, True

    def __enter__(self) -> PeakRss:
        self.before = rss(self.pid)
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.3)  # what the server does with the rest of the body
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, rss(self.pid))

    @property
    def added(self) -> int:
        return self.peak - self.before


def daphne_pid(server: LiveServer) -> int:
    return next(p.pid for p in server.procs if "daphne" in p.args)  # type: ignore[operator]


def exchange(server: LiveServer, path: str, headers: dict[str, str], body: Iterable[bytes],
             *, chunked: bool = False) -> tuple[int, dict[str, Any], int]:
    """Send a POST, the body from a generator, until the server answers; return the status,
    the JSON answer and the body bytes sent."""
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    if chunked:
        head.append("Transfer-Encoding: chunked")
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for piece in body:
            if select.select([sock], [], [], 0)[0]:
                break  # answered: stop sending, as a client reading its socket would
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        return (*read_answer(sock), sent)


def read_answer(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        assert more, f"connection closed without an answer: {data!r}"
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    length = int(fields.get("content-length", "0"))
    while len(rest) < length:
        more = sock.recv(65536)
        if not more:
            break
        rest += more
    return int(lines[0].split()[1]), json.loads(rest[:length] or b"{}")


def gib() -> Iterator[bytes]:
    return (CHUNK for _ in range(GIB // len(CHUNK)))


def multipart(payload: Iterable[bytes], size: int, name: str = "data.csv"
              ) -> tuple[dict[str, str], Iterator[bytes], int]:
    boundary = uuid.uuid4().hex
    pre = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
           f"filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    post = f"\r\n--{boundary}--\r\n".encode()

    def parts() -> Iterator[bytes]:
        yield pre
        yield from payload
        yield post

    length = len(pre) + size + len(post)
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, parts(), length


def test_an_anonymous_gigabyte_is_refused_before_it_is_read(server: LiveServer) -> None:
    with PeakRss(daphne_pid(server)) as memory:
        status, answer, sent = exchange(server, "/api/pipelines/", {
            "Content-Type": "application/json", "Content-Length": str(GIB)}, gib())
    print(f"anonymous 1 GiB: {status}, {sent:,} bytes sent, server RSS +{memory.added:,}")
    assert status == 401 and "credentials" in answer["message"]
    assert memory.added < MEMORY_BOUND


def test_a_gigabyte_upload_is_refused_by_its_length_naming_the_limit(
        server: LiveServer) -> None:
    headers, body, length = multipart(gib(), GIB)
    with PeakRss(daphne_pid(server)) as memory:
        status, answer, sent = exchange(server, "/api/datasets/", {
            **headers, "Content-Length": str(length),
            "Authorization": f"Token {server.token}"}, body)
    print(f"logged-in 1 GiB upload: {status}, {sent:,} bytes sent, "
          f"server RSS +{memory.added:,}")
    [(setting, [limit])] = answer["extra"]["fields"].items()
    assert status == 413 and setting == "DATAGRAN_UPLOAD_MAX_BYTES"
    assert limit.removeprefix("at most ") in answer["message"]
    assert memory.added < MEMORY_BOUND
    assert server.api("GET", "/api/datasets/") == []


def test_a_chunked_gigabyte_is_refused_by_the_bytes_read(server: LiveServer) -> None:
    headers, body, _ = multipart(gib(), GIB)
    started = time.monotonic()
    with PeakRss(daphne_pid(server)) as memory:
        status, answer, sent = exchange(server, "/api/datasets/", {
            **headers, "Authorization": f"Token {server.token}"}, body, chunked=True)
    print(f"chunked 1 GiB upload: {status} after {sent:,} bytes sent, "
          f"{time.monotonic() - started:.1f} s, server RSS +{memory.added:,}")
    assert status == 413 and "DATAGRAN_UPLOAD_MAX_BYTES" in answer["message"]
    assert sent < GIB // 2
    assert memory.added < MEMORY_BOUND
    assert server.api("GET", "/api/datasets/") == []


def test_a_bad_token_is_answered_before_any_of_the_body_is_sent(server: LiveServer) -> None:
    headers, _, length = multipart(iter(()), 50 << 20)
    status, answer, sent = exchange(server, "/api/datasets/", {
        **headers, "Content-Length": str(length), "Authorization": "Token not-a-token"},
        iter(()))  # nothing of the body is sent: the answer cannot have waited for it
    assert (status, sent) == (401, 0) and "credentials" in answer["message"]


def test_a_json_body_over_the_api_limit_is_a_413(server: LiveServer) -> None:
    big = json.dumps({"name": "x", "description": "y" * (5 << 20)}).encode()
    status, answer, _ = exchange(server, "/api/pipelines/", {
        "Content-Type": "application/json", "Content-Length": str(len(big)),
        "Authorization": f"Token {server.token}"}, [big])
    assert status == 413 and list(answer["extra"]["fields"]) == ["DATAGRAN_REQUEST_MAX_BYTES"]


def test_an_accepted_upload_streams_through_to_a_dataset(server: LiveServer) -> None:
    rows = b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * 2) for i in range(400_000))
    headers, body, length = multipart([rows], len(rows))
    status, answer, _ = exchange(server, "/api/datasets/", {
        **headers, "Content-Length": str(length), "Authorization": f"Token {server.token}"},
        body)
    assert status == 201, answer
    assert answer["row_count"] == 400_000 and answer["size_bytes"] == len(rows)


def test_other_requests_are_answered_while_a_bomb_is_checked(server: LiveServer) -> None:
    from tests.security.test_bombs import parquet_of_one_string_repeated, xlsx_with_rows

    for name, bomb, limit in [
            ("bomb.xlsx", xlsx_with_rows(2_000_000), "1,048,576 rows"),
            ("bomb.parquet", parquet_of_one_string_repeated(2_000_000), f"{1 << 30:,} bytes")]:
        headers, body, length = multipart([bomb], len(bomb), name=name)
        answer: dict[str, Any] = {}

        def send(headers: dict[str, str] = headers, body: Iterator[bytes] = body,
                 length: int = length, answer: dict[str, Any] = answer) -> None:
            started = time.monotonic()
            answer["status"], answer["json"], _ = exchange(server, "/api/datasets/", {
                **headers, "Content-Length": str(length),
                "Authorization": f"Token {server.token}"}, body)
            answer["seconds"] = time.monotonic() - started

        sender = threading.Thread(target=send)
        sender.start()
        latencies = []
        while sender.is_alive():
            started = time.monotonic()
            server.api("GET", "/api/workspaces/")
            latencies.append(time.monotonic() - started)
            time.sleep(0.02)
        sender.join()
        print(f"{name}: refused {answer['status']} in {answer['seconds']:.2f} s; "
              f"{len(latencies)} other requests meanwhile, slowest {max(latencies):.3f} s")
        assert answer["status"] == 400 and limit in answer["json"]["message"]
        assert answer["seconds"] < 30  # "within seconds": the figure is printed


def test_a_signed_in_browser_uploads_a_large_file_with_its_session(server: LiveServer) -> None:
    """The session cookie is checked before the body is read, like a token."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{server.base_url}/accounts/login/").read().decode()
    csrf = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[0]
    opener.open(urllib.request.Request(
        f"{server.base_url}/accounts/login/", method="POST",
        data=urllib.parse.urlencode({"username": "demo", "password": "datagran-demo",
                                     "csrfmiddlewaretoken": csrf}).encode(),
        headers={"Referer": f"{server.base_url}/accounts/login/"}))
    cookies = {c.name: c.value or "" for c in jar}
    assert "sessionid" in cookies
    rows = b"a,b\n" + b"".join(b"%d,%d\n" % (i, -i) for i in range(50_000))  # ~600 KB
    headers, body, length = multipart([rows], len(rows), name="session.csv")
    browser = {**headers, "Content-Length": str(length),
               "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
               "X-CSRFToken": cookies["csrftoken"]}
    status, answer, _ = exchange(server, "/api/datasets/", browser, body)
    assert status == 201 and answer["row_count"] == 50_000
    forged = {**browser, "Cookie": f"sessionid=forged{cookies['sessionid'][6:]}"}
    status, answer, sent = exchange(server, "/api/datasets/", forged, iter(()))
    assert (status, sent) == (401, 0)


def test_an_accepted_upload_is_not_copied_into_memory(server: LiveServer) -> None:
    """90 MB within the limit reach the view through files on disk (Twisted's, then
    Django's upload file): the view refuses the file type without reading it."""
    size = 90 << 20
    headers, body, length = multipart((CHUNK for _ in range(size // len(CHUNK))), size,
                                      name="data.bin")
    with PeakRss(daphne_pid(server)) as memory:
        status, answer, sent = exchange(server, "/api/datasets/", {
            **headers, "Content-Length": str(length),
            "Authorization": f"Token {server.token}"}, body)
    print(f"accepted 90 MB body: {status}, server RSS +{memory.added:,}")
    assert sent == length and status == 400 and "Unsupported file type" in answer["message"]
    assert memory.added < MEMORY_BOUND
