"""The ASGI application: HTTP through Django, websockets through Channels. With BROKER_URL
unset (the embedded default), the same process also runs the Dramatiq worker threads."""
from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datagran.settings")
django.setup(set_prefix=False)  # what get_asgi_application() does before its handler

from datagran.core import bodylimit  # noqa: E402
from datagran.core.handler import SyncChainASGIHandler  # noqa: E402

bodylimit.install()  # daphne judges a request body by its headers before reading it

# The web server loads models to serve predictions: import skops (1.5 s; other processes
# import it on first use) now rather than in the first prediction after a start.
import skops.io  # noqa: E402, F401

django_asgi_app = SyncChainASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from datagran.core.ws import websocket_stack  # noqa: E402
from datagran.runs.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": websocket_stack(URLRouter(websocket_urlpatterns)),
})

if settings.EMBEDDED_WORKER:
    from datagran.runs.embedded import EmbeddedWorker

    application = EmbeddedWorker(application)
