"""A source node's overhead over dlt (issue 17): one million records over 10,000 pages (100 a
page, cursor pagination) from a local fake API, read

* through Datagran's HubSpot source node (``connector.hubspot``: RestSource.run, the checked
  HTTP session, dlt's ``rest_api`` resource, ``_dlt.load``: chunks, typed columns, the
  incremental cursor, the accumulated table kept and the run report), in a LocalContext whose
  table store writes Parquet as the artifact store does;
* by the same dlt ``rest_api`` source (same endpoint, paginator and incremental cursor) in a
  plain script that writes the records to Parquet in chunks of 10,000 (the baseline).

The fake API speaks HubSpot's CRM search format (POST /crm/v3/objects/contacts/search with
the ``after`` cursor; its pages are built before anything is timed) and runs in a process of
its own; each side runs in a process of its own too, so its peak memory (max RSS) is its own.
Prints the wall time of each, the ratio (target 1.2x) and the peak memory of each (target
under 500 MB for the million records). Medians of REPEAT runs."""
from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from memory import peak_mb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RECORDS = int(os.environ.get("BENCH_SOURCE_RECORDS", "1000000"))
PAGE = 100
REPEAT = int(os.environ.get("BENCH_SOURCE_REPEAT", "3"))
CHUNK = 10_000
TOKEN = "bench-token"
PATH = "/crm/v3/objects/contacts/search"
PROPERTIES = ["email", "firstname", "lastname", "lifecyclestage", "num_notes"]
START = 1_700_000_000_000  # ms: the first record's last-modified time


# --- the fake API (its own process) ----------------------------------------------------------
def _page(after: int) -> bytes:
    def iso(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] \
            + "Z"

    names = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo"]
    stages = ["subscriber", "lead", "opportunity", "customer"]
    results = [{"id": str(i), "createdAt": iso(START + i * 500),
                "updatedAt": iso(START + i * 1000), "archived": False,
                "properties": {"email": f"contact_{i:07d}@example.com",
                               "firstname": names[i % 10], "lastname": f"Family{i % 997}",
                               "lifecyclestage": stages[i % 4], "num_notes": str(i % 13)}}
               for i in range(after + 1, min(after + PAGE, RECORDS) + 1)]
    answer: dict[str, Any] = {"total": RECORDS, "results": results}
    if after + PAGE < RECORDS:
        answer["paging"] = {"next": {"after": str(after + PAGE)}}
    return json.dumps(answer).encode()


def serve() -> None:
    pages = {after: _page(after) for after in range(0, RECORDS, PAGE)}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as an API server has it

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle's algorithm holds
            # the body until the client's delayed ACK (40 ms a page).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            if self.path != PATH or self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_response(401 if self.path == PATH else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = pages.get(int(body.get("after") or 0), b'{"results": []}')
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_port, flush=True)
    server.serve_forever()


# --- the two sides (each its own process) ----------------------------------------------------

def plain(url: str, out: Path) -> dict[str, Any]:
    """dlt's rest_api source as a plain script uses it: iterate the resource, write Parquet
    in chunks."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from dlt.sources.rest_api import rest_api_resources

    def epoch_ms(value: Any) -> str:
        return str(int(datetime.fromisoformat(str(value).replace("Z", "+00:00"))
                       .timestamp() * 1000))

    base = peak_mb()
    t = time.perf_counter()
    config: Any = {
        "client": {"base_url": url, "auth": {"type": "bearer", "token": TOKEN},
                   "paginator": {"type": "cursor", "cursor_path": "paging.next.after",
                                 "cursor_body_path": "after"}},
        "resources": [{"name": "contacts", "primary_key": ["id"], "endpoint": {
            "path": PATH, "method": "POST", "data_selector": "results",
            "json": {"limit": PAGE, "properties": PROPERTIES,
                     "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
                     "filterGroups": [{"filters": [{"propertyName": "lastmodifieddate",
                                                    "operator": "GTE",
                                                    "value": "{incremental.start_value}"}]}]},
            "incremental": {"cursor_path": "updatedAt", "initial_value": "1970-01-01T00:00:00Z",
                            "range_start": "closed", "convert": epoch_ms}}}],
        "resource_defaults": {"max_table_nesting": 0}}
    rows = 0
    writer = None
    batch: list[dict[str, Any]] = []
    for page in rest_api_resources(config)[0]:
        batch.extend(page if isinstance(page, list) else [page])
        if len(batch) >= CHUNK:
            table = pa.Table.from_pylist(batch)
            writer = writer or pq.ParquetWriter(out, table.schema)
            writer.write_table(table)
            rows += len(batch)
            batch = []
    if batch:
        table = pa.Table.from_pylist(batch)
        writer = writer or pq.ParquetWriter(out, table.schema)
        writer.write_table(table)
        rows += len(batch)
    if writer is not None:
        writer.close()
    return {"seconds": time.perf_counter() - t, "rows": rows, "base_mb": base}


def datagran(url: str, out: Path) -> dict[str, Any]:
    """The HubSpot source node, run as the engine runs it, in a LocalContext whose table store
    writes Parquet as the artifact store does (uncompressed, text dictionary-encoded)."""
    sys.path.insert(0, str(ROOT))
    import hashlib

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pydantic import SecretStr

    from operators import LocalContext
    from operators.connections import HubSpotConnection
    from operators.connectors.hubspot import HubSpotSource

    def write(df: pd.DataFrame) -> str:
        table = pa.Table.from_pandas(df, preserve_index=False)
        pq.write_table(table, out, compression="none", write_statistics=False,
                       use_dictionary=[f.name for f in table.schema
                                       if pa.types.is_string(f.type)
                                       or pa.types.is_large_string(f.type)])
        digest = hashlib.sha256()
        with out.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    class Store(LocalContext):
        """Tables go to Parquet, not into memory; the node's output, the same table as the
        accumulated one on a first run, is written once (the artifact store's memo)."""

        written: Any = None

        def put_table(self, df: pd.DataFrame) -> str:
            self.written = df
            return write(df)

    # The node's class, not the whole catalogue a worker loads (scikit-learn and the rest:
    # memory that is not the source's), nor the time to import it.
    op = HubSpotSource()
    base = peak_mb()
    t = time.perf_counter()
    ctx = Store(connections={"hs": HubSpotConnection(base_url=url,
                                                     access_token=SecretStr(TOKEN))},
                url_allowlist=["127.0.0.1"])
    params = op.parse_params({"connection": "hs", "resource": "contacts",
                              "properties": PROPERTIES})
    table = op.run(ctx, params)["table"]
    if table is not ctx.written:
        write(table)
    report = ctx.source_reports[-1]
    assert report["pages"] == -(-RECORDS // PAGE), report
    return {"seconds": time.perf_counter() - t, "rows": len(table), "base_mb": base}


# --- the comparison --------------------------------------------------------------------------
def side(name: str, url: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, name, url], check=True,
                         capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    server = subprocess.Popen([sys.executable, __file__, "serve"], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        runs: dict[str, list[dict[str, Any]]] = {"plain": [], "datagran": []}
        for _ in range(REPEAT):  # alternating, so neither side gets the quieter moments
            for name in runs:
                runs[name].append(side(name, url))
    finally:
        server.terminate()
        server.wait()
    for name, results in runs.items():
        assert all(r["rows"] == RECORDS for r in results), (name, results)
    base = statistics.median(r["seconds"] for r in runs["plain"])
    ours = statistics.median(r["seconds"] for r in runs["datagran"])
    base_mb = max(r["peak_mb"] for r in runs["plain"])
    ours_mb = max(r["peak_mb"] for r in runs["datagran"])
    base_own = max(r["peak_mb"] - r["base_mb"] for r in runs["plain"])
    ours_own = max(r["peak_mb"] - r["base_mb"] for r in runs["datagran"])
    print(f"{RECORDS:,} records over {-(-RECORDS // PAGE):,} pages of {PAGE} (cursor "
          f"pagination, HubSpot's search format), a local fake API; median of {REPEAT}")
    print(f"  dlt rest_api, plain script → Parquet in chunks   {base:7.2f} s   peak "
          f"{base_mb:6.0f} MB ({base_own:4.0f} MB over the process before the read)")
    print(f"  Datagran HubSpot source node (connector.hubspot) {ours:7.2f} s   peak "
          f"{ours_mb:6.0f} MB ({ours_own:4.0f} MB over the process before the read; "
          "target under 500 MB)")
    print(f"  overhead ratio                                   {ours / base:7.2f}x "
          "(target 1.2x)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve()
    elif sys.argv[1:2] in (["plain"], ["datagran"]):
        with tempfile.TemporaryDirectory(prefix="datagran-bench-sources-") as folder:
            measure = plain if sys.argv[1] == "plain" else datagran
            figures = measure(sys.argv[2], Path(folder) / "out.parquet")
        print(json.dumps({**figures, "peak_mb": peak_mb()}))
    else:
        main()
