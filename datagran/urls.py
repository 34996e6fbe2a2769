from typing import Any

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from datagran.core.ratelimit import throttle_logins


class SchemaFormatNegotiation(DefaultContentNegotiation):
    """``?format=json`` or ``?format=yaml`` picks the schema's format, as drf-spectacular
    documents: the API as a whole turns DRF's ``?format=`` off (URL_FORMAT_OVERRIDE), since
    there it belongs to the download endpoints."""

    def select_renderer(self, request: Request, renderers: list[BaseRenderer],
                        format_suffix: str | None = None) -> Any:
        return super().select_renderer(request, renderers,
                                       format_suffix or request.query_params.get("format"))


class SchemaView(SpectacularAPIView):
    content_negotiation_class = SchemaFormatNegotiation


# A bug's 500 on an API path answers in the API's JSON shape.
handler500 = "datagran.core.exceptions.server_error"

urlpatterns = [
    # The admin's sign-in counts failures with the app's (the same limit and counter).
    path("admin/login/", throttle_logins(admin.site.login)),
    path("admin/", admin.site.urls),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    # The split view serves Swagger UI's set-up as a script file: no inline script, which
    # the Content-Security-Policy refuses.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("api/", include("datagran.api_urls")),
    path("", include("datagran.web.urls")),
]
