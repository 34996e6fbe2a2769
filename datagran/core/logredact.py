"""Secrets that travel in URLs (a webhook's token, an invitation's token, ``?token=``) kept
out of the logs: Django's request logging (a logging filter on the console handler) and
daphne's access log (which writes every request line to stdout)."""
from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
# The URL shapes of datagran/api_urls.py that carry a secret in the path.
_PATH_SECRETS = re.compile(r"(/api/hooks/[^/\s?#\"]+/|/api/invitations/)[^/\s?#\"]+")
_QUERY_SECRETS = re.compile(
    r"([?&;][\w.-]*(?:token|secret|password|passwd|key|signature|sig)[\w.-]*=)[^&;\s\"#]*",
    re.IGNORECASE)


def redact(text: str) -> str:
    return _QUERY_SECRETS.sub(rf"\1{REDACTED}", _PATH_SECRETS.sub(rf"\1{REDACTED}", text))


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_access_log_redaction() -> None:
    """Daphne's CLI loads the ASGI application (and so Django) before it makes its access
    logger, whose class has no hook for this: its one writing method is wrapped."""
    from daphne.access import AccessLogGenerator

    write_entry = AccessLogGenerator.write_entry
    if getattr(write_entry, "redacts", False):
        return

    def redacted_write_entry(self, host, date, request, *args: Any, **kwargs: Any):  # noqa: ANN001, ANN202
        return write_entry(self, host, date, redact(request), *args, **kwargs)

    redacted_write_entry.redacts = True  # type: ignore[attr-defined]
    AccessLogGenerator.write_entry = redacted_write_entry
