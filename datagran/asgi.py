"""The ASGI application: HTTP through Django, websockets through Channels. With BROKER_URL
unset (the embedded default), the same process also runs the Dramatiq worker threads."""
from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datagran.settings")
django_asgi_app = get_asgi_application()

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
