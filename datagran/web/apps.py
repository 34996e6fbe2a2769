from django.apps import AppConfig


class WebConfig(AppConfig):
    """The browser app: the single-page canvas shell and the sign-in pages."""

    name = "datagran.web"
    label = "web"
    verbose_name = "Datagran web app"
