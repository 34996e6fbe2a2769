"""System checks of the artifact store's settings, with stable ids. The always-on check
reads the settings only; the deploy check (`manage.py check --deploy`) reaches the store."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from .storage import URL_SETTING, StorageSettingError, open_storage, redact


@register()
def artifacts_url_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """A URL whose scheme fsspec does not know (or whose package is missing), or options
    that are not a JSON object, fail at start-up rather than at the first node."""
    try:
        open_storage(settings.DATAGRAN["ARTIFACTS_URL"], settings.DATAGRAN["ARTIFACTS_OPTIONS"])
    except StorageSettingError as exc:
        return [Error(exc.message, id="datagran.E020")]
    return []


@register(deploy=True)
def artifacts_reachable_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Writes, reads and deletes one small object: the bucket exists and the credentials
    may do what the store does."""
    from .artifacts import artifact_store

    try:
        artifact_store().check()
    except StorageSettingError as exc:
        return [Error(exc.message, id="datagran.E021")]
    except Exception as exc:  # noqa: BLE001 - an unreachable endpoint, a DNS failure...
        url = redact(settings.DATAGRAN["ARTIFACTS_URL"])
        return [Error(f"{URL_SETTING}: cannot reach {url} ({type(exc).__name__}: {exc}).",
                      id="datagran.E021")]
    return []
