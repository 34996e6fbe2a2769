"""schemathesis against the OpenAPI schema of a live server: a bounded number of generated
requests to every operation, and not one answered with a server error (500).

The schema describes every request body, so the requests carry real bodies: the coverage
phase sends valid boundary values of every field (its invalid variants of each field are left
to the fuzzing phase, which mixes valid and invalid requests), capped by --max-examples. The
seed is fixed and no examples are kept between runs, so a run repeats the last one."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live.server import LiveServer

pytestmark = pytest.mark.services

BODY_WRITES_DONE = re.compile(
    r'"(POST /api/pipelines/|PUT /api/pipelines/[^/]+/|POST /api/connections/'
    r'|POST /api/workspaces/[^/]+/invitations/)" 20[01] ')
CONFIG = """
[phases.coverage.generation]
mode = "positive"
"""


def test_generated_requests_never_get_a_server_error(tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("st")
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    with LiveServer(mode="embedded") as server:
        done = subprocess.run(
            [str(st), "--config-file", str(config), "run", f"{server.base_url}/api/schema/",
             "-H", f"Authorization: Token {server.token}", "--checks", "not_a_server_error",
             "--max-examples", "4", "--seed", "1", "--generation-database", "none",
             "--request-timeout", "30", "--phases", "examples,coverage,fuzzing"],
            capture_output=True, text=True, timeout=600)
        served = server.log("daphne")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    generated = [int(n) for n in re.findall(r"(\d+) generated, \d+ passed", output)]
    assert generated and max(generated) > 100, output[-2000:]  # it really exercised the API
    # The request bodies are described, so generated ones get through to the API's work:
    # writes that need a body succeed (before, with none in the schema, each was a 400).
    assert BODY_WRITES_DONE.search(served), output[-2000:]
