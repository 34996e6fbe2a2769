"""Views that serve the browser app.

The React app (frontend/, built by Vite, loaded through django-vite) routes on the client:
``/`` lists pipelines and ``/pipelines/<id>`` opens the editor. Every such path gets the same
HTML shell; the data comes from the JSON API.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
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


SIGNUP_OFF = ("Sign-up is turned off on this server (DATAGRAN_SIGNUP): ask an administrator "
              "for an account.")


class LoginView(auth_views.LoginView):
    """Django's sign-in (throttled in urls.py), linking to sign-up only where it is on."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs),
                "signup_enabled": settings.DATAGRAN["SIGNUP"]}


class SignUpForm(UserCreationForm):
    def validate_password_for_user(self, user: Any, **kwargs: Any) -> None:
        # AUTH_PASSWORD_VALIDATORS' messages under the password itself, not its confirmation.
        super().validate_password_for_user(user, password_field_name="password1")


class SignUpView(FormView):
    """Create an account (the personal workspace comes with it) and sign in. A refused form
    comes back as a 400 with each field's errors; with DATAGRAN_SIGNUP off, a 403."""

    template_name = "registration/signup.html"
    form_class = SignUpForm
    success_url = "/"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.DATAGRAN["SIGNUP"]:
            return render(request, "registration/signup_off.html", {"message": SIGNUP_OFF},
                          status=403)
        return super().dispatch(request, *args, **kwargs)

    def form_invalid(self, form: SignUpForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form: SignUpForm) -> HttpResponse:
        user = form.save()
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        return super().form_valid(form)
