"""Settings from the environment: a bad value stops every process at start-up naming its
variable; the embedded default keeps a random SECRET_KEY of its own; production without one
fails the deploy check. Each start is a real `django.setup()` in a fresh process."""
from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETUP = "import django; django.setup()"


def start(tmp_path: Path, code: str = SETUP, *args: str,
          **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DATAGRAN_", "SECRET_KEY", "DATABASE_URL", "BROKER_URL"))}
    command = [sys.executable, *args] if args else [sys.executable, "-c", code]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**clean, "DJANGO_SETTINGS_MODULE": "datagran.settings",
                               "DATAGRAN_DATA_DIR": str(tmp_path), **env})


@pytest.mark.slow  # starts Django in a subprocess per value
@pytest.mark.parametrize(("variable", "value"), [
    ("DATAGRAN_HTTPS", "ture"),
    ("DATAGRAN_SIGNUP", "of"),
    ("DATAGRAN_PREDICT_RATE", "6000/fortnight"),
    ("DATAGRAN_PREDICT_RATE", "lots/min"),
    ("DATAGRAN_PREDICT_RATE", "0/min"),
    ("DATAGRAN_LOGIN_FAILURES_LIMIT", "ten"),
    ("DATAGRAN_LOGIN_FAILURES_LIMIT", "0"),
    ("DATAGRAN_TRUSTED_PROXIES", "the-load-balancer"),
    ("DATAGRAN_WORKER_THREADS", "four"),
    ("DATAGRAN_HEARTBEAT_SECONDS", "nan"),
    ("DATAGRAN_OPERATOR_MODULES", "acme_plugins.no_such_module"),
])
def test_a_bad_value_stops_the_start_naming_the_variable(tmp_path, variable, value) -> None:
    done = start(tmp_path, **{variable: value})
    last = done.stderr.strip().splitlines()[-1]
    print(last)
    assert done.returncode != 0
    assert last.startswith(("django.core.exceptions.ImproperlyConfigured:", "ImportError:"))
    assert variable in last and repr(value) in last


@pytest.mark.slow  # starts Django in a subprocess
def test_good_values_are_read_once_at_start(tmp_path) -> None:
    done = start(tmp_path, SETUP + "; from django.conf import settings as s; d = s.DATAGRAN; "
                 "print(s.SECURE_SSL_REDIRECT, d['SIGNUP'], d['PREDICT_RATE'], "
                 "d['LOGIN_FAILURES_LIMIT'], d['TRUSTED_PROXIES'])",
                 DATAGRAN_HTTPS="Yes", DATAGRAN_SIGNUP="off", DATAGRAN_PREDICT_RATE="100/s",
                 DATAGRAN_LOGIN_FAILURES_LIMIT="5", DATAGRAN_TRUSTED_PROXIES="2",
                 DATAGRAN_OPERATOR_MODULES="tests.plugins.faults")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "100/s", "5", "2"]


def test_the_embedded_default_makes_a_random_secret_key_once_and_keeps_it(tmp_path) -> None:
    from datagran.connections.crypto import LEGACY_EMBEDDED_SECRET_KEY

    show = "from django.conf import settings; print(settings.SECRET_KEY)"  # settings only
    first, second = (start(tmp_path, show).stdout.strip() for _ in range(2))
    kept = tmp_path / "secret_key"
    assert first == second == kept.read_text().strip()
    assert len(first) >= 50 and first != LEGACY_EMBEDDED_SECRET_KEY
    assert kept.stat().st_mode & 0o777 == 0o600
    assert start(tmp_path.parent / "elsewhere", show).stdout.strip() != first


@pytest.mark.slow  # starts Django in a subprocess
def test_production_without_a_secret_key_fails_the_deploy_check(tmp_path, settings) -> None:
    from datagran.core.checks import SECRET_KEY_NOT_SET, secret_key_check

    without = start(tmp_path, "", "manage.py", "check", "--deploy")
    assert without.returncode != 0
    assert "datagran.E004" in without.stderr and SECRET_KEY_NOT_SET[:40] in without.stderr
    settings.SECRET_KEY_FROM_ENV = True
    assert secret_key_check(None) == []


@pytest.mark.django_db
def test_secrets_stored_under_the_old_public_key_still_decrypt_in_the_embedded_default(
        settings) -> None:
    from cryptography.fernet import Fernet

    from datagran.connections import crypto

    settings.SECRET_KEY_FROM_ENV = False
    settings.DATAGRAN = {**settings.DATAGRAN, "SECRET_KEYS": ""}
    # The key is derived from the kept SECRET_KEY first, the public one after.
    assert crypto._keys()[0] == base64.urlsafe_b64encode(hashlib.sha256(
        ("datagran-connections:" + settings.SECRET_KEY).encode()).digest())
    old = Fernet(base64.urlsafe_b64encode(hashlib.sha256(
        ("datagran-connections:" + crypto.LEGACY_EMBEDDED_SECRET_KEY).encode()).digest()))
    stored = old.encrypt(b'{"password": "kept"}').decode()
    assert crypto.decrypt(stored) == {"password": "kept"}
    rotated = crypto.rotate(stored)  # manage.py rotate_secrets: now under the kept key
    with pytest.raises(Exception):  # noqa: B017, PT011 - InvalidToken
        old.decrypt(rotated.encode())
    settings.SECRET_KEY_FROM_ENV = True  # a production key set: the public one is not tried
    with pytest.raises(ValueError, match="cannot be decrypted"):
        crypto.decrypt(stored)


def test_the_deploy_check_warns_behind_https_without_trusted_proxies(settings) -> None:
    from datagran.core.checks import trusted_proxies_check

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # DATAGRAN_HTTPS=1
    settings.DATAGRAN = {**settings.DATAGRAN, "TRUSTED_PROXIES": 0}
    assert [w.id for w in trusted_proxies_check(None)] == ["datagran.W005"]
    settings.DATAGRAN = {**settings.DATAGRAN, "TRUSTED_PROXIES": 1}
    assert trusted_proxies_check(None) == []
