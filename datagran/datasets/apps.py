from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "datagran.datasets"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
