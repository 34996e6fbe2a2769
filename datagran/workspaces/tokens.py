"""Personal API tokens: ``Authorization: Token <key>`` for scripts and other programs. Each
user makes named ones in the browser (Settings → API tokens), sees a key once, and may revoke
it. The database keeps only the key's SHA-256 and its first characters. DRF's single token
per user (``rest_framework.authtoken``) is still accepted, so older keys keep working."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.authtoken.models import Token

from datagran.core.exceptions import Conflict, FieldError, NotFound

from .models import ApiToken

KEY_PREFIX = "dgp_"  # tells a personal key from a DRF one (40 hex digits) at a glance
SHOWN_PREFIX = 12  # characters of the key kept to tell tokens apart in the list
NAME_MAX = 100
ACTIVE_MAX = 50
LAST_USED_EVERY = timedelta(minutes=1)  # a busy token writes its last use once a minute
ERR_NAME = "name: give the token a name (up to 100 characters), e.g. what will use it."
ERR_TOO_MANY = ("You have 50 active API tokens: revoke one you no longer use before making "
                "another.")
ERR_NOT_FOUND = "No such API token."


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_list(*, user: AbstractBaseUser) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """A new token and its key (returned this once: only its digest is stored)."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise FieldError(ERR_NAME, {"name": ["required, up to 100 characters"]})
    if api_token_list(user=user).filter(revoked_at=None).count() >= ACTIVE_MAX:
        raise Conflict(ERR_TOO_MANY)
    key = KEY_PREFIX + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:SHOWN_PREFIX],
                                    key_hash=_digest(key))
    return token, key


def api_token_revoke(*, user: AbstractBaseUser, token_id: int) -> ApiToken:
    """Revoke one of the user's tokens; another user's is not found."""
    token = api_token_list(user=user).filter(pk=token_id).first() if 0 < token_id < 2**63 \
        else None
    if token is None:
        raise NotFound(ERR_NOT_FOUND, {"id": ["not found"]})
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])  # post_save: serving forgets it at once
    return token


def token_user(key: str) -> tuple[Any, Any] | None:
    """(user, token) a key authenticates as, a personal one or DRF's; None if none, revoked,
    or the user is inactive."""
    if key.startswith(KEY_PREFIX):
        token = (ApiToken.objects.select_related("user")
                 .filter(key_hash=_digest(key), revoked_at=None).first())
        if token is None or not token.user.is_active:
            return None
        now = timezone.now()
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_EVERY:
            # update(), not save(): no post_save, which would empty the serving cache
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token
    legacy = Token.objects.select_related("user").filter(key=key).first()
    if legacy is None or not legacy.user.is_active:
        return None
    return legacy.user, legacy

