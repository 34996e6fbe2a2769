from django.urls import path

from .consumers import RunConsumer, WorkspaceConsumer

websocket_urlpatterns = [
    path("ws/runs/<uuid:run_id>/", RunConsumer.as_asgi()),
    path("ws/workspaces/<uuid:workspace_id>/", WorkspaceConsumer.as_asgi()),
]
