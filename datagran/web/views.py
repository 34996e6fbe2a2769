"""Views that serve the browser app.

The React app (frontend/, built by Vite, loaded through django-vite) routes on the client:
``/`` lists pipelines and ``/pipelines/<id>`` opens the editor. Every such path gets the same
HTML shell; the data comes from the JSON API.
"""
from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe
from django.views.generic import FormView


@require_safe
@login_required
@ensure_csrf_cookie
def app_shell(request: HttpRequest, path: str = "") -> HttpResponse:
    boot = {
        "user": {"username": request.user.get_username()},
        "csrfToken": get_token(request),
    }
    response = render(request, "app.html", {"boot": boot})
    # The shell names hashed assets from the current build: never serve a stale copy.
    response["Cache-Control"] = "no-cache"
    return response


class SignUpView(FormView):
    """Create an account (the personal workspace comes with it) and sign in."""

    template_name = "registration/signup.html"
    form_class = UserCreationForm
    success_url = "/"

    def form_valid(self, form: UserCreationForm) -> HttpResponse:
        user = form.save()
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        return super().form_valid(form)
