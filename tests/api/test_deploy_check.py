"""`manage.py check --deploy` passes with the production settings the README documents."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # starts Django in a subprocess
def test_check_deploy_passes_with_production_settings(tmp_path) -> None:
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50),
           "DATAGRAN_HTTPS": "1", "DATAGRAN_TRUSTED_PROXIES": "1",
           "ALLOWED_HOSTS": "datagran.example.com",
           "BROKER_URL": "redis://127.0.0.1:6379/0", "DATAGRAN_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy",
                           "--fail-level", "WARNING"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow  # starts Django in a subprocess
def test_check_deploy_flags_the_embedded_defaults(tmp_path) -> None:
    env = {**os.environ, "DATAGRAN_DATA_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy",
                           "--fail-level", "WARNING"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0 and "SECRET_KEY" in done.stderr + done.stdout
