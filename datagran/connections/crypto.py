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


def _keys() -> list[bytes]:
    configured = [k.strip() for k in settings.DATAGRAN["SECRET_KEYS"].split(",") if k.strip()]
    if configured:
        return [k.encode() for k in configured]
    derived = hashlib.sha256(("datagran-connections:" + settings.SECRET_KEY).encode()).digest()
    return [base64.urlsafe_b64encode(derived)]


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
