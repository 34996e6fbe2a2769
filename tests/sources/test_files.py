"""The files source against real storage: an S3-compatible server (moto in server mode), a
folder under a temporary files root, and a local web server serving files with
Last-Modified, byte ranges and a directory listing. CSV with a semicolon in latin-1, Parquet,
JSON lines, Excel, globs, incremental runs by modification time, and the refusals: paths out
of the folder, symlinks out of it, private endpoints, redirects, wrong credentials, a gzip
bomb."""
from __future__ import annotations

import gzip
import io
import os
import socket
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError

from operators import LocalContext, get_operator
from operators.base import OperatorError
from operators.connections import FilesConnection
from operators.connectors._connection import check_connection
from operators.connectors._dlt import state_key
from operators.errors import RetryableError
from tests.operators.local_http import JsonHandler, serve
from tests.s3 import S3Server, s3_server  # noqa: F401  (the session's S3 server fixture)

OP = get_operator("connector.files")
LATIN1_CSV = "nom;ville;montant\nJosé;Zürich;12\nRenée;Orléans;7\n".encode("latin-1")


def _ctx(conn: FilesConnection, **kwargs: Any) -> LocalContext:
    return LocalContext(connections={"f": conn}, **kwargs)


def _run(ctx: LocalContext, **params: Any) -> pd.DataFrame:
    table: pd.DataFrame = OP.run(ctx, OP.parse_params({"connection": "f", **params}))["table"]
    return table


def _parquet(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()


# --- a folder under the server's files root ------------------------------------------------------
@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "files" / "exports"
    folder.mkdir(parents=True)
    return tmp_path / "files"


def _local(root: Path) -> LocalContext:
    return _ctx(FilesConnection(url="exports"), files_root=str(root))


def test_a_semicolon_latin1_csv_is_read_with_the_upload_detection(root: Path) -> None:
    (root / "exports" / "ventes.csv").write_bytes(LATIN1_CSV)
    ctx = _local(root)
    table = _run(ctx, path="ventes.csv")
    assert table["nom"].tolist() == ["José", "Renée"]
    assert table["ville"].tolist() == ["Zürich", "Orléans"]
    assert table["montant"].tolist() == [12, 7]
    assert table["_file"].tolist() == ["ventes.csv", "ventes.csv"]
    assert ctx.source_reports[-1]["records"] == 2


def test_a_glob_reads_several_files_into_one_table_and_the_next_run_only_new_ones(
        root: Path) -> None:
    folder = root / "exports"
    for i, month in enumerate(("01", "02")):
        (folder / f"2026-{month}.csv").write_text(f"id,amount\n{i},{i * 10}\n")
        os.utime(folder / f"2026-{month}.csv", (1_700_000_000 + i, 1_700_000_000 + i))
    (folder / "notes.txt").write_text("not matched\n")
    ctx = _local(root)
    first = _run(ctx, path="2026-*.csv")
    assert sorted(first["_file"]) == ["2026-01.csv", "2026-02.csv"]
    (folder / "2026-03.csv").write_text("id,amount\n2,20\n")
    os.utime(folder / "2026-03.csv", (1_700_000_100, 1_700_000_100))
    second = _run(ctx, path="2026-*.csv")
    assert second["_file"].tolist() == ["2026-03.csv"]
    report = ctx.source_reports[-1]
    assert report["new"] == 1 and report["cursor_before"] < report["cursor_after"]
    # Nothing new: no records, the same columns (none reported gone).
    third = _run(ctx, path="2026-*.csv")
    assert len(third) == 0 and ctx.source_reports[-1]["missing_columns"] == []
    # A full refresh reads every file again.
    ctx.full_refresh = True
    assert len(_run(ctx, path="2026-*.csv")) == 3


def test_the_accumulated_output_merges_a_rewritten_file_by_primary_key(root: Path) -> None:
    path = root / "exports" / "customers.csv"
    path.write_text("id,plan\n1,free\n2,free\n")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    ctx = _local(root)
    _run(ctx, path="customers.csv", primary_key=["id"], output="accumulated")
    path.write_text("id,plan\n2,pro\n3,free\n")
    os.utime(path, (1_700_000_500, 1_700_000_500))
    table = _run(ctx, path="customers.csv", primary_key=["id"], output="accumulated")
    assert dict(zip(table["id"], table["plan"], strict=True)) == {1: "free", 2: "pro",
                                                                  3: "free"}
    assert (ctx.source_reports[-1]["new"], ctx.source_reports[-1]["updated"]) == (1, 1)


def test_jsonl_excel_and_a_gzipped_csv_are_read(root: Path) -> None:
    folder = root / "exports"
    (folder / "events.jsonl").write_text('{"user": "a", "n": 1}\n{"user": "b", "n": 2}\n')
    with pd.ExcelWriter(folder / "book.xlsx") as writer:
        pd.DataFrame({"q": [1]}).to_excel(writer, sheet_name="Q1", index=False)
        pd.DataFrame({"q": [2, 3]}).to_excel(writer, sheet_name="Q2", index=False)
    (folder / "big.csv.gz").write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * 1000))
    ctx = _local(root)
    assert _run(ctx, path="events.jsonl")["user"].tolist() == ["a", "b"]
    assert _run(ctx, path="book.xlsx", sheet="Q2")["q"].tolist() == [2, 3]
    assert OP.options(ctx, {"connection": "f", "path": "book.xlsx"}, "sheet") == ["Q1", "Q2"]
    with pytest.raises(OperatorError, match="no sheet 'Q9'"):
        _run(ctx, path="book.xlsx", sheet="Q9")
    assert len(_run(ctx, path="big.csv.gz")) == 1000


def test_a_gzip_bomb_is_refused_naming_the_limit_and_nothing_is_stored(root: Path) -> None:
    (root / "exports" / "bomb.csv.gz").write_bytes(
        gzip.compress(b"a\n" + b"0\n" * (3 * 2**20), compresslevel=9))
    ctx = _local(root)
    with pytest.raises(OperatorError) as caught:
        _run(ctx, path="bomb.csv.gz", max_unpacked_mb=1)
    assert "more than 1 MB" in caught.value.message
    assert caught.value.field == "max_unpacked_mb"
    assert ctx.source_reports == [] and ctx.tables == {}


@pytest.mark.parametrize("path", ["../secret.csv", "exports/../../x.csv", "/etc/passwd",
                                  "file:///etc/passwd", "s3://other/x.csv", "~/x.csv"])
def test_a_path_out_of_the_connection_is_refused(path: str) -> None:
    with pytest.raises(ValidationError, match="path"):
        OP.parse_params({"connection": "f", "path": path})


def test_a_symlink_out_of_the_root_is_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "private.csv"
    outside.write_text("password\nhunter2\n")
    (root / "exports" / "link.csv").symlink_to(outside)
    ctx = _local(root)
    with pytest.raises(OperatorError, match="out of the server's files folder") as caught:
        _run(ctx, path="*.csv")
    assert "hunter2" not in caught.value.message
    assert ctx.source_reports == []
    # The file picker does not offer it either.
    assert OP.options(ctx, {"connection": "f"}, "path") == []


@pytest.mark.parametrize("url", ["../", "/etc", "file:///etc", "ftp://example.com/x"])
def test_a_connection_folder_out_of_the_root_or_another_scheme_is_refused(
        root: Path, url: str) -> None:
    ctx = _ctx(FilesConnection(url=url), files_root=str(root))
    with pytest.raises(OperatorError) as caught:
        _run(ctx, path="*.csv")
    assert caught.value.field == "connection"


def test_a_server_folder_is_refused_when_no_files_root_is_set(root: Path) -> None:
    ctx = _ctx(FilesConnection(url="exports"))
    with pytest.raises(OperatorError, match="DATAGRAN_FILES_ROOT"):
        _run(ctx, path="*.csv")


def test_a_file_larger_than_the_upload_limit_loads(root: Path, settings: Any) -> None:
    settings.DATAGRAN = {**settings.DATAGRAN, "UPLOAD_MAX_BYTES": 1000}
    rows = 50_000
    (root / "exports" / "large.csv").write_text(
        "id;label\n" + "".join(f"{i};row {i}\n" for i in range(rows)))
    assert (root / "exports" / "large.csv").stat().st_size > 1000 * 100
    table = _run(_local(root), path="large.csv")
    assert len(table) == rows and table["id"].iloc[-1] == rows - 1


def test_the_sample_is_the_first_rows_and_infer_schema_answers_what_it_saw(root: Path
                                                                           ) -> None:
    (root / "exports" / "large.csv").write_text(
        "id,label\n" + "".join(f"{i},row {i}\n" for i in range(500)))
    ctx = _local(root)
    params = OP.parse_params({"connection": "f", "path": "large.csv"})
    sample = OP.sample(ctx, params)
    assert len(sample) == 100 and list(sample.columns) == ["id", "label", "_file",
                                                           "_modified"]
    assert OP.infer_schema(ctx, params)["table"] is None  # nothing known yet
    key = state_key("connector.files", params.model_dump(mode="json"))
    ctx.known_schemas[key] = [{"name": "id", "type": "int"}]
    assert OP.infer_schema(ctx, params)["table"] == [{"name": "id", "type": "int"}]


# --- S3 (moto in server mode) --------------------------------------------------------------------
def _s3(s3: S3Server, prefix: str, secret: str | None = None) -> LocalContext:
    conn = FilesConnection(url=f"s3://{s3.bucket}/{prefix}", endpoint_url=s3.endpoint,
                           key=s3.key, secret=SecretStr(secret or s3.secret),
                           region="us-east-1")
    return _ctx(conn, url_allowlist=["127.0.0.1"])


def test_s3_parquet_and_csv_files_under_a_prefix(s3_server: S3Server) -> None:  # noqa: F811
    client = s3_server.client()
    prefix = "h4-files/parquet"
    for i in range(3):
        client.put_object(Bucket=s3_server.bucket, Key=f"{prefix}/part-{i}.parquet",
                          Body=_parquet(pd.DataFrame({"id": [i * 2, i * 2 + 1],
                                                      "score": [0.5, 1.5]})))
    client.put_object(Bucket=s3_server.bucket, Key=f"{prefix}/sub/ventes.csv",
                      Body=LATIN1_CSV)
    ctx = _s3(s3_server, prefix)
    table = _run(ctx, path="*.parquet")
    assert sorted(table["id"]) == [0, 1, 2, 3, 4, 5]
    assert str(table["score"].dtype) == "float64"
    assert _run(ctx, path="sub/ventes.csv")["ville"].tolist() == ["Zürich", "Orléans"]
    assert OP.options(ctx, {"connection": "f"}, "path") == [
        "part-0.parquet", "part-1.parquet", "part-2.parquet", "sub/ventes.csv"]
    ok = check_connection(ctx.connections["f"], url_allowlist=["127.0.0.1"],  # type: ignore[arg-type]
                          sqlite_root=None)
    assert ok.ok and "4 files" in ok.message


def test_s3_incremental_with_a_primary_key_reads_only_the_changed_file(
        s3_server: S3Server) -> None:  # noqa: F811
    client = s3_server.client()
    prefix = "h4-files/incremental"
    client.put_object(Bucket=s3_server.bucket, Key=f"{prefix}/a.jsonl",
                      Body=b'{"id": 1, "v": "a"}\n')
    ctx = _s3(s3_server, prefix)
    assert _run(ctx, path="*.jsonl", primary_key=["id"])["id"].tolist() == [1]
    time.sleep(1.1)  # S3 keeps modification times in whole seconds
    client.put_object(Bucket=s3_server.bucket, Key=f"{prefix}/b.jsonl",
                      Body=b'{"id": 2, "v": "b"}\n')
    second = _run(ctx, path="*.jsonl", primary_key=["id"])
    assert second["_file"].tolist() == ["b.jsonl"] and second["id"].tolist() == [2]


def test_wrong_s3_credentials_name_the_connection_and_hide_the_secret(
        s3_server: S3Server) -> None:  # noqa: F811
    ctx = _s3(s3_server, "h4-files/parquet", secret="wrong-secret-value-123")
    ctx.connection_names = {"f": "Marketing bucket"}  # type: ignore[attr-defined]
    with pytest.raises(OperatorError) as caught:
        _run(ctx, path="*.parquet")
    message = caught.value.message
    assert "Marketing bucket" in message and "refused the credentials" in message
    assert caught.value.field == "connection"
    assert "wrong-secret-value-123" not in message + " ".join(ctx.logs)
    assert ctx.source_reports == []
    failed = check_connection(ctx.connections["f"], url_allowlist=["127.0.0.1"],  # type: ignore[arg-type]
                              sqlite_root=None)
    assert not failed.ok and "refused the credentials" in failed.message
    assert "wrong-secret-value-123" not in failed.message


# --- a web server ---------------------------------------------------------------------------------
class FileServer(JsonHandler):
    files: dict[str, tuple[bytes, float]] = {}
    requests: list[str] = []

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        self.requests.append(f"{self.command} {self.path}")
        path = self.path.split("?")[0].lstrip("/")
        if path == "moved.csv":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == "" or path.endswith("/"):
            links = "".join(f'<a href="/{name}">{name}</a>' for name in self.files
                            if name.startswith(path) and "/" not in name[len(path):])
            data = f"<html><body>{links}</body></html>".encode()
            self._send(200, data, "text/html", None, body)
            return
        if path not in self.files:
            self._send(404, b"not found", "text/plain", None, body)
            return
        data, mtime = self.files[path]
        ranged = self.headers.get("Range")
        if ranged:
            start_text, end_text = ranged.removeprefix("bytes=").split("-")
            start = int(start_text)
            end = min(int(end_text) if end_text else len(data) - 1, len(data) - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            chunk = data[start:end + 1]
            self.send_header("Content-Length", str(len(chunk)))
            self.send_header("Last-Modified", formatdate(mtime, usegmt=True))
            self.end_headers()
            if body:
                self.wfile.write(chunk)
            return
        self._send(200, data, "application/octet-stream", mtime, body)

    def _send(self, status: int, data: bytes, kind: str, mtime: float | None,
              body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        if mtime is not None:
            self.send_header("Last-Modified", formatdate(mtime, usegmt=True))
        self.end_headers()
        if body:
            self.wfile.write(data)


@pytest.fixture
def web() -> Iterator[str]:
    FileServer.files = {
        "data/ventes.csv": (LATIN1_CSV, 1_700_000_000),
        "data/more.csv": ("nom;ville;montant\nAnaïs;Nîmes;3\n".encode("latin-1"),
                          1_700_000_100),
        "moved.csv": (b"", 1_700_000_000),
    }
    FileServer.requests = []
    with serve(FileServer) as url:
        yield url


def test_https_like_files_are_read_by_glob_with_their_modification_times(web: str) -> None:
    ctx = _ctx(FilesConnection(url=f"{web}/data"), url_allowlist=["127.0.0.1"])
    table = _run(ctx, path="*.csv")
    assert sorted(table["nom"]) == ["Anaïs", "José", "Renée"]
    assert table["_modified"].max() == pd.Timestamp(1_700_000_100, unit="s", tz="UTC")


def test_a_web_server_redirect_is_refused(web: str) -> None:
    ctx = _ctx(FilesConnection(url=web), url_allowlist=["127.0.0.1"])
    with pytest.raises(OperatorError, match="redirect"):
        _run(ctx, path="moved.csv")
    assert not any("169.254" in r for r in FileServer.requests)


def test_a_private_address_is_refused_without_the_allowlist_and_nothing_is_sent(
        web: str) -> None:
    web_ctx = _ctx(FilesConnection(url=f"{web}/data"))
    with pytest.raises(OperatorError, match="private"):
        _run(web_ctx, path="*.csv")
    # An S3 endpoint on a private address likewise, before any request.
    s3_ctx = _ctx(FilesConnection(url="s3://bucket/x", endpoint_url=web, key="k",
                                  secret=SecretStr("s")))
    with pytest.raises(OperatorError, match="private") as caught:
        _run(s3_ctx, path="*.csv")
    assert caught.value.field == "endpoint_url"
    assert FileServer.requests == []
    refused = check_connection(s3_ctx.connections["f"], url_allowlist=[],  # type: ignore[arg-type]
                               sqlite_root=None)
    assert not refused.ok and "private" in refused.message
    assert FileServer.requests == []


def test_gcs_without_gcsfs_says_what_to_install() -> None:
    pytest.importorskip("s3fs")
    try:
        import gcsfs  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        ctx = _ctx(FilesConnection(url="gs://bucket/folder"))
        with pytest.raises(OperatorError, match="install gcsfs"):
            _run(ctx, path="*.csv")
    else:
        pytest.skip("gcsfs is installed")


# --- the server's settings -----------------------------------------------------------------------
def _files_root(root: str | None) -> Any:
    from django.conf import settings
    from django.test import override_settings

    return override_settings(DATAGRAN={**settings.DATAGRAN, "FILES_ROOT": root or "off"})


@pytest.mark.django_db
def test_the_test_button_lists_a_folder_of_the_files_root(api: Any, root: Path) -> None:
    (root / "exports" / "a.csv").write_text("x\n1\n")
    with _files_root(str(root)):
        created = api.post("/api/connections/", {"name": "exports", "kind": "files",
                                                 "fields": {"url": "exports"}}, format="json")
        assert created.status_code == 201
        answer = api.post(f"/api/connections/{created.json()['id']}/test/").json()
        assert answer == {"ok": True, "message": "Listed the server's files folder: 1 files "
                                                 "(a.csv)."}
    with _files_root(None):
        answer = api.post(f"/api/connections/{created.json()['id']}/test/").json()
        assert answer["ok"] is False and "DATAGRAN_FILES_ROOT" in answer["message"]


def test_the_files_root_may_not_hold_the_apps_files(tmp_path: Path) -> None:
    from django.conf import settings

    from datagran.connections.sql_settings import files_root_check

    for unsafe in (settings.DATA_DIR, settings.BASE_DIR, Path("/"),
                   Path(settings.DATAGRAN["ARTIFACTS_URL"]) / "files"):
        with _files_root(str(unsafe)):
            assert [e.id for e in files_root_check(None)] == ["datagran.E111"], unsafe
    for safe in (None, str(tmp_path), str(Path(settings.DATA_DIR) / "files")):
        with _files_root(safe):
            assert files_root_check(None) == []


@pytest.mark.django_db
def test_an_upload_and_the_files_source_read_the_same_csv_alike(api: Any, root: Path) -> None:
    # One way of detecting: a one-column file (no delimiter on its header line), and a
    # latin-1 file with semicolons.
    for name, data in (("names.csv", b"name\nbob\nann\n"), ("ventes.csv", LATIN1_CSV)):
        (root / "exports" / name).write_bytes(data)
        read = _run(_local(root), path=name).drop(columns=["_file", "_modified"])
        file = io.BytesIO(data)
        file.name = name
        uploaded = api.post("/api/datasets/", {"file": file}, format="multipart").json()
        assert [c["name"] for c in uploaded["columns"]] == list(read.columns), name
        assert uploaded["row_count"] == len(read)


def test_every_connection_dials_a_checked_address_dns_rebinding(
        web: str, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """rebind.test answers 127.0.0.1 (allow-listed) to the check before anything is sent,
    then 127.0.0.2: the storage clients resolve through the same check, so they refuse
    instead of connecting where the check never looked."""
    from tests.security.test_ssrf import Rebinding

    port = web.rsplit(":", 1)[1]
    monkeypatch.setattr(socket, "getaddrinfo", Rebinding("127.0.0.1", "127.0.0.2"))
    ctx = _ctx(FilesConnection(url=f"http://rebind.test:{port}/data"),
               url_allowlist=["127.0.0.1/32"])
    with pytest.raises(OperatorError, match="127.0.0.2, a private"):
        _run(ctx, path="*.csv")
    assert FileServer.requests == []

    moto_port = s3_server.endpoint.rsplit(":", 1)[1]
    monkeypatch.setattr(socket, "getaddrinfo", Rebinding("127.0.0.1", "127.0.0.2"))
    s3 = _ctx(FilesConnection(url=f"s3://{s3_server.bucket}/h4-files/parquet",
                              endpoint_url=f"http://rebind.test:{moto_port}", key=s3_server.key,
                              secret=SecretStr(s3_server.secret)),
              url_allowlist=["127.0.0.1/32"])
    with pytest.raises(OperatorError, match="127.0.0.2, a private"):
        _run(s3, path="*.parquet")


def test_an_unreachable_storage_is_a_passing_fault() -> None:
    for conn in (FilesConnection(url="s3://bucket/x", endpoint_url="http://127.0.0.1:9",
                                 key="k", secret=SecretStr("s")),
                 FilesConnection(url="http://127.0.0.1:9/data")):
        ctx = _ctx(conn, url_allowlist=["127.0.0.1"])
        with pytest.raises(RetryableError, match="cannot reach"):
            _run(ctx, path="*.csv")
        assert ctx.source_reports == []


def test_a_zip_holding_one_file_is_read_and_one_holding_several_is_refused(root: Path
                                                                          ) -> None:
    folder = root / "exports"
    import zipfile

    with zipfile.ZipFile(folder / "one.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("inner/ventes.csv", LATIN1_CSV)
    with zipfile.ZipFile(folder / "two.zip", "w") as archive:
        archive.writestr("a.csv", "x\n1\n")
        archive.writestr("b.csv", "x\n2\n")
    ctx = _local(root)
    assert _run(ctx, path="one.zip")["ville"].tolist() == ["Zürich", "Orléans"]
    with pytest.raises(OperatorError, match="holds 2 files"):
        _run(ctx, path="two.zip")


def test_the_file_picker_lists_a_web_folder(web: str) -> None:
    ctx = _ctx(FilesConnection(url=f"{web}/data"), url_allowlist=["127.0.0.1"])
    assert OP.options(ctx, {"connection": "f"}, "path") == ["more.csv", "ventes.csv"]
