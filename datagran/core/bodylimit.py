"""Request bodies are judged by their headers before they are read.

daphne (on Twisted) reads a whole request body before it starts the application, then puts
every chunk of it on the application's queue at once, and Django copies it again: an
anonymous 300 MiB POST held 3.6 GB before its 401. Here daphne's request class decides as
soon as the headers are in, before a byte of the body is read:

- a body larger than its route's limit (by Content-Length, or by the bytes counted so far
  for a chunked body) is answered 413 naming the limit and its setting;
- a body without credentials (no Authorization header, no session cookie) to a route that
  needs them is answered 401; with credentials, a body larger than a login form's waits
  (the connection paused) until they are checked, and is answered 401 if they are not valid;
- an accepted body stays in Twisted's file (on disk past 100 KB) and is handed to Django
  as the request's body file: nothing copies it into memory (Twisted's own parsing of form
  bodies into request.args, a whole copy and more, is skipped).

`install()` (called by datagran/asgi.py before daphne builds its server) puts this class in
daphne's place."""
from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

from daphne import http_protocol, server
from twisted.internet import threads

from operators.errors import DatagranError, FieldError, PermanentError, RetryableError

BODY_FILE = "datagran.body_file"  # the scope extension carrying the body file
# A login or sign-up form, a webhook's payload: what a request without credentials may send.
ANONYMOUS_MAX_BYTES = 64 * 1024
# Multipart framing and form fields around an uploaded file.
MULTIPART_SLACK_BYTES = 1024 * 1024
# After a refusal, the rest of a body is read and thrown away up to this much, so that a
# client still sending sees the answer rather than a reset connection; then it is closed.
DRAIN_MAX_BYTES = 16 * 1024 * 1024
UPLOAD_PATHS = ("/api/datasets/", "/api/models/import/")
PUBLIC_PREFIXES = ("/api/hooks/", "/accounts/", "/admin/login/")
ERR_TOO_LARGE = ("The request body is {size} bytes; the limit for {path} is {limit:,} bytes "
                 "({setting}).")
ERR_LIMIT = "at most {limit:,} bytes"
ERR_UNAUTHENTICATED = "Authentication credentials were not provided or are not valid."
ERR_UNCHECKED = "The credentials could not be checked; try again."


def route_limit(path: str) -> tuple[int, str]:
    """The largest body a route takes, and the setting that sets it."""
    from django.conf import settings

    if path in UPLOAD_PATHS:
        return (settings.DATAGRAN["UPLOAD_MAX_BYTES"] + MULTIPART_SLACK_BYTES,
                "DATAGRAN_UPLOAD_MAX_BYTES")
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE, "DATAGRAN_REQUEST_MAX_BYTES"


def credentials_valid(authorization: bytes | None, session_key: bytes | None) -> bool:
    """Whether a token or a session cookie names an active user (run in a thread: it
    queries the database)."""
    from django.conf import settings
    from django.contrib.auth import SESSION_KEY
    from django.db import connections
    from rest_framework.exceptions import AuthenticationFailed

    from datagran.workspaces.authentication import ApiTokenAuthentication

    try:
        scheme, _, key = (authorization or b"").decode("latin-1").partition(" ")
        if scheme.lower() == "token" and key.strip():
            try:
                # The API's own check: a personal token or a DRF one, of an active user.
                ApiTokenAuthentication().authenticate_credentials(key.strip())
                return True
            except AuthenticationFailed:
                return False
        if session_key:
            from importlib import import_module

            store = import_module(settings.SESSION_ENGINE).SessionStore
            return store(session_key.decode("latin-1")).get(SESSION_KEY) is not None
        return False
    finally:
        connections.close_all()  # this thread's connections go back (to the pool)


class GuardedRequest(http_protocol.WebRequest):
    refused = False
    counted = 0
    limit = 0
    body_file: Any = None

    def gotLength(self, length: int | None) -> None:  # noqa: N802 - Twisted's name
        super().gotLength(length)
        path = (getattr(self.channel, "_path", b"") or b"").split(b"?", 1)[0]
        self.path_text = path.decode("latin-1")
        self.limit, self.setting = route_limit(self.path_text)
        if length == 0:
            return None
        from django.conf import settings

        authorization = self.requestHeaders.getRawHeaders(b"Authorization", [None])[0]
        session = self.received_cookies.get(settings.SESSION_COOKIE_NAME.encode())
        public = self.path_text.startswith(PUBLIC_PREFIXES)
        if not public and not authorization and not session:
            return self.refuse(401, "Unauthorized", PermanentError(ERR_UNAUTHENTICATED),
                               [("WWW-Authenticate", "Token")])
        if length is not None and length > self.limit:
            return self.refuse_size(length)
        if not public and (length is None or length > ANONYMOUS_MAX_BYTES):
            self.check_credentials(authorization, session)
        return None

    def check_credentials(self, authorization: bytes | None, session: bytes | None) -> None:
        """Read no more of the body until the credentials are known to be good."""
        producer = self.channel._networkProducer
        producer.pauseProducing()

        def checked(ok: bool) -> None:
            if self.refused or self.channel is None:
                return
            if ok:
                producer.resumeProducing()
            else:
                self.refuse(401, "Unauthorized", PermanentError(ERR_UNAUTHENTICATED),
                            [("WWW-Authenticate", "Token")])

        def failed(_: Any) -> None:
            if not self.refused and self.channel is not None:
                self.refuse(503, "Service Unavailable", RetryableError(ERR_UNCHECKED))

        threads.deferToThread(credentials_valid, authorization, session).addCallbacks(
            checked, failed)

    def handleContentChunk(self, data: bytes) -> None:  # noqa: N802 - Twisted's name
        self.counted += len(data)
        if self.refused:
            if self.counted > DRAIN_MAX_BYTES and self.channel is not None:
                self.channel.transport.loseConnection()
            return
        if self.counted > self.limit:
            self.refuse_size(f"more than {self.limit:,}")
            return
        super().handleContentChunk(data)

    def refuse_size(self, size: int | str) -> None:
        size_text = f"{size:,}" if isinstance(size, int) else size
        message = ERR_TOO_LARGE.format(size=size_text, path=self.path_text, limit=self.limit,
                                       setting=self.setting)
        self.refuse(413, "Content Too Large",
                    FieldError(message, {self.setting: [ERR_LIMIT.format(limit=self.limit)]}))

    def refuse(self, status: int, reason: str, error: DatagranError,
               headers: Sequence[tuple[str, str]] = ()) -> None:
        """Answer at once, without the application, and read no more of the body."""
        self.refused = True
        self.counted = 0
        self.content = io.BytesIO()
        body = json.dumps(error.as_body()).encode()
        head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json",
                f"Content-Length: {len(body)}", "Connection: close",
                *(f"{name}: {value}" for name, value in headers)]
        transport = self.channel.transport
        transport.write("\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + body)
        self.channel._networkProducer.resumeProducing()  # drain the rest, then close

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:  # noqa: N802
        # Twisted would read a form or multipart body whole into memory and parse it into
        # request.args (which nothing here uses): it sees an empty body instead. The
        # application reads the body from Twisted's file; daphne queues none of it.
        self.body_file, self.content = self.content, io.BytesIO()
        self.body_file.seek(0)
        super().requestReceived(command, path, version)  # calls process()

    def process(self) -> Any:
        if self.refused:
            if self.channel is not None:
                self.channel.transport.loseConnection()
            return None
        return super().process()


def _create_application(self: server.Server, protocol: Any, scope: dict[str, Any]) -> Any:
    body = getattr(protocol, "body_file", None)
    if body is not None:
        scope["extensions"] = {**(scope.get("extensions") or {}), BODY_FILE: body}
    return _daphne_create_application(self, protocol, scope)


_daphne_create_application = server.Server.create_application


def install() -> None:
    """Serve requests with GuardedRequest (daphne's HTTPFactory reads the module's name)."""
    http_protocol.WebRequest = GuardedRequest
    server.Server.create_application = _create_application
