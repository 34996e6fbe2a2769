from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "datagran.workspaces"

    def ready(self) -> None:
        from . import signals  # noqa: F401
