"""Encryption of connection secrets at rest (Fernet). Keys come from DATAGRAN_SECRET_KEYS
(comma-separated Fernet keys: the first encrypts, all decrypt, so keys can be rotated with
`manage.py rotate_secrets`). Without it, the embedded default derives a key from SECRET_KEY."""
from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

# Until the embedded default kept a random key in DATA_DIR/secret_key, it derived the key
# from this public SECRET_KEY: secrets stored then still decrypt there, and `manage.py
# rotate_secrets` re-encrypts them with the kept key.
LEGACY_EMBEDDED_SECRET_KEY = "insecure-embedded-default-key-set-SECRET_KEY-in-production"


def _keys() -> list[bytes]:
    configured = [k.strip() for k in settings.DATAGRAN["SECRET_KEYS"].split(",") if k.strip()]
    if configured:
        return [k.encode() for k in configured]
    secret_keys = [settings.SECRET_KEY]
    if not settings.SECRET_KEY_FROM_ENV:
        secret_keys.append(LEGACY_EMBEDDED_SECRET_KEY)
    return [base64.urlsafe_b64encode(hashlib.sha256(
        ("datagran-connections:" + key).encode()).digest()) for key in secret_keys]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k) for k in _keys()])


def encrypt(secrets: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ValueError("The connection's secrets cannot be decrypted with the configured "
                         "DATAGRAN_SECRET_KEYS.") from None


def rotate(token: str) -> str:
    """Re-encrypt with the first (newest) key."""
    return _fernet().rotate(token.encode()).decode() if token else token
