"""The browser app's URLs. Included last in the root URLconf, so the API, websockets,
static files and the admin are matched first; the catch-all below also refuses their
prefixes explicitly, so an unknown ``/api/...`` URL is a 404, not the app shell."""
from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from datagran.core.ratelimit import throttle_logins

from . import views

# Paths that belong to the server, never to the client-side router.
RESERVED = ("api", "ws", "static", "media", "admin", "accounts")
CLIENT_ROUTE = r"^(?!(?:" + "|".join(RESERVED) + r")(?:/|$))(?P<path>[^.]*)$"

urlpatterns = [
    path("accounts/login/", throttle_logins(views.LoginView.as_view()), name="login"),
    path("accounts/signup/", views.SignUpView.as_view(), name="signup"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.app_shell, name="app"),
    re_path(CLIENT_ROUTE, views.app_shell, name="app-route"),
]
