from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from datagran.core.ratelimit import throttle_logins

urlpatterns = [
    # The admin's sign-in counts failures with the app's (the same limit and counter).
    path("admin/login/", throttle_logins(admin.site.login)),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's set-up as a script file: no inline script, which
    # the Content-Security-Policy refuses.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("api/", include("datagran.api_urls")),
    path("", include("datagran.web.urls")),
]
