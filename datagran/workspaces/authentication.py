"""The API's token authentication (REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES). A module of
its own: DRF imports it while its views load, before the error family can be imported."""
from __future__ import annotations

from typing import Any

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class ApiTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``: a personal API token (workspaces.tokens) or a DRF one."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        from .tokens import token_user

        found = token_user(key)
        if found is None:
            raise AuthenticationFailed("Invalid token.")
        return found
