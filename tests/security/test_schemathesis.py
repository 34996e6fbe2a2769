"""schemathesis against the OpenAPI schema of a live server: a bounded number of generated
requests to every operation, and not one answered with a server error (500)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live.server import LiveServer

pytestmark = pytest.mark.services


def test_generated_requests_never_get_a_server_error() -> None:
    st = Path(sys.executable).with_name("st")
    with LiveServer(mode="embedded") as server:
        done = subprocess.run(
            [str(st), "run", f"{server.base_url}/api/schema/", "-H",
             f"Authorization: Token {server.token}", "--checks", "not_a_server_error",
             "--max-examples", "4", "--seed", "1", "--request-timeout", "30",
             "--phases", "examples,coverage,fuzzing"],
            capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    generated = [int(n) for n in re.findall(r"(\d+) generated, \d+ passed", output)]
    assert generated and max(generated) > 100, output[-2000:]  # it really exercised the API
